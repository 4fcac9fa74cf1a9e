/**
 * One trainer per model store. The lease is a numbered object in the store,
 * trainer-lease/000000000001.json and up: the owner of the highest number holds it while its
 * expiresAt is to come. A trainer takes the lease by writing the next number with a write that
 * only a new key allows (`ifAbsent`), so of two trainers at once one wins. The holder renews its
 * own object every third of the lease's time, and learns it has lost the lease when a higher
 * number appears (it stalled past its expiry and another took over) or it could not renew in time.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { StageLogger } from '../stages/stage.js';
import { ObjectExistsError } from '../store/errors.js';
import type { ObjectStore } from '../store/object-store.js';

const FOLDER = 'trainer-lease/';
const keyOf = (epoch: number) => `${FOLDER}${String(epoch).padStart(12, '0')}.json`;
const EPOCH_KEY = /^trainer-lease\/(\d{12})\.json$/;

export const DEFAULT_LEASE_MS = 60_000;

export interface LeaseRecord {
  owner: string;
  epoch: number;
  acquiredAt: string;
  expiresAt: string;
}

export interface LeaseOptions {
  /** Who asks: unique to this process (host, pid and a random part). */
  owner: string;
  log: StageLogger;
  /** How long the lease lasts unless renewed (default a minute). */
  leaseMs?: number;
  /** Stops waiting for a lease another trainer holds. */
  signal?: AbortSignal;
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

async function latestEpoch(store: ObjectStore): Promise<number> {
  let latest = 0;
  for await (const { key } of store.list(FOLDER)) {
    const match = EPOCH_KEY.exec(key);
    if (match) latest = Math.max(latest, Number(match[1]));
  }
  return latest;
}

async function readLease(store: ObjectStore, epoch: number, log: StageLogger): Promise<LeaseRecord | undefined> {
  const key = keyOf(epoch);
  try {
    const lease = JSON.parse(new TextDecoder().decode(await store.get(key))) as LeaseRecord;
    if (typeof lease.owner === 'string' && !Number.isNaN(Date.parse(lease.expiresAt))) return lease;
  } catch {
    // Read as expired below: the next number fences whoever wrote it.
  }
  log.warn({ lease: `${store.url}/${key}` }, 'the trainer lease object is unreadable: taken as expired');
  return undefined;
}

const encode = (lease: LeaseRecord) => new TextEncoder().encode(`${JSON.stringify(lease)}\n`);

/** Waits until this trainer holds the store's lease; undefined when `signal` aborts first. */
export async function acquireTrainerLease(store: ObjectStore, { owner, log, leaseMs = DEFAULT_LEASE_MS, signal }: LeaseOptions): Promise<HeldLease | undefined> {
  let waitingFor: string | undefined;
  while (!signal?.aborted) {
    const epoch = await latestEpoch(store);
    const holder = epoch > 0 ? await readLease(store, epoch, log) : undefined;
    // Our own: a retried write whose first try went through.
    if (holder?.owner === owner) return hold(store, holder, leaseMs, log);
    const expiresIn = holder ? Date.parse(holder.expiresAt) - Date.now() : 0;
    if (expiresIn <= 0) {
      const now = Date.now();
      const lease = { owner, epoch: epoch + 1, acquiredAt: new Date(now).toISOString(), expiresAt: new Date(now + leaseMs).toISOString() };
      try {
        await store.put(keyOf(lease.epoch), encode(lease), { ifAbsent: true, contentType: 'application/json' });
      } catch (error) {
        if (error instanceof ObjectExistsError) continue; // another trainer took this number first
        throw error;
      }
      if (holder) log.warn({ previous: holder.owner, expiredAt: holder.expiresAt, epoch: lease.epoch }, 'took over the trainer lease of a trainer that stopped renewing it');
      for (let older = 1; older < epoch; older++) await store.delete(keyOf(older));
      return hold(store, lease, leaseMs, log);
    }
    if (waitingFor !== holder!.owner) log.info({ holder: holder!.owner, until: holder!.expiresAt }, 'another trainer holds the lease of this model store: waiting for it');
    waitingFor = holder!.owner;
    await sleep(Math.min(expiresIn + 10, leaseMs / 4), undefined, { signal }).catch(() => {});
  }
  return undefined;
}

function hold(store: ObjectStore, lease: LeaseRecord, leaseMs: number, log: StageLogger): HeldLease {
  const lost = new AbortController();
  let expiresAt = Date.parse(lease.expiresAt);
  let renewing: Promise<void> = Promise.resolve();
  const lose = (reason: string) => {
    clearInterval(timer);
    log.error({ epoch: lease.epoch, owner: lease.owner }, `lost the trainer lease: ${reason}`);
    lost.abort(new Error(`lost the trainer lease: ${reason}`));
  };
  const TAKEN = 'a later trainer took it (this one stalled past its expiry)';
  const renew = async () => {
    try {
      if ((await latestEpoch(store)) > lease.epoch) return lose(TAKEN);
      const until = Date.now() + leaseMs;
      await store.put(keyOf(lease.epoch), encode({ ...lease, expiresAt: new Date(until).toISOString() }), { contentType: 'application/json' });
      expiresAt = until;
    } catch (error) {
      if (Date.now() >= expiresAt) return lose(`it could not be renewed before it expired (${(error as Error).message})`);
      log.warn({ epoch: lease.epoch, error: (error as Error).message }, 'renewing the trainer lease failed: tried again');
    }
  };
  const timer = setInterval(() => (renewing = renewing.then(renew)), leaseMs / 3);
  timer.unref();
  return {
    epoch: lease.epoch,
    lost: lost.signal,
    async confirm() {
      if (!lost.signal.aborted && Date.now() >= expiresAt) lose('it expired before it was renewed');
      if (!lost.signal.aborted && (await latestEpoch(store)) > lease.epoch) lose(TAKEN);
      if (lost.signal.aborted) throw lost.signal.reason as Error;
    },
    async release() {
      clearInterval(timer);
      await renewing;
      if (lost.signal.aborted) return;
      await store.put(keyOf(lease.epoch), encode({ ...lease, expiresAt: new Date().toISOString() }), { contentType: 'application/json' });
    },
  };
}
