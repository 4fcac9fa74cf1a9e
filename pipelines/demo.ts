import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AvroCodec } from '../bus/avro/codec.js';
import { openBus } from '../bus/open.js';
import type { Embedding } from '../bus/records.js';
import { createAutoencoder, UNTRAINED } from '../model/autoencoder.js';
import type { ModelConfig } from '../model/config.js';
import { embedFields, type Embedding as FieldEmbedding } from '../model/embed.js';
import { reconstruct } from '../model/picture.js';
import { loadVersion, readManifest } from '../model/versions.js';
import { analysisPictures } from '../report/pictures.js';
import { renderReport, type AlertPoint, type AnalysisPictures, type LossCurve } from '../report/page.js';
import { fileBusQuiet, readEmbeddings } from '../search/embeddings.js';
import { openShardCatalog } from '../shards/catalog.js';
import type { ShardRow } from '../shards/types.js';
import { createShardWriter } from '../shards/writer.js';
import { formatHour, HOUR_MS } from '../stages/sources/hrrr-archive.js';
import { pictureKey } from '../stages/sinks/publish.js';
import { sampleAnalysis } from '../stages/sources/sample-analyses.js';
import type { StageContext } from '../stages/stage.js';
import { FolderStore } from '../store/folder.js';
import { announcePromotion } from '../training/announce.js';
import { retrain } from '../training/retrain.js';
import { createOutputTopics, runConsumer } from './consume.js';
import { followPromotions } from './follow-promotions.js';
import type { IngestEvent } from './ingest.js';
import { ModelSlot, type ServedModel } from './model-slot.js';

export interface DemoOptions {
  /** Everything goes under it: source/ (the bucket), data/ (topics, progress, alert pictures, shards), models/, report.html. */
  dir: string;
  start: Date;
  /** Analyses before the retraining, and after it (the last of those unlike the others). */
  hours: number;
  laterHours: number;
  /** The retraining's Adam steps, of batches of 4. */
  steps: number;
  config: ModelConfig;
  /** The tfjs backend selected for the run (selectBackend, for training). */
  backend: string;
}

export interface DemoSummary {
  analyses: number;
  /** Embeddings published, by the model version that made them. */
  embeddings: Record<string, number>;
  alerts: number;
  shards: number;
  retrained: { modelId: string; promoted: boolean; reason: string; candidateLoss: number; currentLoss: number | null; alertThreshold: number };
  /** The version the running consumer swapped to, or null when the candidate was not promoted. */
  swappedTo: string | null;
  report: string;
}

export type DemoLine = { hour: string; status: string } | { training: { step: number; steps: number; loss: number; heldOutLoss?: number } };

const FIELD = 'REFC:entire atmosphere:anl';
const REFC = /:REFC:entire atmosphere:anl:/;

/**
 * The whole loop on the embedded default, offline: sample analyses written into a folder in the
 * bucket's layout; the consumer (following the folder, with nothing promoted yet: the untrained
 * model) embeds each one onto the local topics and keeps it in a shard; a model is trained once on
 * the shards, promoted (the first version) and announced, and the running consumer swaps it in; later analyses (the last
 * a squall line unlike anything before) are embedded by the new version and raise alerts; a
 * static HTML report shows it all.
 */
