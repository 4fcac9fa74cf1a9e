import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ObjectNotFoundError, StoreError } from '../../store/errors.js';
import { FallbackStore } from '../../store/fallback.js';
import { FolderStore } from '../../store/folder.js';
import type { ObjectInfo, ObjectStore } from '../../store/object-store.js';

const work = await mkdtemp(join(tmpdir(), 'hrrr-embed-fallback-store-'));
after(() => rm(work, { recursive: true, force: true }));

const folder = (name: string) => new FolderStore(join(work, name));
const bytes = (...values: number[]) => new Uint8Array(values);

/** A store that cannot be reached: every request fails with a retriable StoreError naming it. */
function unreachable(url: string): ObjectStore {
  const down = (key: string) => new StoreError('network', `${url}/${key}`, 'connect ECONNREFUSED');
  return {
    url,
    list: (prefix) => ({ [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(down(prefix)) }) }),
    head: (key) => Promise.reject(down(key)),
    get: (key) => Promise.reject(down(key)),
    put: (key) => Promise.reject(down(key)),
    delete: (key) => Promise.reject(down(key)),
  };
}

async function listed(store: ObjectStore, prefix = ''): Promise<ObjectInfo[]> {
  const found = [];
  for await (const info of store.list(prefix)) found.push(info);
  return found;
}

describe('FallbackStore, beyond reading the next store', () => {
  it('writes and deletes in the first store alone, leaving the stores after it as they are', async () => {
    const [first, second] = [folder('write-first'), folder('write-second')];
    await second.put('kept', bytes(2));
    const both = new FallbackStore([first, second]);
    await both.put('written', bytes(1));
    assert.deepEqual(await first.get('written'), bytes(1));
    assert.equal(await second.head('written'), undefined);
    await first.put('kept', bytes(1));
    await both.delete('kept');
    assert.equal(await first.head('kept'), undefined);
    assert.deepEqual(await second.get('kept'), bytes(2));
  });

  it('lists a key that several stores hold once, as the first store has it', async () => {
    const [first, second] = [folder('list-first'), folder('list-second')];
    await first.put('b', bytes(1));
    await second.put('a', bytes(2, 2));
    await second.put('b', bytes(2, 2, 2));
    const infos = await listed(new FallbackStore([first, second]));
    assert.deepEqual(infos.map(({ key, size }) => [key, size]), [['a', 2], ['b', 1]]);
  });

  it('fails a listing when every store fails, with a failure of theirs, rather than giving an empty listing', async () => {
    const both = new FallbackStore([unreachable('s3://first'), unreachable('s3://second')]);
    await assert.rejects(listed(both, 'hrrr.'), (error: unknown) => error instanceof StoreError && error.kind === 'network' && error.message === 's3://second/hrrr.: connect ECONNREFUSED');
  });

  it('gives the failure of a store that could not answer, not "no such object", when no other store has the object', async () => {
    const both = new FallbackStore([unreachable('s3://first'), folder('lacking')]);
    const isFailure = (error: unknown) => error instanceof StoreError && !(error instanceof ObjectNotFoundError) && error.message === 's3://first/x: connect ECONNREFUSED';
    await assert.rejects(both.get('x'), isFailure);
    await assert.rejects(both.head('x'), isFailure);
  });
});
