/**
 * One trainer per model store (and one polling consumer per progress record, one backfill per
 * output: the same lease in another folder). The lease is a numbered object in the store,
 * trainer-lease/000000000001.json and up: the owner of the highest number holds it while it renews
 * it. A trainer takes the lease by writing the next number with a write that only a new key allows
 * (`ifAbsent`), so of two trainers at once one wins. The holder renews its own object every third of the lease's time,
 * and learns it has lost the lease when a higher number appears (it stalled past its expiry and
 * another took over) or it could not renew in time. A holder held up near or past the expiry (a
 * training step on the cpu backend blocks the event loop for minutes) renews by taking the next
 * number itself, with the same write a takeover makes: it keeps the lease only if no other took it.
 *
 * No two hosts' clocks are compared: each process times the lease on its own monotonic clock
 * (performance.now, which no step of the wall clock moves). A waiter takes the lease once it has
 * seen the same object, unchanged, for a whole lease (from the answer of the read that first found
 * it to the asking of a read that finds it still); the holder, which renewed before that object
 * was written, counts its lease from the renewal, so it has expired by then. A released lease is
 * taken at once. The wall-clock times in the objects are for readers (and for builds before this
 * rule, whose waiters judge by them).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StageLogger } from '../stages/stage.js';
import { ObjectExistsError, ObjectNotFoundError } from './errors.js';
import type { ObjectStore } from './object-store.js';

/** What a lease is of, and who holds it: the folder of its numbered objects and the words of its logs. */
export interface LeaseKind {
  folder: string;
  /** Who holds it: "trainer". */
  holder: string;
  /** What it is the lease of: "this model store". */
  of: string;
}

const TRAINER_LEASE: LeaseKind = { folder: 'trainer-lease/', holder: 'trainer', of: 'this model store' };

const keyOf = (kind: LeaseKind, epoch: number) => `${kind.folder}${String(epoch).padStart(12, '0')}.json`;
const epochOf = (kind: LeaseKind, key: string): number | undefined => {
  const rest = key.slice(kind.folder.length);
  return key.startsWith(kind.folder) && /^\d{12}\.json$/.test(rest) ? Number(rest.slice(0, 12)) : undefined;
};

const DEFAULT_LEASE_MS = 60_000;

export interface LeaseRecord {
  owner: string;
  epoch: number;
  acquiredAt: string;
  /** On its writer's wall clock: for readers, and the waiters of builds that judged by it. */
  expiresAt: string;
  /** How long it lasts unless renewed: a waiter takes it once it has seen it unchanged that long (its own, when absent: builds before). */
  leaseMs?: number;
  /** How many times its holder rewrote its lease in place (carried on to the next number): each rewrite changes the object, whatever its holder's clock says of expiresAt. */
  renewals?: number;
  /** Set when its holder let it go (a stop), rather than stopped renewing it (a death, a stall). */
  released?: true;
}

export interface LeaseOptions {
  /** Who asks: unique to this process (host, pid and a random part). */
  owner: string;
  log: StageLogger;
  /** How long the lease lasts unless renewed (default a minute). */
  leaseMs?: number;
  /** Stops waiting for a lease another trainer holds. */
  signal?: AbortSignal;
  /** Default the trainer lease of a model store. */
  kind?: LeaseKind;
  /** Told each holder it starts waiting for (a consumer's readiness says so meanwhile). */
  onWait?: (holder: LeaseRecord) => void;
}

export interface HeldLease {
  /** The number of its object: the next one after a renewal past its expiry. */
  readonly epoch: number;
  /** Aborts, with the reason, when the lease is lost. */
  lost: AbortSignal;
  /**
   * Rejects unless the lease is still this trainer's, asking the store now: before an act another
   * trainer must not repeat. Expired here (this process was held up), it is renewed first, if no
   * other trainer took it.
   */
  confirm(): Promise<void>;
  /** Stops renewing and lets the lease go at once, so the next trainer need not wait for it to expire. */
  release(): Promise<void>;
}

