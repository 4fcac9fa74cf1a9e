import { Gauge, type Registry } from 'prom-client';
import type { Stage } from '../stages/stage.js';
import type { GetOptions, ListOptions, ObjectInfo, ObjectStore, PutOptions, RequestOptions } from '../store/object-store.js';

/** Alive, or why not: what `/healthz` says. */
export type LivenessState = { alive: true } | { alive: false; reason: string };

/** What the operations server asks for `/healthz`. */
export interface LivenessCheck {
  check(): LivenessState;
}

/** A wait the pipeline is in (a store request, a stage's next output, a training run's next step): moved on, or over. */
export interface Wait {
  /** It moved: its clock starts again. */
  moved(): void;
  end(): void;
}

export interface WaitOptions {
  /**
   * Whether its moving or ending shows the process at work (default true). False for waits
   * beside the work, such as the promotion follower's reads of the model store: they must move
   * within the limit, but do not count as the looks a polling consumer must keep making.
   */
  heartbeat?: boolean;
}

export interface WatchdogConfig {
  /** A wait that has not moved for this long is a stall. */
  stallMs: number;
  /**
   * With nothing in flight, how long the process may go without a heartbeat (a wait ending or
   * moving) before it is a stall: the polling consumer's looks for new analyses are such waits.
   * None: idle is healthy however long (the event-driven consumer, the trainer between runs).
   */
  idleMs?: number;
  clock?: () => number;
}

/**
 * Liveness as progress: the waits a process is in must each move within `stallMs`, and with
 * none in flight it must have moved within `idleMs`. A stuck process is not brought back here:
 * `/healthz` answers 503 while what is stuck does not move, for its supervisor to restart it.
 */
export class Watchdog implements LivenessCheck {
  private readonly stallMs: number;
  private readonly idleMs: number | undefined;
  private readonly clock: () => number;
  private readonly waits = new Set<{ what: string; since: number; heartbeat: boolean }>();
  private lastMoved: number;

  constructor({ stallMs, idleMs, clock = () => performance.now() }: WatchdogConfig) {
    this.stallMs = stallMs;
    this.idleMs = idleMs;
    this.clock = clock;
    this.lastMoved = clock();
  }

  /** A wait on `what` (named for the reason a stall gives) from now. */
  begin(what: string, { heartbeat = true }: WaitOptions = {}): Wait {
    const wait = { what, since: this.clock(), heartbeat };
    this.waits.add(wait);
    return {
      moved: () => {
        wait.since = this.clock();
        if (heartbeat) this.lastMoved = wait.since;
      },
      end: () => {
        if (this.waits.delete(wait) && heartbeat) this.lastMoved = this.clock();
      },
    };
  }

  /** What `check` holds against its limits, in seconds: how long the longest wait in flight has not moved; with no heartbeat in flight, since one last did, if longer (0 with no idle limit). */
  secondsWithoutProgress(): number {
    return this.msWithoutProgress() / 1000;
  }

  /**
   * Alive, or each wait past the limit, oldest first: a stage and the store request inside it
   * that hangs are both named, the request with its key. Waits on the same thing are said once.
   */
  check(): LivenessState {
    const now = this.clock();
    const stalled = new Map<string, { since: number; count: number }>();
    for (const { what, since } of [...this.waits].sort((a, b) => a.since - b.since)) {
      if (now - since <= this.stallMs) break;
      const same = stalled.get(what);
      if (same) same.count++;
      else stalled.set(what, { since, count: 1 });
    }
    const forSeconds = (ms: number) => `${Math.round(ms / 1000)} s`;
    if (stalled.size > 0) {
      const waits = [...stalled].map(([what, { since, count }]) => `${what}${count > 1 ? ` (${count} at once)` : ''} has not moved for ${forSeconds(now - since)}`);
      return { alive: false, reason: `stalled: ${waits.join('; ')} (limit ${this.stallMs / 1000} s)` };
    }
    const { idleMs } = this;
    const idle = now - this.lastMoved;
    if (!this.heartbeatInFlight() && idleMs !== undefined && idle > idleMs) return { alive: false, reason: `stalled: nothing in flight and nothing has moved for ${forSeconds(idle)} (limit ${idleMs / 1000} s)` };
    return { alive: true };
  }

