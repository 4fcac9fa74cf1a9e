/**
 * Another trainer, in a thread of its own: asks for the lease of a store (a folder's file URL, or
 * an S3 bucket's URL with the moto server's endpoint), for the tests whose own event loop is
 * blocked meanwhile (Atomics.wait) as a long training step blocks it, and for those of a host
 * whose wall clock is off (this thread's Date.now, shifted). Posts what it got, a TakerOutcome.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { testCredentials } from '../../infra/s3-server.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { acquireLease } from '../../store/lease.js';
import type { ObjectStore } from '../../store/object-store.js';
import { S3Store } from '../../store/s3.js';

export interface LeaseTaker {
  url: string;
  endpoint: string;
  leaseMs: number;
  /** Set to the number of the lease once it is taken (-1: stopped without it), and notified. */
  taken: Int32Array;
  /** How far this thread's wall clock is ahead of the test's (behind when negative). */
  shiftMs?: number;
  /** Its writes of lease objects set `writing` (notified), then wait until `mayWrite` is set. */
  gate?: { writing: Int32Array; mayWrite: Int32Array };
  /** Set: it stops waiting for the lease. */
  stop?: Int32Array;
}

/** The lease's number, if it took it, and after how long by its monotonic clock. */
export interface TakerOutcome {
  epoch?: number;
  waitedMs: number;
}

const { url, endpoint, leaseMs, taken, shiftMs = 0, gate, stop } = workerData as LeaseTaker;
const wallClock = Date.now;
Date.now = () => wallClock() + shiftMs;

const set = (flag: Int32Array, value: number) => (Atomics.store(flag, 0, value), Atomics.notify(flag, 0));
const until = async (flag: Int32Array) => {
  while (Atomics.load(flag, 0) === 0) await sleep(5);
};

const opened: ObjectStore = url.startsWith('s3://') ? new S3Store({ bucket: url.slice('s3://'.length), endpoint, forcePathStyle: true, credentials: testCredentials }) : new FolderStore(fileURLToPath(url));
const store: ObjectStore = gate
  ? {
      url: opened.url,
      list: (prefix, listOptions) => opened.list(prefix, listOptions),
      head: (key, requestOptions) => opened.head(key, requestOptions),
      get: (key, getOptions) => opened.get(key, getOptions),
      put: async (key, body, putOptions) => (set(gate.writing, 1), await until(gate.mayWrite), opened.put(key, body, putOptions)),
      delete: (key, requestOptions) => opened.delete(key, requestOptions),
    }
  : opened;
const stopping = new AbortController();
if (stop) void until(stop).then(() => stopping.abort());

const started = performance.now();
const lease = await acquireLease(store, { owner: 'taker', log: silentLogger, leaseMs, signal: stopping.signal });
const outcome: TakerOutcome = { ...(lease && { epoch: lease.epoch }), waitedMs: performance.now() - started };
set(taken, lease?.epoch ?? -1);
parentPort!.postMessage(outcome);
