/**
 * Another trainer, in a thread of its own: takes the lease of a store (a folder's file URL, or an
 * S3 bucket's URL with the moto server's endpoint) once it expires, then sets its flag, for the test
 * whose own event loop is blocked meanwhile (Atomics.wait) as a long training step blocks it.
 */
import { fileURLToPath } from 'node:url';
import { workerData } from 'node:worker_threads';
import { testCredentials } from '../../infra/s3-server.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { acquireLease } from '../../store/lease.js';
import { S3Store } from '../../store/s3.js';

export interface LeaseTaker {
  url: string;
  endpoint: string;
  leaseMs: number;
  /** Set to 1, and notified, once the lease is taken. */
  taken: Int32Array;
}

const { url, endpoint, leaseMs, taken } = workerData as LeaseTaker;
const store = url.startsWith('s3://') ? new S3Store({ bucket: url.slice('s3://'.length), endpoint, forcePathStyle: true, credentials: testCredentials }) : new FolderStore(fileURLToPath(url));
await acquireLease(store, { owner: 'taker', log: silentLogger, leaseMs });
Atomics.store(taken, 0, 1);
Atomics.notify(taken, 0);