export async function runDemo(options: DemoOptions, onLine: (line: DemoLine) => void, context: StageContext): Promise<DemoSummary> {
  const { dir, start, hours, laterHours, steps, config, backend } = options;
  const { log } = context;
  const source = new FolderStore(join(dir, 'source'));
  const state = new FolderStore(join(dir, 'data'));
  const models = new FolderStore(join(dir, 'models'));
  const bus = openBus({ data: join(dir, 'data'), log });
  const codec = await AvroCodec.create();
  await createOutputTopics(bus, codec);

  // As a deployment starts: nothing promoted yet, so the consumer serves the untrained model
  // (which raises no alerts) until the first retraining promotes a version.
  const untrained = createAutoencoder({ config });
  const slot = new ModelSlot({ autoencoder: untrained, id: models.url, alertThreshold: null, backend }, { log });
  const serve = async (version: string): Promise<ServedModel> => {
    const { model, manifest } = await loadVersion(models, version);
    return { autoencoder: model, id: models.url, alertThreshold: manifest.alertThreshold, backend };
  };
  // Small shards, so that a few hours make several (the retraining holds some out).
  const shards = createShardWriter({ store: state, normalization: slot.current.autoencoder.normalization, rollover: { maxRows: 3 }, log });

  const done = new Counter();
  const stop = new AbortController();
  // A gap counts too: the demo waits for every hour it wrote to be handled, and would otherwise wait for ever.
  const onEvent = (event: IngestEvent) => {
    onLine({ hour: formatHour(event.kind === 'gap' ? event.time : event.analysis.time), status: event.kind });
    done.add();
  };
  const consuming = runConsumer({ source, state, bus, codec, model: slot, shards, match: REFC, from: start, concurrency: 1, stop: stop.signal, discovery: { pollIntervalMs: 100 } }, onEvent, context);
  const following = new AbortController();
  const announcements = bus.consumer({ group: 'demo-model-watch', topics: [codec.topics.modelVersions] });
  const promotions = followPromotions({ models, slot, load: serve, announcements, pollMs: 60_000, log }, following.signal);
  const untilDone = (count: number) => Promise.race([done.reach(count), consuming.then(() => Promise.reject(new Error('the consumer stopped early')))]);

  try {
    const hourAt = (n: number) => new Date(start.getTime() + n * HOUR_MS);
    const writeHours = async (from: number, to: number, unusual: number) => {
      for (let n = from; n < to; n++) {
        const sample = sampleAnalysis(hourAt(n), n, n === unusual);
        await source.put(`${sample.key}.idx`, new TextEncoder().encode(sample.idx));
        await source.put(sample.key, sample.grib2);
      }
    };
    await writeHours(0, hours, -1);
    await untilDone(hours);
    await shards.flush();

    const training: LossCurve = { steps: [], train: [], heldOut: [] };
    const result = await retrain({
      models,
      shards: openShardCatalog(state),
      field: FIELD,
      from: start,
      to: hourAt(hours - 1),
      runId: 'demo',
      steps,
      batchSize: 4,
      stepsPerCheckpoint: Math.max(1, Math.ceil(steps / 4)),
      learningRate: 0.002,
      fresh: { config, normalization: untrained.normalization },
      force: false,
      heldOutFraction: 0.25,
      thresholdQuantile: 0.99,
      seed: 1,
      interleave: 4,
      bufferSize: 64,
      announce: (version) => announcePromotion(bus, codec, version),
      onProgress: ({ step, loss }) => {
        training.steps.push(step);
        training.train.push(loss);
        training.heldOut.push(null);
      },
      onCheckpoint: ({ step, heldOutLoss }) => {
        training.heldOut[training.steps.lastIndexOf(step)] = heldOutLoss;
        onLine({ training: { step, steps, loss: training.train.at(-1)!, heldOutLoss } });
      },
      log,
    });
    if (result.promoted) await until(() => slot.current.autoencoder.version === result.modelId, context.signal);

    await writeHours(hours, hours + laterHours, hours + laterHours - 1);
    await untilDone(hours + laterHours);
    stop.abort();
    await consuming;
    following.abort();
    await promotions;
    await shards.close();

    const reportPath = join(dir, 'report.html');
    const published = await readEmbeddings(bus, codec, { ...fileBusQuiet, log });
    const alerts = await alertTimeline(published, models, state);
    await writeFile(reportPath, await report({ slot, rows: await shardRows(state), published, alerts, training, result, summaryOf: { hours, laterHours } }));
    const embeddings: Record<string, number> = {};
    for (const { modelVersion } of published) embeddings[modelVersion] = (embeddings[modelVersion] ?? 0) + 1;
    const { modelId, promoted, reason, candidateLoss, currentLoss, alertThreshold } = result;
    return {
      analyses: hours + laterHours,
      embeddings,
      alerts: alerts.filter((point) => point.alert).length,
      shards: (await openShardCatalog(state).list({ field: FIELD })).length,
      retrained: { modelId, promoted, reason, candidateLoss, currentLoss, alertThreshold },
      swappedTo: result.promoted ? result.modelId : null,
      report: reportPath,
    };
  } finally {
    stop.abort();
    following.abort();
    await Promise.allSettled([consuming, promotions]);
    await slot.close();
    await bus.close();
  }
}

