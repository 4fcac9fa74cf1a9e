/**
 * One trainer per model store (and one polling consumer per progress record: the same lease in
 * another folder). The lease is a numbered object in the store, trainer-lease/000000000001.json
 * and up: the owner of the highest number holds it while its expiresAt is to come. A trainer takes
 * the lease by writing the next number with a write that only a new key allows (`ifAbsent`), so of
 * two trainers at once one wins. The holder renews its own object every third of the lease's time,
 * and learns it has lost the lease when a higher number appears (it stalled past its expiry and
 * another took over) or it could not renew in time.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StageLogger } from '../stages/stage.js';
import { ObjectExistsError } from './errors.js';
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
  expiresAt: string;
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
  epoch: number;
  /** Aborts, with the reason, when the lease is lost. */
  lost: AbortSignal;
  /** Rejects unless the lease is still this trainer's, asking the store now: before an act another trainer must not repeat. */
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

async function readLease(store: ObjectStore, kind: LeaseKind, epoch: number, log: StageLogger): Promise<LeaseRecord | undefined> {
  const key = keyOf(kind, epoch);
  try {
    const lease = JSON.parse(new TextDecoder().decode(await store.get(key))) as LeaseRecord;
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

/** Waits until this trainer holds the store's lease; undefined when `signal` aborts first. */
export async function acquireLease(store: ObjectStore, { owner, log, leaseMs = DEFAULT_LEASE_MS, signal, kind = TRAINER_LEASE, onWait }: LeaseOptions): Promise<HeldLease | undefined> {
  let waitingFor: string | undefined;
  while (!signal?.aborted) {
    const epochs = await epochsIn(store, kind);
    const epoch = Math.max(0, ...epochs);
    const holder = epoch > 0 ? await readLease(store, kind, epoch, log) : undefined;
    // Our own: a retried write whose first try went through.
    if (holder?.owner === owner) return hold(store, kind, holder, leaseMs, log);
    const expiresIn = holder ? Date.parse(holder.expiresAt) - Date.now() : 0;
    if (expiresIn <= 0) {
      const now = Date.now();
      const lease = { owner, epoch: epoch + 1, acquiredAt: new Date(now).toISOString(), expiresAt: new Date(now + leaseMs).toISOString() };
      try {
        await store.put(keyOf(kind, lease.epoch), encode(lease), { ifAbsent: true, contentType: 'application/json' });
      } catch (error) {
        if (error instanceof ObjectExistsError) continue; // another trainer took this number first
        throw error;
      }
      if (holder && !holder.released) log.warn({ previous: holder.owner, expiredAt: holder.expiresAt, epoch: lease.epoch }, `took over the ${kind.holder} lease of a ${kind.holder} that stopped renewing it`);
      // Those there are: every number below would be a request each, as many as holders ever were.
      for (const older of epochs) if (older < epoch) await store.delete(keyOf(kind, older));
      return hold(store, kind, lease, leaseMs, log);
    }
    if (waitingFor !== holder!.owner) {
      log.info({ holder: holder!.owner, until: holder!.expiresAt }, `another ${kind.holder} holds the lease of ${kind.of}: waiting for it`);
      onWait?.(holder!);
    }
    waitingFor = holder!.owner;
    await sleep(Math.min(expiresIn + 10, leaseMs / 4), undefined, { signal }).catch(() => {});
  }
  return undefined;
}

function hold(store: ObjectStore, kind: LeaseKind, lease: LeaseRecord, leaseMs: number, log: StageLogger): HeldLease {
  const lost = new AbortController();
  let expiresAt = Date.parse(lease.expiresAt);
  let renewing: Promise<void> = Promise.resolve();
  let releasing = false;
  /** A renewal has been sent and not answered. */
  let unanswered = false;
  const lose = (reason: string) => {
    if (lost.signal.aborted) return;
    clearInterval(timer);
    log.error({ epoch: lease.epoch, owner: lease.owner }, `lost the ${kind.holder} lease: ${reason}`);
    lost.abort(new Error(`lost the ${kind.holder} lease: ${reason}`));
  };
  const TAKEN = `a later ${kind.holder} took it (this one stalled past its expiry)`;
  const renew = async () => {
    if (lost.signal.aborted) return;
    unanswered = true;
    try {
      if ((await latestEpoch(store, kind)) > lease.epoch) return lose(TAKEN);
      const until = Date.now() + leaseMs;
      await store.put(keyOf(kind, lease.epoch), encode({ ...lease, expiresAt: new Date(until).toISOString() }), { contentType: 'application/json' });
      expiresAt = until;
    } catch (error) {
      if (Date.now() >= expiresAt) return lose(`it could not be renewed before it expired (${(error as Error).message})`);
      log.warn({ epoch: lease.epoch, error: (error as Error).message }, `renewing the ${kind.holder} lease failed: tried again`);
    } finally {
      unanswered = false;
    }
  };
  // Expiry is watched apart from the renewals: one that never answers (a store call with no
  // bound) would hold every later one behind it, and the lease would run out unnoticed. Expired
  // with no renewal under way, the loop was held (a long synchronous training step): the renewal
  // then asks the store whether a later trainer took it, as it does every time.
  const tick = () => {
    if (!lost.signal.aborted && unanswered && Date.now() >= expiresAt) return lose('it expired while a renewal had not answered');
    if (!releasing) renewing = renewing.then(renew);
  };
  const timer = setInterval(tick, leaseMs / 3);
  timer.unref();
  return {
    epoch: lease.epoch,
    lost: lost.signal,
    async confirm() {
      if (!lost.signal.aborted && Date.now() >= expiresAt) lose('it expired before it was renewed');
      if (!lost.signal.aborted && (await latestEpoch(store, kind)) > lease.epoch) lose(TAKEN);
      if (lost.signal.aborted) throw lost.signal.reason as Error;
    },
    async release() {
      releasing = true;
      // A renewal under way is waited for, unless it hangs past the expiry: the lease is lost then, with nothing to let go.
      if (!lost.signal.aborted) await Promise.race([renewing, new Promise((resolve) => lost.signal.addEventListener('abort', resolve, { once: true }))]);
      clearInterval(timer);
      if (lost.signal.aborted) return;
      await store.put(keyOf(kind, lease.epoch), encode({ ...lease, expiresAt: new Date().toISOString(), released: true }), { contentType: 'application/json' });
    },
  };
}
