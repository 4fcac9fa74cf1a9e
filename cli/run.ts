import { randomUUID } from 'node:crypto';
import { AvroCodec } from '../bus/avro/codec.js';
import { SchemaRegistryClient } from '../bus/avro/schema-registry.js';
import { requireTopic, topicNames, type TopicBus } from '../bus/bus.js';
import { defaultDataFolder, kafkaBrokers, openBus } from '../bus/open.js';
import { disposeAutoencoder, type Autoencoder } from '../model/autoencoder.js';
import { selectBackend } from '../model/backends.js';
import { computesOnCallingThread, startEncoderThread } from '../model/encoder-thread.js';
import { openModel } from '../model/open.js';
import { loadVersion } from '../model/versions.js';
import { CONSUMER_LEASE, CONSUMER_PROGRESS_KEY, createOutputTopics, runConsumer } from '../pipelines/consume.js';
import { runEventConsumer } from '../pipelines/consume-events.js';
import type { StageInstrument } from '../pipelines/ingest.js';
import { followPromotions, type PromotionFollowerConfig } from '../pipelines/follow-promotions.js';
import { ModelSlot, type ServedModel } from '../pipelines/model-slot.js';
import { createShardWriter, type ShardWriter } from '../shards/writer.js';
import type { StageLogger } from '../stages/stage.js';
import { Progress } from '../pipelines/progress.js';
import { floorHour, formatHour, HOUR_MS } from '../stages/sources/hrrr-archive.js';
import { abortedBy } from '../store/aborted-by.js';
import type { ObjectStore } from '../store/object-store.js';
import { acquireLease, leaseOwner, type HeldLease } from '../store/lease.js';
import { buildInfo } from '../runtime/build-info.js';
import { loadRunSettings } from '../runtime/config.js';
import { ConsumerMetrics } from '../runtime/metrics.js';
import { Readiness } from '../runtime/readiness.js';
import { Watchdog } from '../runtime/watchdog.js';
import { kafkaSecurityOption, kafkaSecurityUsage } from './kafka-security.js';
import { serveOperations } from './operations.js';
import { commandLogger, deviceOption, fieldMatcher, logFailure, hourOption, openSource, sourceUsage, storeOption } from './sources.js';
import { optionOrUsage, settingsOrUsage, UsageError } from './usage.js';