/** Each published embedding's error against its version's threshold, and whether an alert (its picture) was made. */
async function alertTimeline(published: Embedding[], models: FolderStore, state: FolderStore): Promise<AlertPoint[]> {
  const thresholds = new Map<string, number | null>();
  for (const version of new Set(published.map((embedding) => embedding.modelVersion))) thresholds.set(version, version === UNTRAINED ? null : (await readManifest(models, version)).alertThreshold);
  const pictures = new Set<string>();
  for await (const { key } of state.list('alerts/')) pictures.add(key);
  return published
    .map(({ field, validTime, reconstructionError, modelVersion }) => ({
      validTime,
      reconstructionError,
      threshold: thresholds.get(modelVersion) ?? null,
      alert: pictures.has(pictureKey(field, validTime, modelVersion)),
    }))
    .sort((a, b) => a.validTime.getTime() - b.validTime.getTime());
}

/** Every field the shards kept, once each, in time order. */
async function shardRows(state: FolderStore): Promise<ShardRow[]> {
  const catalog = openShardCatalog(state);
  const rows = new Map<number, ShardRow>();
  for (const manifest of await catalog.list({ field: FIELD })) for await (const row of catalog.read(manifest)) rows.set(row.validTime.getTime(), row);
  return [...rows.values()].sort((a, b) => a.validTime.getTime() - b.validTime.getTime());
}

interface ReportParts {
  slot: ModelSlot;
  rows: ShardRow[];
  published: Embedding[];
  alerts: AlertPoint[];
  training: LossCurve;
  result: { modelId: string; promoted: boolean; reason: string };
  summaryOf: { hours: number; laterHours: number };
}

/** The page: every field embedded again by the final version (so the similarity matrix compares like with like), three of them pictured. */
async function report({ slot, rows, published, alerts, training, result, summaryOf }: ReportParts): Promise<string> {
  const model = slot.current.autoencoder;
  const embedded: FieldEmbedding[] = [];
  for (let i = 0; i < rows.length; i += 4) embedded.push(...(await embedFields(model, rows.slice(i, i + 4))));
  const pictured = [0, Math.floor(rows.length / 2), rows.length - 1].filter((index, i, all) => all.indexOf(index) === i && index >= 0);
  const analyses: AnalysisPictures[] = [];
  for (const index of pictured) {
    const row = rows[index]!;
    analyses.push(analysisPictures(row.validTime, row, await reconstruct(model, row), embedded[index]!.reconstructionError));
  }
  return renderReport({
    title: 'hrrr-embed demo',
    generatedAt: new Date(),
    summary: [
      `${summaryOf.hours} sample analyses embedded by the untrained model, which then trained on their shards: ${result.promoted ? `${result.modelId} promoted and swapped into the running consumer` : `candidate ${result.modelId} not promoted`} (${result.reason}).`,
      `${summaryOf.laterHours} later analyses, the last a squall line unlike the others; ${published.length} embeddings and ${alerts.filter((point) => point.alert).length} alerts published.`,
      `Pictures and similarities below are by the final version, ${model.version}.`,
    ],
    analyses,
    alerts,
    training,
    embeddings: rows.map((row, i) => ({ validTime: row.validTime, embedding: embedded[i]!.embedding })),
  });
}

/** Counts events; `reach(n)` resolves once n have happened. */
class Counter {
  private count = 0;
  private readonly waiting: Array<{ target: number; resolve(): void }> = [];

  add(): void {
    this.count++;
    for (const waiter of this.waiting.filter(({ target }) => this.count >= target)) {
      this.waiting.splice(this.waiting.indexOf(waiter), 1);
      waiter.resolve();
    }
  }

  reach(target: number): Promise<void> {
    if (this.count >= target) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push({ target, resolve }));
  }
}

async function until(condition: () => boolean, signal: AbortSignal): Promise<void> {
  while (!condition()) {
    signal.throwIfAborted();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