/** The numbers of the lease objects there are. */
async function epochsIn(store: ObjectStore, kind: LeaseKind): Promise<number[]> {
  const epochs: number[] = [];
  for await (const { key } of store.list(kind.folder)) {
    const epoch = epochOf(kind, key);
    if (epoch !== undefined) epochs.push(epoch);
  }
  return epochs;
}

async function latestEpoch(store: ObjectStore, kind: LeaseKind): Promise<number> {
  return Math.max(0, ...(await epochsIn(store, kind)));
}

/**
 * The lease object of `epoch`; undefined when its content is no lease; null when it is gone (since
 * listed: a later number took its place, as a renewal or takeover deletes those before it). A
 * store that fails to answer throws: that says nothing of its holder.
 */
async function readLease(store: ObjectStore, kind: LeaseKind, epoch: number, log: StageLogger): Promise<LeaseRecord | undefined | null> {
  const key = keyOf(kind, epoch);
  let bytes: Uint8Array;
  try {
    bytes = await store.get(key);
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return null;
    throw error;
  }
  try {
    const lease = JSON.parse(new TextDecoder().decode(bytes)) as LeaseRecord;
    if (typeof lease.owner === 'string' && !Number.isNaN(Date.parse(lease.expiresAt))) return lease;
  } catch {
    // Read as expired below: the next number fences whoever wrote it.
  }
  log.warn({ lease: `${store.url}/${key}` }, `the ${kind.holder} lease object is unreadable: taken as expired`);
  return undefined;
}

/** An owner unique to this process: host, pid and a random part. */
export const leaseOwner = () => `${hostname()} pid ${process.pid} ${randomBytes(4).toString('hex')}`;

const encode = (lease: LeaseRecord) => new TextEncoder().encode(`${JSON.stringify(lease)}\n`);

/** How long a waiter sees `holder` unchanged before it takes the lease: the holder's lease, as it wrote it. */
const lastsMs = (holder: LeaseRecord, leaseMs: number) => (typeof holder.leaseMs === 'number' && holder.leaseMs > 0 && Number.isFinite(holder.leaseMs) ? holder.leaseMs : leaseMs);

/** Waits until this trainer holds the store's lease; undefined when `signal` aborts first. */
export async function acquireLease(store: ObjectStore, { owner, log, leaseMs = DEFAULT_LEASE_MS, signal, kind = TRAINER_LEASE, onWait }: LeaseOptions): Promise<HeldLease | undefined> {
  let waitingFor: string | undefined;
  /** The holder's object as this waiter last saw it, and since when it has seen it unchanged (its monotonic clock). */
  let watched: { object: string; since: number } | undefined;
  /** When this waiter's last write of a lease object was sent (its monotonic clock). */
  let triedAt: number | undefined;
  while (!signal?.aborted) {
    // What the reads find was so when they were asked, not necessarily when their answers are
    // heard (this process may have been stopped meanwhile): a later look counts from here.
    const lookedAt = performance.now();
    const epochs = await epochsIn(store, kind);
    const epoch = Math.max(0, ...epochs);
    const holder = epoch > 0 ? await readLease(store, kind, epoch, log) : undefined;
    if (holder === null) continue; // look again: at the numbers there are now
    // A first sight counts from after the read, so from after the holder's write of what it read.
    const seenAt = performance.now();
    // Our own write: a retried one whose first try went through. (Not an object of an earlier ask
    // under this owner: one let go says so to every waiter, and one still held is another's hold.)
    if (holder?.owner === owner && triedAt !== undefined) return hold(store, kind, holder, triedAt, leaseMs, log);
    /** How long until this waiter may take it over: at once when there is none, it is let go, or it is unreadable. */
    let takenIn = 0;
    if (holder && !holder.released) {
      const object = `${epoch} ${JSON.stringify(holder)}`;
      if (watched?.object !== object) watched = { object, since: seenAt };
      takenIn = lastsMs(holder, leaseMs) - (lookedAt - watched.since);
    }
    if (takenIn <= 0) {
      triedAt = performance.now();
      const now = Date.now();
      const lease = { owner, epoch: epoch + 1, acquiredAt: new Date(now).toISOString(), expiresAt: new Date(now + leaseMs).toISOString(), leaseMs };
      try {
        await store.put(keyOf(kind, lease.epoch), encode(lease), { ifAbsent: true, contentType: 'application/json' });
      } catch (error) {
        if (error instanceof ObjectExistsError) continue; // another trainer took this number first
        throw error;
      }
      if (holder && !holder.released) log.warn({ previous: holder.owner, expiredAt: holder.expiresAt, epoch: lease.epoch }, `took over the ${kind.holder} lease of a ${kind.holder} that stopped renewing it`);
      // Those there are: every number below would be a request each, as many as holders ever were.
      for (const older of epochs) if (older < epoch) await store.delete(keyOf(kind, older));
      return hold(store, kind, lease, triedAt, leaseMs, log);
    }
    if (waitingFor !== holder!.owner) {
      // Its expiresAt is on the holder's clock, for people: this waiter takes over once it has seen the object unrenewed that long.
      log.info({ holder: holder!.owner, expiresAt: holder!.expiresAt, takenOverUnrenewedForMs: lastsMs(holder!, leaseMs) }, `another ${kind.holder} holds the lease of ${kind.of}: waiting for it`);
      onWait?.(holder!);
    }
    waitingFor = holder!.owner;
    await sleep(Math.min(takenIn + 10, leaseMs / 4), undefined, { signal }).catch(() => {});
  }
  return undefined;
}