  private msWithoutProgress(): number {
    const now = this.clock();
    let longest = 0;
    for (const { since } of this.waits) longest = Math.max(longest, now - since);
    if (this.heartbeatInFlight() || this.idleMs === undefined) return longest;
    return Math.max(longest, now - this.lastMoved);
  }

  private heartbeatInFlight(): boolean {
    for (const { heartbeat } of this.waits) if (heartbeat) return true;
    return false;
  }

  /** The same stage, each wait for its next output watched as `stage NAME`. */
  readonly instrument = <In, Out>(stage: Stage<In, Out>): Stage<In, Out> => ({
    name: stage.name,
    process: (input, context) => this.eachWatched(stage.process(input, context), `stage ${stage.name}`),
  });

  /** The same store, each request watched as `ROLE store: OPERATION URL/KEY`: a polling consumer's looks are its heartbeat, unless `heartbeat` is false. */
  store(store: ObjectStore, role: string, waitOptions: WaitOptions = {}): ObjectStore {
    const what = (operation: string, key: string) => `${role} store: ${operation} ${store.url}/${key}`;
    return {
      url: store.url,
      list: (prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo> => this.eachWatched(store.list(prefix, options), what('list', prefix), waitOptions),
      head: (key: string, options?: RequestOptions) => this.watching(what('head', key), () => store.head(key, options), waitOptions),
      get: (key: string, options?: GetOptions) => this.watching(what('get', key), () => store.get(key, options), waitOptions),
      put: (key: string, body: Uint8Array, options?: PutOptions) => this.watching(what('put', key), () => store.put(key, body, options), waitOptions),
      delete: (key: string, options?: RequestOptions) => this.watching(what('delete', key), () => store.delete(key, options), waitOptions),
    };
  }

  /** Gauge `name` of `secondsWithoutProgress`, in `registry`. */
  /**
   * PREFIX_seconds_without_progress, and PREFIX_stalled: 1 while /healthz answers 503. An alert
   * on the latter holds for any --stall-seconds and --poll-seconds; the seconds alone cannot say
   * which limit applies (an idle polling consumer's is the longer).
   */
  registerGauges(registry: Registry, prefix: string): void {
    const watchdog = this;
    new Gauge({
      name: `${prefix}_seconds_without_progress`,
      help: `Seconds the longest wait in flight (a store request, a stage, a training step) has not moved; with none but model store requests, since one last did (a polling consumer) or 0. Its limit is --stall-seconds, or for an idle polling consumer that plus --poll-seconds: ${prefix}_stalled says whether /healthz answers 503`,
      registers: [registry],
      collect() {
        this.set(watchdog.secondsWithoutProgress());
      },
    });
    new Gauge({
      name: `${prefix}_stalled`,
      help: '1 while /healthz answers 503 (a wait has not moved within --stall-seconds, or a polling consumer has not looked for new analyses), else 0',
      registers: [registry],
      collect() {
        this.set(watchdog.check().alive ? 0 : 1);
      },
    });
  }

  private async watching<T>(what: string, wait: () => Promise<T>, options?: WaitOptions): Promise<T> {
    const watched = this.begin(what, options);
    try {
      return await wait();
    } finally {
      watched.end();
    }
  }

  /** The same items, each wait for the next watched as `what`; only the wait counts, not the caller's work on an item. */
  private async *eachWatched<T>(items: AsyncIterable<T>, what: string, options?: WaitOptions): AsyncIterable<T> {
    const iterator = items[Symbol.asyncIterator]();
    let finished = false;
    try {
      for (;;) {
        const next = await this.watching(what, () => iterator.next(), options);
        if (next.done) {
          finished = true;
          return;
        }
        yield next.value;
      }
    } catch (error) {
      finished = true;
      throw error;
    } finally {
      // A caller that stops early must still close the iterator, as yield* would.
      if (!finished) await iterator.return?.();
    }
  }
}
