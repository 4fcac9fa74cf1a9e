import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Embedding } from '../../bus/records.js';
import { cosine, euclidean, findEmbedding, nearest } from '../../search/similar.js';
import { formatHour } from '../../stages/sources/hrrr-archive.js';
import { silentLogger } from '../../stages/stage.js';
import { hour } from '../support/analyses.js';

const at = (n: number, embedding: number[], modelVersion = 'v1'): Embedding => ({
  validTime: hour(n),
  referenceTime: hour(n),
  source: { store: 'file://', key: `k${n}`, byteStart: null, byteEnd: null },
  field: 'REFC:entire atmosphere:anl',
  modelId: 'file:///models',
  modelVersion,
  embedding,
  reconstructionError: 0,
  normalization: { missingAs: 0, clipMin: 0, clipMax: 60, divisor: 60 },
  crop: { firstRow: 0, rows: 1, firstColumn: 0, columns: 1, downsample: 1 },
});

/** Numbers from a fixed seed (Park and Miller), so that a failure can be replayed. */
function numbers(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 16_807) % 2_147_483_647) / 2_147_483_647;
}

/** The k nearest by brute force: every distance, sorted, ties by time. */
function bruteForce(query: Embedding, embeddings: Embedding[], k: number): string[] {
  return embeddings
    .filter((e) => e !== query && e.embedding.every(Number.isFinite))
    .map((e) => ({ time: e.validTime.getTime(), distance: euclidean(query.embedding, e.embedding) }))
    .sort((a, b) => a.distance - b.distance || a.time - b.time)
    .slice(0, k)
    .map(({ time }) => formatHour(new Date(time)));
}

describe('nearest embeddings, against a brute-force ranking', () => {
  it('leaves out an embedding that is not a point (NaN), and still ranks the others nearest first', () => {
    const random = numbers(7);
    for (let trial = 0; trial < 40; trial++) {
      const embeddings = Array.from({ length: 40 }, (_, n) => at(n, Array.from({ length: 5 }, random)));
      embeddings[1 + trial * 37 % 39]!.embedding[2] = NaN;
      const found = nearest(embeddings[0]!, embeddings, 39, silentLogger);
      assert.deepEqual(found.map((neighbour) => neighbour.validTime), bruteForce(embeddings[0]!, embeddings, 39), `trial ${trial}`);
      assert.ok(found.every((neighbour) => Number.isFinite(neighbour.distance) && Number.isFinite(neighbour.similarity)));
    }
  });

  it('refuses a query that is not a point, naming it', () => {
    const embeddings = [at(0, [0, NaN]), at(1, [1, 1])];
    assert.throws(() => nearest(embeddings[0]!, embeddings, 5, silentLogger), /embedding of REFC:entire atmosphere:anl at 2019-09-20T00Z by model version v1 holds a number that is not finite/);
  });

  it('leaves out an embedding of another length, with a warning naming its hour, and ranks the rest', () => {
    const warnings: string[] = [];
    const log = { ...silentLogger, warn: (_: object, message?: string) => void warnings.push(message ?? '') };
    const embeddings = [at(0, [0, 0]), at(1, [3, 0]), at(2, [1, 1, 1]), at(3, [0, 1])];
    assert.deepEqual(nearest(embeddings[0]!, embeddings, 10, log).map(({ validTime, distance }) => [validTime, distance]), [['2019-09-20T03Z', 1], ['2019-09-20T01Z', 3]]);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /2019-09-20T02Z: .*3 numbers, not 2/);
  });

  it('k larger than the population gives all of it; ties go by time; a zero vector has cosine 0; one record alone has no neighbour', () => {
    const embeddings = [at(5, [0, 0]), at(7, [0, 1]), at(3, [1, 0]), at(4, [0, -1])];
    const found = nearest(embeddings[0]!, embeddings, 100, silentLogger);
    assert.deepEqual(found.map(({ rank, validTime }) => [rank, validTime]), [[1, '2019-09-20T03Z'], [2, '2019-09-20T04Z'], [3, '2019-09-20T07Z']]);
    assert.deepEqual(found.map(({ similarity }) => similarity), [0, 0, 0], 'the cosine with a zero vector is 0, not NaN');
    assert.deepEqual(nearest(embeddings[0]!, [embeddings[0]!], 3, silentLogger), []);
  });
});

describe('nearest embeddings', () => {
  it('compares only embeddings of the query model version, and ranks by Euclidean distance', () => {
    const embeddings = [at(0, [0, 0]), at(1, [3, 4]), at(2, [1, 0]), at(3, [0, 0], 'v2'), at(3, [10, 10])];
    const query = findEmbedding(embeddings, { field: 'REFC:entire atmosphere:anl', validTime: hour(0) });
    assert.deepEqual(
      nearest(query, embeddings, 10, silentLogger).map(({ validTime, distance }) => [validTime, distance]),
      [
        ['2019-09-20T02Z', 1],
        ['2019-09-20T01Z', 5],
        ['2019-09-20T03Z', Math.hypot(10, 10)],
      ],
    );
    assert.equal(findEmbedding(embeddings, { field: 'REFC:entire atmosphere:anl', validTime: hour(3), modelVersion: 'v2' }).modelVersion, 'v2');
    assert.throws(() => findEmbedding(embeddings, { field: 'REFC:entire atmosphere:anl', validTime: hour(0), modelVersion: 'v9' }), /by model version v9; there are: v1/);
  });

  it('computes cosine and distance as by hand', () => {
    assert.equal(euclidean([1, 2, 3], [4, 6, 3]), 5);
    assert.equal(cosine([1, 0], [0, 1]), 0);
    assert.ok(Math.abs(cosine([1, 1], [2, 2]) - 1) < 1e-12);
    assert.equal(cosine([0, 0], [1, 1]), 0);
    assert.throws(() => euclidean([1], [1, 2]), /1 and 2 numbers/);
  });
});