/** Holds `taken`, whose write was sent at `takenAt` (the monotonic clock). */
function hold(store: ObjectStore, kind: LeaseKind, taken: LeaseRecord, takenAt: number, leaseMs: number, log: StageLogger): HeldLease {
  const lost = new AbortController();
  let lease = taken;
  /** When it expires on this process's monotonic clock: a step of the wall clock neither loses it nor stretches it. */
  let expiresAt = takenAt + leaseMs;
  let renewing: Promise<void> = Promise.resolve();
  let releasing = false;
  /** A renewal has been sent and not answered: the event loop's use until then (see tick). */
  let unansweredSince: EventLoopUtilization | undefined;
  const lose = (reason: string) => {
    if (lost.signal.aborted) return;
    clearInterval(timer);
    log.error({ epoch: lease.epoch, owner: lease.owner }, `lost the ${kind.holder} lease: ${reason}`);
    lost.abort(new Error(`lost the ${kind.holder} lease: ${reason}`));
  };
  /**
   * `work`, or until the lease is lost, whichever ends first (a store call with no bound never
   * does). Its listener goes with it: a cpu trainer asks at every checkpoint, for weeks.
   */
  const untilLost = async (work: Promise<unknown>) => {
    if (lost.signal.aborted) return;
    let onLost!: () => void;
    try {
      await Promise.race([work, new Promise<void>((resolve) => lost.signal.addEventListener('abort', (onLost = () => resolve()), { once: true }))]);
    } finally {
      lost.signal.removeEventListener('abort', onLost);
    }
  };
  const TAKEN = `a later ${kind.holder} took it (this one stalled past its expiry)`;
  /**
   * Renews a lease that expired (or nearly: another may have read it expired before a rewrite
   * lands) by taking the next number, as a takeover does, with a write only a new key allows: of
   * this holder and another taking it over, one wins. False when another did.
   */
  const renewByNextNumber = async (expiresAtWall: string): Promise<boolean> => {
    const next = { ...lease, epoch: lease.epoch + 1, expiresAt: expiresAtWall, leaseMs };
    try {
      await store.put(keyOf(kind, next.epoch), encode(next), { ifAbsent: true, contentType: 'application/json' });
    } catch (error) {
      if (!(error instanceof ObjectExistsError)) throw error;
      // Our own: a retried write whose first try went through.
      if ((await readLease(store, kind, next.epoch, log))?.owner !== lease.owner) return false;
    }
    const expiredAt = lease.expiresAt;
    lease = next;
    log.warn({ epoch: next.epoch, expiredAt }, `renewed the ${kind.holder} lease after it expired (this ${kind.holder} was held up, by a long training step say): no other ${kind.holder} had taken it`);
    // The object renewed stays, as a takeover leaves the one it took over: a write of its number
    // landing only now (a trainer that read the lease before this one took that number, its put
    // tried again after a timeout) finds it there. The one before it goes.
    const older = next.epoch - 2;
    if (older > 0) await store.delete(keyOf(kind, older)).catch((error: Error) => log.warn({ epoch: older, error: error.message }, `could not delete an old ${kind.holder} lease object: the next ${kind.holder} to take the lease deletes it`));
    return true;
  };
  const renew = async () => {
    if (lost.signal.aborted) return;
    unansweredSince = performance.eventLoopUtilization();
    try {
      if ((await latestEpoch(store, kind)) > lease.epoch) return lose(TAKEN);
      const renewedAt = performance.now();
      const expiresAtWall = new Date(Date.now() + leaseMs).toISOString();
      // Rewritten in place only well before it expires (no waiter takes it before then: see the
      // header). A rewrite sent with more than a third of the lease left lands before then unless
      // the store takes that third to answer; one landing after a waiter's last look would give
      // the lease to both. Nearer the expiry, the next number: a write only one of this holder and
      // a waiter taking over can make.
      if (expiresAt - renewedAt > leaseMs / 3) {
        lease = { ...lease, expiresAt: expiresAtWall, leaseMs, renewals: (lease.renewals ?? 0) + 1 };
        await store.put(keyOf(kind, lease.epoch), encode(lease), { contentType: 'application/json' });
      } else if (!(await renewByNextNumber(expiresAtWall))) return lose(TAKEN);
      expiresAt = renewedAt + leaseMs;
    } catch (error) {
      if (performance.now() >= expiresAt) return lose(`it could not be renewed before it expired (${(error as Error).message})`);
      log.warn({ epoch: lease.epoch, error: (error as Error).message }, `renewing the ${kind.holder} lease failed: tried again`);
    } finally {
      unansweredSince = undefined;
    }
  };
  // Expiry is watched apart from the renewals: one that never answers (a store call with no
  // bound) would hold every later one behind it, and the lease would run out unnoticed. A renewal
  // never answers when the loop waited idle a third of the lease for it: time the loop was held
  // (a long synchronous training step) does not count, as an answer that came meanwhile had no
  // turn to be heard (after the step this tick runs before it). Expired with no renewal under way,
  // the loop was held: the renewal then asks the store whether a later trainer took it, and takes
  // the next number if none did.
  const tick = () => {
    if (!lost.signal.aborted && unansweredSince !== undefined && performance.now() >= expiresAt && performance.eventLoopUtilization(unansweredSince).idle >= leaseMs / 3) return lose('it expired while a renewal had not answered');
    if (!releasing) renewing = renewing.then(renew);
  };
  const timer = setInterval(tick, leaseMs / 3);
  timer.unref();
  return {
    get epoch() {
      return lease.epoch;
    },
    lost: lost.signal,
    async confirm() {
      // Expired here, perhaps only because this process was held up: a renewal decides, as the timer's would.
      if (!lost.signal.aborted && performance.now() >= expiresAt) await untilLost((renewing = renewing.then(renew)));
      if (!lost.signal.aborted && (await latestEpoch(store, kind)) > lease.epoch) lose(TAKEN);
      if (lost.signal.aborted) throw lost.signal.reason as Error;
    },
    async release() {
      releasing = true;
      // A renewal under way is waited for, unless it hangs past the expiry: the lease is lost then, with nothing to let go.
      await untilLost(renewing);
      clearInterval(timer);
      if (lost.signal.aborted) return;
      await store.put(keyOf(kind, lease.epoch), encode({ ...lease, expiresAt: new Date().toISOString(), released: true }), { contentType: 'application/json' });
    },
  };
}
