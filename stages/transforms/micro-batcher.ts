import { StageUnavailableError } from '../stage.js';

/** When a waiting batch is flushed: `schedule(flush, ms)` calls flush after ms and returns a cancel. Injected so tests control time. */
export type Schedule = (flush: () => void, ms: number) => () => void;

const realTimers: Schedule = (flush, ms) => {
  const timer = setTimeout(flush, ms);
  return () => clearTimeout(timer);
};

export interface MicroBatcherConfig<In, Out> {
  /** Items run together at most; a batch this full runs at once. */
  maxBatch: number;
  /** How long the first item of a batch waits for others before the batch runs anyway. */
  maxWaitMs: number;
  /** Runs one batch: one result per item, in the items' order. */
  run(items: In[]): Promise<Out[]>;
  /**
   * Called with the size of each batch as it starts, e.g. for a histogram. When it throws (or,
   * being async, rejects), the batch is not run and its callers get a StageUnavailableError.
   */
  onBatch?(size: number): void;
  /**
   * Whether a batch of several that failed with this error is run again one item at a time (e.g.
   * it ran out of memory): each item then gets its own result or failure. Default never.
   */
  retryAlone?(error: unknown): boolean;
  /**
   * A shutdown: once it aborts, no more items will come but those of the work in flight, so what is
   * waiting runs at once, and later items wait for no others.
   */
  stopWaiting?: AbortSignal;
  schedule?: Schedule;
}

/** Why every item of a batch was rejected: the batch's run failed, through no fault of one item. */
export class BatchError extends Error {
  override readonly name = 'BatchError';
  constructor(size: number, override readonly cause: unknown) {
    super(`the batch of ${size} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

interface Waiting<In, Out> {
  item: In;
  resolve(out: Out): void;
  reject(error: unknown): void;
}

/**
 * Collects items submitted by concurrent callers and runs them together, up to `maxBatch` items
 * or `maxWaitMs` after the first one arrived, whichever comes first; each caller gets its own
 * item's result. Batches run one at a time: the next one collects while the current one runs (and
 * while a failed one's items run again alone, with `retryAlone`).
 */
export class MicroBatcher<In, Out> {
  private readonly config: MicroBatcherConfig<In, Out>;
  private readonly schedule: Schedule;
  private waiting: Waiting<In, Out>[] = [];
  private cancelTimer: (() => void) | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(config: MicroBatcherConfig<In, Out>) {
    if (!Number.isInteger(config.maxBatch) || config.maxBatch < 1) throw new RangeError(`maxBatch must be a whole number of at least 1, not ${config.maxBatch}`);
    if (!(config.maxWaitMs >= 0)) throw new RangeError(`maxWaitMs must be a number of at least 0, not ${config.maxWaitMs}`);
    this.config = config;
    this.schedule = config.schedule ?? realTimers;
    config.stopWaiting?.addEventListener('abort', () => this.flush(), { once: true });
  }

  /** The result of `item`, once the batch it joined has run. */
  submit(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (this.waiting.length >= this.config.maxBatch) this.flush();
      else if (this.waiting.length === 1) this.cancelTimer = this.schedule(() => this.flush(), this.config.stopWaiting?.aborted ? 0 : this.config.maxWaitMs);
    });
  }

  /** Runs what is waiting now, without waiting for more. */
  flush(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const batch = this.waiting;
    this.waiting = [];
    if (batch.length === 0) return;
    this.running = this.running.then(() => this.runBatch(batch));
  }

  private async runBatch(batch: Waiting<In, Out>[]): Promise<void> {
    try {
      await this.config.onBatch?.(batch.length);
    } catch (error) {
      // The hook is the runtime's, not the items': they are failed for a retry, never set aside.
      const failure = new StageUnavailableError(`the batch of ${batch.length} was not run: its onBatch hook failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      for (const { reject } of batch) reject(failure);
      return;
    }
    try {
      const results = await this.config.run(batch.map(({ item }) => item));
      if (results.length !== batch.length) throw new Error(`${results.length} results for ${batch.length} items`);
      batch.forEach(({ resolve }, i) => resolve(results[i]!));
    } catch (error) {
      if (batch.length > 1 && this.config.retryAlone?.(error)) {
        for (const waiting of batch) await this.runBatch([waiting]);
        return;
      }
      // A failure of what runs the batches (e.g. a dead worker) keeps its class, which says it is no item's fault.
      const failure = error instanceof StageUnavailableError ? error : new BatchError(batch.length, error);
      for (const { reject } of batch) reject(failure);
    }
  }
}
