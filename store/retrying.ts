import type { StageLogger } from '../stages/stage.js';
import { isRetriable } from './errors.js';
import type { GetOptions, ListOptions, ObjectInfo, ObjectStore, PutOptions, RequestOptions } from './object-store.js';

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  /** The first wait; each later one doubles, up to maxDelayMs, and is drawn at random below that ("full jitter"). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Requests in flight at once, across all callers of this store (a listing, read page by page, takes none). */
  maxInFlight: number;
}

const defaultRetryPolicy: RetryPolicy = { attempts: 6, baseDelayMs: 200, maxDelayMs: 20_000, maxInFlight: 16 };

export interface RetryingStoreOptions {
  policy?: Partial<RetryPolicy>;
  log?: StageLogger;
  /** Waits between tries; tests pass one that does not wait. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

/**
 * Wraps a store so that every request waits for one of `maxInFlight` places, and a request that
 * fails for a passing reason (5xx, throttling, timeout, dropped connection) is tried again after
 * an exponential backoff with full jitter. Other failures, and the last try's, are thrown as they are.
 */
export class RetryingStore implements ObjectStore {
  readonly url: string;
  readonly policy: RetryPolicy;
  private readonly slots: Semaphore;
  private readonly log: StageLogger | undefined;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;

  constructor(
    private readonly inner: ObjectStore,
    options: RetryingStoreOptions = {},
  ) {
    this.url = inner.url;
    this.policy = { ...defaultRetryPolicy, ...options.policy };
    this.slots = new Semaphore(this.policy.maxInFlight);
    this.log = options.log;
    this.sleep = options.sleep ?? abortableSleep;
    this.random = options.random ?? Math.random;
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    // Listing is retried from where it stopped: after the last key already handed out.
    let startAfter = options.startAfter;
    yield* this.retry(`list ${prefix}`, options.signal, async function* (this: RetryingStore) {
      for await (const info of this.inner.list(prefix, { ...options, ...(startAfter !== undefined && { startAfter }) })) {
        startAfter = info.key;
        yield info;
      }
    }.bind(this));
  }

  head(key: string, options: RequestOptions = {}): Promise<ObjectInfo | undefined> {
    return this.once(`head ${key}`, options.signal, () => this.inner.head(key, options));
  }

  get(key: string, options: GetOptions = {}): Promise<Uint8Array> {
    const range = options.range ? ` bytes=${options.range.start}-${options.range.end ?? ''}` : '';
    return this.once(`get ${key}${range}`, options.signal, () => this.inner.get(key, options));
  }

  put(key: string, body: Uint8Array, options: PutOptions = {}): Promise<void> {
    return this.once(`put ${key}`, options.signal, () => this.inner.put(key, body, options));
  }

  delete(key: string, options: RequestOptions = {}): Promise<void> {
    return this.once(`delete ${key}`, options.signal, () => this.inner.delete(key, options));
  }

  private async once<T>(what: string, signal: AbortSignal | undefined, request: () => Promise<T>): Promise<T> {
    const slots = this.slots;
    for await (const result of this.retry(what, signal, async function* () {
      const release = await slots.acquire();
      try {
        yield await request();
      } finally {
        release();
      }
    })) {
      return result;
    }
    throw new Error(`unreachable: ${what} yielded nothing`);
  }

  private async *retry<T>(what: string, signal: AbortSignal | undefined, attempt: () => AsyncIterable<T>): AsyncIterable<T> {
    for (let tries = 1; ; tries++) {
      try {
        yield* attempt();
        return;
      } catch (error) {
        if (!isRetriable(error) || tries >= this.policy.attempts || signal?.aborted) throw error;
        const waitMs = this.random() * Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** (tries - 1));
        this.log?.warn({ store: this.url, request: what, try: tries, waitMs: Math.round(waitMs), err: (error as Error).message }, 'store request failed, retrying');
        await this.sleep(waitMs, signal);
      }
    }
  }
}

/** Counts places; `acquire` waits for one and returns the function that gives it back. */
export class Semaphore {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(places: number) {
    if (!Number.isInteger(places) || places < 1) throw new RangeError(`a semaphore needs at least one place, not ${places}`);
    this.free = places;
  }

  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
