import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { selectBackend } from '../../model/backends.js';
import { silentLogger } from '../../stages/stage.js';
import type { ShardManifest, ShardRow } from '../../shards/types.js';
import { shuffledRows, trainingBatches, type ShuffleSettings, type StreamPosition } from '../../training/batches.js';
import { MemoryShardCatalog, smallShards } from './memory-shards.js';

before(() => selectBackend('cpu', 'training', silentLogger));

const settings: ShuffleSettings = { seed: 3, interleave: 3, bufferSize: 8 };

async function sources(catalog: MemoryShardCatalog, count: number, shuffle = settings, start?: StreamPosition): Promise<string[]> {
  const shards = await catalog.list({ field: 'REFC:entire atmosphere:anl' });
  const out: string[] = [];
  for await (const { row } of shuffledRows(catalog, shards, shuffle, start)) {
    out.push(row.source);
    if (out.length === count) break;
  }
  return out;
}

describe('training batches streamed from shards', () => {
  it('shuffle across shards, the same for the same seed and another for another seed, every row once a pass', async () => {
    const catalog = smallShards(6, 5);
    const first = await sources(catalog, 30);
    assert.deepEqual(await sources(catalog, 30), first);
    assert.notDeepEqual(await sources(catalog, 30, { ...settings, seed: 4 }), first);
    assert.equal(new Set(first).size, 30, 'one pass is every row once');
    const shardsOfFirstTen = new Set(first.slice(0, 10).map((source) => Math.floor(Number(source.split('/').at(-1)) / 5)));
    assert.ok(shardsOfFirstTen.size >= 3, `the first 10 rows come from ${shardsOfFirstTen.size} shards`);
    assert.notDeepEqual((await sources(catalog, 60)).slice(30), first, 'the next pass is in another order');
  });

  it('an hour kept in two shards (a re-run) is trained on once a pass', async () => {
    const catalog = smallShards(3, 4);
    const [first] = await catalog.list({ field: 'REFC:entire atmosphere:anl' });
    const again = { ...first!, id: 'part-again', dataKey: 'memory/part-again.arrow' };
    const rerun = new MemoryShardCatalog([...(await Promise.all((await catalog.list({ field: 'REFC:entire atmosphere:anl' })).map(async (manifest) => ({ manifest, rows: await rowsOf(catalog, manifest) })))), { manifest: again, rows: await rowsOf(catalog, first!) }]);
    const pass = await sources(rerun, 12);
    assert.equal(new Set(pass).size, 12, 'one pass is every hour once');
    assert.deepEqual((await sources(rerun, 24)).slice(12).sort(), [...pass].sort(), 'and the next pass too');
  });

  it('resumes from a position exactly where the stream was', async () => {
    const catalog = smallShards(6, 5);
    const whole = await sources(catalog, 50);
    assert.deepEqual(await sources(catalog, 13, settings, { pass: 1, row: 7 }), whole.slice(37));
  });

  it('reads no more than `interleave` shards at once', async () => {
    let open = 0;
    let most = 0;
    const inner = smallShards(8, 4);
    const counting = {
      url: inner.url,
      list: inner.list.bind(inner),
      async *read(manifest: ShardManifest): AsyncIterable<ShardRow> {
        most = Math.max(most, ++open);
        try {
          yield* inner.read(manifest);
        } finally {
          open--;
        }
      },
    };
    const shards = await inner.list({ field: 'REFC:entire atmosphere:anl' });
    let rows = 0;
    for await (const _ of shuffledRows(counting, shards, settings)) if (++rows === 40) break;
    assert.equal(most, 3);
    assert.equal(open, 0, 'every reader is closed when the stream is');
  });

  it('makes [n, 32, 64, 1] batches, and names a row of the wrong shape', async () => {
    const catalog = smallShards(2, 4);
    const shards = await catalog.list({ field: 'REFC:entire atmosphere:anl' });
    const batches = trainingBatches(shuffledRows(catalog, shards, settings), 4, [32, 64]);
    const { value } = await batches.next();
    assert.deepEqual(value!.batch.shape, [4, 32, 64, 1]);
    value!.batch.dispose();
    await batches.return(undefined);
    await assert.rejects(trainingBatches(shuffledRows(catalog, shards, settings), 4, [32, 128]).next(), /a row of REFC:entire atmosphere:anl at 2019-09-20T\d\d:00:00.000Z is 32 x 64, the model takes 32 x 128/);
  });
});

async function rowsOf(catalog: MemoryShardCatalog, manifest: ShardManifest): Promise<ShardRow[]> {
  const rows: ShardRow[] = [];
  for await (const row of catalog.read(manifest)) rows.push(row);
  return rows;
}
