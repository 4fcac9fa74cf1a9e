import { setMaxListeners } from 'node:events';
import { isStoreFault } from '../store/errors.js';
import type { ObjectStore } from '../store/object-store.js';
import { createDiscoverySource, type DiscoveryConfig } from '../stages/sources/discover.js';
import { createFetchStage } from '../stages/sources/fetch.js';
import { formatHour, type HrrrProduct } from '../stages/sources/hrrr-archive.js';
import { attributed, isBadInput, StageError, type Stage, type StageContext } from '../stages/stage.js';
import { createDecodeStage } from '../stages/transforms/decode.js';
import type { Analysis, DecodedField, GribBytes } from '../stages/types.js';
import { forEachConcurrently } from './concurrency.js';
import { Progress } from './progress.js';

export interface IngestConfig {
  /** Where the analyses are read. */
  source: ObjectStore;
  /** Where progress is kept, under `progressKey`. */
  state: ObjectStore;
  progressKey: string;
  product?: HrrrProduct;
  /** The .idx lines of the fields to take, e.g. /:REFC:entire atmosphere:anl:/. */
  match: RegExp;
  /** The grid every field must be on (the model's input): one on another is refused before its values are unpacked. */
  grid?: { nx: number; ny: number };
  from: Date;
  to?: Date;
  once?: boolean;
  /** Analyses fetched and decoded at once. Default 4. */
  concurrency?: number;
  /** Graceful shutdown: when it aborts, no new analysis is taken and those in flight are finished. */
  stop?: AbortSignal;
  /**
   * A failure that is not the input's fault (the store still failing after its retries, the sink
   * failing) ends the run with that error instead of leaving the analysis for the next run: what
   * a long-running consumer wants, so that its supervisor restarts it and nothing is skipped.
   */
  failFast?: boolean;
  discovery?: Pick<DiscoveryConfig, 'pollIntervalMs' | 'gapAfterMs' | 'idxWaitMs' | 'lookaheadHours' | 'clock'>;
  /** Wraps each stage the pipeline runs, e.g. to time it (runtime/metrics.ts). */
  instrument?: StageInstrument;
  /** Called once, when progress is loaded and discovery starts: the pipeline is running. */
  onRunning?: () => void;
  /**
   * Called as soon as the run is bound to end with this error (with failFast, an analysis failed;
   * or a dead letter or the progress could not be kept), while the analyses in flight finish.
   */
  onFailing?: (error: unknown) => void;
}

export type StageInstrument = <In, Out>(stage: Stage<In, Out>) => Stage<In, Out>;

/** Stages as they are: the default `instrument`. */
export const uninstrumented: StageInstrument = (stage) => stage;

/** One analysis read and decoded: the messages as stored, and their fields. */
export interface IngestedAnalysis {
  analysis: Analysis;
  messages: GribBytes[];
  fields: DecodedField[];
}

export type IngestEvent =
  | { kind: 'done'; analysis: Analysis; bytes: number; fields: number }
  | { kind: 'gap'; time: Date }
  /** Bad input: set aside with the stage and error that rejected it; the stream goes on. */
  | { kind: 'dead-letter'; analysis: Analysis; error: StageError }
  /** The store kept failing after every retry, or the sink failed: not done, so the next run tries it again. */
  | { kind: 'failed'; analysis: Analysis; error: StageError };

export interface IngestSummary {
  done: number;
  gaps: number;
  deadLetters: number;
  failed: number;
  bytesFetched: number;
  doneThrough: string | null;
}

export interface IngestHandlers {
  /** The sink: resolves once the analysis's outputs are safely kept; only then is it marked done. */
  deliver(result: IngestedAnalysis, context: StageContext): Promise<void>;
  /** Keeps a rejected analysis (e.g. on a dead-letters topic); resolves once it is kept, before the analysis is marked done. */
  deadLetter?(analysis: Analysis, error: StageError): Promise<void>;
  onEvent?(event: IngestEvent): void;
}

/**
 * The ingest pipeline: discover -> fetch -> decode -> deliver, `concurrency` analyses at a time,
 * resuming after what the progress record says is done and recording each analysis done, each
 * gap and each dead letter, so that a restart repeats nothing and skips nothing.
 */