export const runUsage = `usage: hrrr-embed run [--config FILE] [--source LOC] [--data DIR | --kafka HOST:PORT] [--from T] [--to T] [--once] [OPTIONS]

The consumer: finds each new analysis in the source, reads its REFC field by the .idx, decodes,
normalizes and encodes it, and publishes its embedding (Avro) to the embeddings topic, and an
alert with a picture when the reconstruction error passes the model version's threshold. Bad
input goes to the dead-letters topic. Progress is recorded once the bus has acknowledged the
records, so a restart resumes with nothing repeated or lost. Prints one JSON line per analysis.
SIGINT or SIGTERM stops taking analyses, finishes those in flight and exits 0; a second signal
stops at once, leaving those in flight for the next run (exit status 1).
One polling run per --state: a second one (a rolling update, a run started twice) waits until the
first stops, then goes on from its progress record.

  --data DIR         the embedded bus's data folder, also the default --state (default ${defaultDataFolder})
  --kafka HOST:PORT  publish to Kafka instead (several brokers: HOST:PORT,HOST:PORT)
${kafkaSecurityUsage}
  --registry URL     a Confluent-compatible schema registry (records in its wire format); a
                     user and password in it (https://KEY:SECRET@HOST) are sent as basic auth
  --registry-lookup-only
                     find the topics' schemas in the registry, never register them (a registry
                     where writers may not: hrrr-embed schemas register, by someone who may)
  --topic-prefix P   put P before every topic name (e.g. "prod." makes prod.embeddings)
  --partitions N     partitions of the topics it creates (default 1)
  --state LOC        where progress and alert pictures are kept (a folder or s3://BUCKET)
  --shards LOC|off   where the normalized fields are kept for retraining, under shards/ (default:
                     the --state store); "off" keeps none. A shard is written every 24 fields or
                     hour; on SIGTERM the open ones are written; after a crash, any
                     writer on that store keeps their rows within two hours
  --from T, --to T   the first and last hour (default: resume after the last one done, or the
                     hour before the current one on a first run; no --to: follow without end)
  --once             look once at what is there, then exit (batch jobs and tests)
  --model LOC        a model store: its promoted version, or --version ID (default: a fresh,
                     untrained model of the seed configuration, which raises no alerts)
  --version ID       with --model: run version ID of it, pinned (no hot swap, no fallback)
  --device D         auto (default), tensorflow, webgpu, wasm or cpu
  --alert-threshold X  the reconstruction error that raises an alert, instead of the version's
  --events TOPIC     driven by object-created events (S3 notifications, plain or SNS-wrapped) on
                     this Kafka topic instead of polling, shared by the consumers of --group G
                     (default hrrr-embed): run several to scale out; on Kafka, each analysis's
                     records and the event's offset are committed in one transaction
  --concurrency N    analyses fetched and decoded at once (default the larger of 2 and the
                     batch size): it bounds how full an encoder batch gets, one field each
  --batch-size N     fields of the analyses in flight encoded together (default 8 on tensorflow
                     and webgpu; 1 on cpu and wasm, where batches were measured to gain nothing)
  --batch-wait-ms T  how long a field waits for others to fill its batch (default 50); with
                     --events an event's fields wait for none
  --encoder-thread W auto (default): a worker thread on cpu and wasm, which compute synchronously,
                     the main thread on tensorflow and webgpu; or main, or worker
  --poll-seconds S   how often to look for new analyses when following (default 30)
  --drain-seconds S  how long a shutdown waits for analyses in flight (default 60)
  --model-poll-seconds S
                     how often a consumer of --model (with no --version) reads which version
                     is promoted, besides when one is announced on model-versions (default 60);
                     a newly promoted version takes over between two encoder batches
  --metrics-port N   serve GET /metrics (Prometheus), /healthz and /readyz on port N (0: a free
                     one, logged); --metrics-host H (default 127.0.0.1; 0.0.0.0 or :: in a container)
  --stall-seconds S  /healthz answers 503 once a store request or a stage has not moved for S
                     seconds, or (polling) no look for new analyses came for S + --poll-seconds
                     (default 900)
  --config FILE      settings from a JSON file (or HRRR_EMBED_CONFIG), keys as the options in
                     camelCase (topicPrefix); each also from HRRR_EMBED_<KEY> (HRRR_EMBED_TOPIC_PREFIX).
                     The command line wins over the environment, the environment over the file
${sourceUsage}`;

