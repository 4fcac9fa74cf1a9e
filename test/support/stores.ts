import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FolderStore } from '../../store/folder.js';
import type { ObjectStore } from '../../store/object-store.js';
import { S3Server } from '../../infra/s3-server.js';

/** One kind of store the same tests run against: a local folder, and moto's real S3 server. */
export interface StoreKind {
  name: string;
  /** A new, empty store. */
  create(): Promise<ObjectStore>;
}

/** The store kinds, started once for a test file; `stop` removes what they made. */
export async function storeKinds(): Promise<{ kinds: StoreKind[]; server: S3Server; stop: () => Promise<void> }> {
  const server = await S3Server.start();
  const folders: string[] = [];
  let buckets = 0;
  return {
    server,
    kinds: [
      {
        name: 'local folder',
        async create() {
          const folder = await mkdtemp(join(tmpdir(), 'hrrr-embed-store-'));
          folders.push(folder);
          return new FolderStore(folder);
        },
      },
      { name: 'S3 (moto server)', create: () => server.store(`bucket-${process.pid}-${++buckets}`) },
    ],
    async stop() {
      await server.stop();
      await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
    },
  };
}