export async function runIngest(config: IngestConfig, handlers: IngestHandlers, context: StageContext): Promise<IngestSummary> {
  // Every request in flight listens to the one shutdown signal: many listeners are expected.
  setMaxListeners(0, context.signal);
  const progress = await Progress.load(config.state, config.progressKey);
  // Described before begin(), which marks the hour before a fresh start as its origin: "done through" it would be untrue.
  const before = progress.describe();
  const from = progress.begin(config.from);
  context.log.info({ progress: before, from: formatHour(from), to: config.to && formatHour(config.to) }, 'ingest starting');
  const summary: IngestSummary = { done: 0, gaps: 0, deadLetters: 0, failed: 0, bytesFetched: 0, doneThrough: null };
  const emit = (event: IngestEvent) => handlers.onEvent?.(event);

  const discovery = createDiscoverySource({
    ...config.discovery,
    store: config.source,
    from,
    ...(config.to && { to: config.to }),
    ...(config.product && { product: config.product }),
    once: config.once ?? false,
    ...(config.stop && { stop: config.stop }),
    isDone: (time) => progress.isDone(time),
    onGap: async (time) => {
      await progress.markGap(time);
      summary.gaps++;
      emit({ kind: 'gap', time });
    },
  });
  const instrument = config.instrument ?? uninstrumented;
  const fetch = instrument(createFetchStage({ store: config.source, match: config.match }));
  const decode = instrument(createDecodeStage({ match: config.match, ...(config.grid && { grid: config.grid }) }));

  config.onRunning?.();
  // Ends discovery's wait for the next analysis once the run is over, failed or not.
  const discoveryOver = new AbortController();
  const discoveryContext = { ...context, signal: AbortSignal.any([context.signal, discoveryOver.signal]) };
  // Its looks at several hours at once (lookConcurrency) listen to it too.
  setMaxListeners(0, discoveryContext.signal);

  /** One analysis: delivered, or its dead letter kept, and marked done; or, with failFast, its failure thrown. */
  async function ingestOne(analysis: Analysis): Promise<void> {
    const messages: GribBytes[] = [];
    const fields: DecodedField[] = [];
    try {
      for await (const piece of attributed(fetch, analysis, context)) {
        messages.push(piece);
        for await (const field of attributed(decode, piece, context)) fields.push(field);
      }
      await handlers.deliver({ analysis, messages, fields }, context);
    } catch (error) {
      if (context.signal.aborted) throw error;
      // Bad input is a stage's verdict; a sink's failure, or a store's (one that outlived its retries, a refusal), is not.
      const badInput = isBadInput(error, isStoreFault);
      const failure = error instanceof StageError ? error : new StageError('deliver', error);
      const where = { hour: formatHour(analysis.time), key: analysis.key, stage: failure.stage, err: failure.message };
      if (!badInput) {
        if (config.failFast) throw failure;
        summary.failed++;
        context.log.error(where, 'analysis failed; left for the next run');
        emit({ kind: 'failed', analysis, error: failure });
        return;
      }
      await handlers.deadLetter?.(analysis, failure);
      await progress.markDone(analysis.time);
      summary.deadLetters++;
      context.log.error(where, 'analysis rejected: dead letter');
      emit({ kind: 'dead-letter', analysis, error: failure });
      return;
    }
    await progress.markDone(analysis.time);
    const bytes = messages.reduce((sum, piece) => sum + piece.bytes.length, 0);
    summary.done++;
    summary.bytesFetched += bytes;
    emit({ kind: 'done', analysis, bytes, fields: fields.length });
  }
  await forEachConcurrently(discovery.run(discoveryContext), config.concurrency ?? 4, (analysis) =>
    ingestOne(analysis).catch((error: unknown) => {
      if (!context.signal.aborted) config.onFailing?.(error);
      throw error;
    }),
  ).finally(() => discoveryOver.abort());
  summary.doneThrough = progress.doneThrough?.toISOString() ?? null;
  context.log.info({ ...summary, progress: progress.describe() }, 'ingest finished');
  return summary;
}