export async function runCommand(args: string[], out: (line: string) => void): Promise<void> {
  const { values, origin } = settingsOrUsage(() => loadRunSettings(args, process.env), runUsage);
  if (values.data !== undefined && values.kafka !== undefined) throw new UsageError(`${origin('data')} and ${origin('kafka')} name two buses: give one`, runUsage);
  if (values.version !== undefined && values.model === undefined) throw new UsageError(`${origin('version')} needs --model`, runUsage);
  if (values.events !== undefined) {
    const polling = (['from', 'to', 'once'] as const).filter((key) => values[key] !== undefined && values[key] !== false);
    if (polling.length > 0) throw new UsageError(`${polling.map((key) => origin(key)).join(', ')}: ${origin('events')} does the analyses its events name, so hours and --once do not apply`, runUsage);
  }
  const device = deviceOption(origin('device'), values.device, runUsage);
  const { partitions } = values;
  const encoderThread = values.encoderThread;
  if (!(ENCODER_THREADS as readonly string[]).includes(encoderThread)) throw new UsageError(`${origin('encoderThread')}: ${JSON.stringify(encoderThread)} is not one of ${ENCODER_THREADS.join(', ')}`, runUsage);
  const pollIntervalMs = values.pollSeconds * 1000;
  const drainMs = values.drainSeconds * 1000;
  const threshold = values.alertThreshold;
  const givenFrom = values.from === undefined ? undefined : hourOption(origin('from'), values.from, runUsage);
  const to = values.to === undefined ? undefined : hourOption(origin('to'), values.to, runUsage);
  if (givenFrom && to && to < givenFrom) throw new UsageError(`${origin('to')} ${values.to} comes before ${origin('from')} ${values.from}`, runUsage);
  const match = fieldMatcher(values, runUsage, origin);
  const topics = optionOrUsage(origin('topicPrefix'), runUsage, () => topicNames(values.topicPrefix));

  if (values.registryLookupOnly && values.registry === undefined) throw new UsageError(`${origin('registryLookupOnly')} needs --registry`, runUsage);
  const registry = values.registry === undefined ? undefined : optionOrUsage(origin('registry'), runUsage, () => new SchemaRegistryClient(values.registry!));
  const kafkaSecurity = kafkaSecurityOption(values, origin, runUsage);
  // The bus opens after the lease is held: its address is checked now, with the rest of the command line.
  if (values.kafka !== undefined) optionOrUsage(origin('kafka'), runUsage, () => kafkaBrokers(values.kafka!));
  const log = commandLogger(values.verbose, 'info');
  const build = buildInfo();
  // /healthz: every store request (the model store's too) and stage must move within --stall-seconds; a polling consumer must also look for new analyses.
  const watchdog = new Watchdog({ stallMs: values.stallSeconds * 1000, ...(values.events === undefined && { idleMs: values.stallSeconds * 1000 + pollIntervalMs }) });
  const source = watchdog.store(openSource(values, log, runUsage, origin), 'source');
  const state = watchdog.store(storeOption(origin(values.state === undefined ? 'data' : 'state'), values.state ?? values.data ?? defaultDataFolder, runUsage, { log }), 'state');
  const shardStore = values.shards === undefined || values.shards === 'off' ? undefined : storeOption(origin('shards'), values.shards, runUsage, { log });
  // Its reads (loading the model, following promotions) must move too, but are no look for new analyses.
  const models = values.model === undefined ? undefined : watchdog.store(storeOption(origin('model'), values.model, runUsage, { log }), 'model', { heartbeat: false });
  // Up before the wait for the lease below, which can last a minute or more: a liveness probe must find it meanwhile.
  const readiness = new Readiness();
  const operations = await serveOperations(values, origin, { readiness, liveness: watchdog, build }, runUsage);
  if (operations) watchdog.registerGauges(operations.registry, 'hrrr_embed');
  // Only now, every refusal of the command line (--source, the stores, --kafka, the metrics address) behind it.
  log.info({ build }, `run starting: hrrr-embed ${build.version}, commit ${build.commit}`);
  if (operations) log.info({ url: operations.url }, `metrics on ${operations.url}/metrics, liveness on /healthz, readiness on /readyz`);
  try {
    await consume();
  } finally {
    await operations?.close();
  }

  /** Everything after the operations server: the lease (polling), the bus, the model, the pipeline. */
  async function consume(): Promise<void> {
    // One polling consumer per progress record: a second (started by mistake, or by a rolling update
    // before the first stopped) waits until the first stops, then goes on from its record.
    const lease = values.events === undefined ? await waitForConsumerLease(state, log, readiness) : undefined;
    if (lease === null) return;
    try {
      const from = givenFrom ?? (await resumeHour(state));
      let bus;
      try {
        bus = openBus({ ...(values.data !== undefined && { data: values.data }), ...(values.kafka !== undefined && { kafka: values.kafka }), kafkaClientId: values.kafkaClientId, ...(kafkaSecurity && { kafkaSecurity }), log });
      } catch (error) {
        throw new UsageError(`${origin('kafka')}: ${(error as Error).message}`, runUsage);
      }
      // A file-bus consumer waits for a topic that is not there, without a word; Kafka's refuses it (naming the DESCRIBE right).
      if (values.events !== undefined && values.kafka === undefined) await requireTopic(bus, values.events);
      const codec = await AvroCodec.create({ topics, ...(registry && { registry, lookupOnly: values.registryLookupOnly }) });
      await codec.registerSchemas(['embeddings', 'alerts', 'deadLetters']);
      const { backend } = await selectBackend(device, 'inference', log);
      const inWorker = encoderThread === 'worker' || (encoderThread === 'auto' && computesOnCallingThread(backend));
      // Measured (README, Encoder batches): batches gain nothing on cpu and wasm, and cost 40% on wasm at 8.
      const batchSize = values.batchSize ?? (computesOnCallingThread(backend) ? 1 : 8);
      const concurrency = values.concurrency ?? Math.max(2, batchSize);
      // With no --version, a promoted version that cannot be loaded gives way to the most recently promoted earlier one that can.
      const { model, id, manifest, notPromoted } = await openModel(models, values.version, log, { fallBack: true });
      const serve = async (autoencoder: Autoencoder, alertThreshold: number | null | undefined): Promise<ServedModel> => {
        const encoder = inWorker ? await startEncoderThread(autoencoder, backend) : undefined;
        return { autoencoder, id, alertThreshold: threshold ?? alertThreshold ?? null, backend, ...(encoder && { encodeBatch: encoder.encodeBatch, close: encoder.close }) };
      };
      const slot = new ModelSlot(await serve(model, manifest?.alertThreshold), { log });
      log.info({ thread: inWorker ? 'worker' : 'main', batchSize, batchWaitMs: values.batchWaitMs, concurrency }, 'encoder');
      readiness.modelIsLoaded();
      readiness.serving(model.version, notPromoted && { promoted: notPromoted.promoted, reason: `cannot be loaded: ${notPromoted.reason}` });
      const metrics = operations && new ConsumerMetrics(operations.registry, { model: { id, version: model.version, notPromoted: notPromoted !== undefined }, from, ...(to && { to }) });
      const instrument: StageInstrument = metrics ? (stage) => watchdog.instrument(metrics.instrument(stage)) : watchdog.instrument;

      const stop = new AbortController();
      const abort = new AbortController();
      const shutdown = (signal: string) => {
        if (stop.signal.aborted) {
          // Ctrl-C twice, or a supervisor's second SIGTERM: stop now, as when the drain runs out.
          log.warn({ signal }, `second ${signal}: stopping now; the analyses in flight are left for the next run`);
          abort.abort(new Error(`stopped by a second ${signal} while finishing the analyses in flight`));
          return;
        }
        log.info({ signal, drainSeconds: drainMs / 1000 }, 'shutting down: finishing the analyses in flight (a second signal stops at once)');
        stop.abort();
        readiness.draining();
        setTimeout(() => abort.abort(new Error(`analyses still in flight after ${drainMs / 1000} s`)), drainMs).unref();
      };
      process.on('SIGINT', shutdown).on('SIGTERM', shutdown);
      // Another consumer took the record over (this one stalled past the lease's expiry): stop as on SIGTERM, then exit 1.
      lease?.lost.addEventListener('abort', () => shutdown('a lost lease'));
      const failing = (error: unknown) => readiness.failing(error);
      const following = new AbortController();
      let shards: ShardWriter | undefined;
      let promotions: Promise<void> | undefined;
      // From here on the encoder thread and the bus are open: a failure, starting included, closes them on its way out.
      try {
        shards = values.shards === 'off' ? undefined : createShardWriter({ store: shardStore ?? state, normalization: model.normalization, log });
        const batching = { maxBatch: batchSize, maxWaitMs: values.batchWaitMs, ...(metrics && { onBatch: metrics.recordEncodeBatch }) };
        await createOutputTopics(bus, codec, partitions);
        promotions =
          models !== undefined && values.version === undefined
            ? followModel(
                models,
                {
                  bus,
                  codec,
                  slot,
                  log,
                  pollMs: values.modelPollSeconds * 1000,
                  serve,
                  onLook: (served, notServed) => {
                    readiness.serving(served, notServed);
                    metrics?.modelInUse(id, served, notServed !== undefined);
                  },
                },
                following.signal,
              )
            : undefined;
        const product = { domain: values.domain, product: values.product };
        if (values.events !== undefined) {
          // Driven by object-created events on a topic shared by the consumer group: the way to scale out.
          await runEventConsumer(
            { source, state, bus, codec, partitions, match, product, model: slot, ...(shards && { shards }), events: { topic: values.events, group: values.group }, batching, stop: stop.signal, onRunning: () => readiness.pipelineIsRunning(), onFailing: failing, instrument, ...(metrics && { onAlert: metrics.recordAlert }) },
            (outcome) => {
              metrics?.recordOutcome(outcome);
              const { kind, ...rest } = outcome;
              out(JSON.stringify({ status: kind, ...rest }));
            },
            { log, signal: abort.signal },
          );
          return;
        }
        const summary = await runConsumer(
          {
            source,
            state,
            bus,
            codec,
            partitions,
            match,
            from,
            ...(to && { to }),
            once: values.once,
            concurrency,
            batching,
            stop: stop.signal,
            product,
            discovery: { pollIntervalMs },
            model: slot,
            ...(shards && { shards }),
            instrument,
            ...(metrics && { onAlert: metrics.recordAlert }),
            onRunning: () => readiness.pipelineIsRunning(),
            onFailing: failing,
          },
          (event) => {
            metrics?.record(event);
            const hour = formatHour(event.kind === 'gap' ? event.time : event.analysis.time);
            if (event.kind === 'done') out(JSON.stringify({ hour, status: 'done', key: event.analysis.key, fields: event.fields }));
            else if (event.kind === 'gap') out(JSON.stringify({ hour, status: 'gap' }));
            else out(JSON.stringify({ hour, status: event.kind, key: event.analysis.key, stage: event.error.stage, error: event.error.message }));
          },
          { log, signal: abort.signal },
        );
        out(JSON.stringify({ summary }));
      } catch (error) {
        // Not ready while the shards, the encoder and the bus close (seconds), if the pipeline has not said so already.
        failing(error);
        logFailure(log, 'run', error);
        throw error;
      } finally {
        process.off('SIGINT', shutdown).off('SIGTERM', shutdown);
        following.abort();
        await promotions;
        await shards?.close();
        await slot.close();
        await bus.close();
      }
    } finally {
      await lease?.release();
    }
    if (lease?.lost.aborted) throw lease.lost.reason as Error;
  }
}

interface FollowModelOptions {
  bus: TopicBus;
  codec: AvroCodec;
  slot: ModelSlot;
  log: StageLogger;
  pollMs: number;
  serve(autoencoder: Autoencoder, alertThreshold: number | null): Promise<ServedModel>;
  onLook: NonNullable<PromotionFollowerConfig['onLook']>;
}

/** Swaps newly promoted versions of the model store `models` into the slot until `signal` aborts. */
async function followModel(models: ObjectStore, { bus, codec, slot, log, pollMs, serve, onLook }: FollowModelOptions, signal: AbortSignal): Promise<void> {
  // A group of its own, reading only what is announced from now on: every consumer hears every promotion.
  const announcements = bus.consumer({ group: `hrrr-embed-model-watch-${randomUUID()}`, topics: [codec.topics.modelVersions] });
  const load = async (version: string, stopped: AbortSignal) => {
    const { model, manifest } = await loadVersion(abortedBy(models, stopped), version);
    try {
      return await serve(model, manifest.alertThreshold);
    } catch (error) {
      // Tried again at the next look: the weights of each failed try would otherwise stay.
      disposeAutoencoder(model);
      throw error;
    }
  };
  await followPromotions({ models, slot, load, announcements, pollMs, log, onLook }, signal);
}

const ENCODER_THREADS = ['auto', 'main', 'worker'] as const;

/**
 * Takes the lease of the state store's progress record (progress/run-lease/), waiting while
 * another consumer holds it (not ready meanwhile); null when SIGINT or SIGTERM came first.
 */
async function waitForConsumerLease(state: ObjectStore, log: StageLogger, readiness: Readiness): Promise<HeldLease | null> {
  const stop = new AbortController();
  const stopWaiting = () => stop.abort();
  process.on('SIGINT', stopWaiting).on('SIGTERM', stopWaiting);
  try {
    const lease = await acquireLease(state, { owner: leaseOwner(), log, signal: stop.signal, kind: CONSUMER_LEASE, onWait: () => readiness.waiting(`the lease of ${CONSUMER_LEASE.of}, held by another consumer`) });
    readiness.waiting(undefined);
    if (!lease) log.info({}, 'stopped while waiting for the lease of the progress record');
    else log.info({ epoch: lease.epoch }, `holding the lease of ${CONSUMER_LEASE.of}`);
    return lease ?? null;
  } finally {
    process.off('SIGINT', stopWaiting).off('SIGTERM', stopWaiting);
  }
}

/** Where a consumer with no --from starts: after the last hour its progress record has, or the hour before this one. */
async function resumeHour(state: ObjectStore): Promise<Date> {
  const done = (await Progress.load(state, CONSUMER_PROGRESS_KEY)).doneThrough;
  return done ? new Date(done.getTime() + HOUR_MS) : new Date(floorHour(Date.now()) - HOUR_MS);
}
