/**
 * Training batches streamed from shards, never the whole set in memory. The rows are shuffled in
 * passes over the training shards, each pass like this: the shards in a random order, `interleave`
 * of them read at once (each row taken from a random one of them), through a shuffle buffer of
 * `bufferSize` rows from which a random row leaves as each new one comes in. Everything random
 * comes from the run's seed and the pass's number, so a pass is the same every time it is read:
 * a position (pass, rows of it handed out) is enough to resume the stream exactly, by reading
 * that pass again and skipping what was handed out (reading is cheap beside a training step).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ShardCatalog, ShardManifest, ShardRow } from '../shards/types.js';
import { SeededRandom } from './random.js';

export interface ShuffleSettings {
  /** The run's seed: with the pass number, it decides every random choice of the stream. */
  seed: number;
  /** Shards read at the same time (default 4). */
  interleave: number;
  /** Rows held in the shuffle buffer (default 64): memory is bufferSize x one field. */
  bufferSize: number;
}

/** Where the stream is: rows of pass `pass` already handed out. */
export interface StreamPosition {
  pass: number;
  row: number;
}

export const START: StreamPosition = { pass: 0, row: 0 };

/** The rows of one pass over the shards in their shuffled order, each valid time once. */
async function* shuffledPass(catalog: ShardCatalog, shards: readonly ShardManifest[], settings: ShuffleSettings, pass: number): AsyncGenerator<ShardRow> {
  const random = new SeededRandom(Math.imul(settings.seed ^ 0x9e3779b9, 2654435761) + pass);
  const waiting = random.shuffled(shards);
  const open: AsyncIterator<ShardRow>[] = [];
  const buffer: ShardRow[] = [];
  // An hour kept twice (a re-run, an event delivered again) is trained on once a pass.
  const seen = new Set<number>();
  try {
    while (open.length > 0 || waiting.length > 0) {
      while (open.length < settings.interleave && waiting.length > 0) open.push(catalog.read(waiting.shift()!)[Symbol.asyncIterator]());
      const from = random.below(open.length);
      const next = await open[from]!.next();
      if (next.done) {
        open.splice(from, 1);
        continue;
      }
      if (seen.has(next.value.validTime.getTime())) continue;
      seen.add(next.value.validTime.getTime());
      if (buffer.length < settings.bufferSize) {
        buffer.push(next.value);
        continue;
      }
      const leaving = random.below(buffer.length);
      yield buffer[leaving]!;
      buffer[leaving] = next.value;
    }
    while (buffer.length > 0) {
      const leaving = random.below(buffer.length);
      yield buffer[leaving]!;
      buffer[leaving] = buffer.at(-1)!;
      buffer.pop();
    }
  } finally {
    await Promise.all(open.map((reader) => reader.return?.()));
  }
}

/** Rows without end, pass after pass, from `start`; each with the position just after it. */
export async function* shuffledRows(catalog: ShardCatalog, shards: readonly ShardManifest[], settings: ShuffleSettings, start: StreamPosition = START): AsyncGenerator<{ row: ShardRow; after: StreamPosition }> {
  if (shards.length === 0) throw new Error('no shards to train on');
  for (let pass = start.pass; ; pass++) {
    let row = 0;
    for await (const shardRow of shuffledPass(catalog, shards, settings, pass)) {
      row++;
      if (pass === start.pass && row <= start.row) continue;
      yield { row: shardRow, after: { pass, row } };
    }
    if (row === 0) throw new Error(`no training shard could be read (${shards.map((shard) => shard.id).join(', ')}): each was left out (logged "shard left out") or holds no rows`);
  }
}

/** Batches [n, height, width, 1] of rows of the model's cropped shape; each with the stream's position after it. */
export async function* trainingBatches(
  rows: AsyncIterable<{ row: ShardRow; after: StreamPosition }>,
  batchSize: number,
  [height, width]: readonly [number, number],
): AsyncGenerator<{ batch: tf.Tensor4D; after: StreamPosition }> {
  const size = height * width;
  let values = new Float32Array(batchSize * size);
  let count = 0;
  for await (const { row, after } of rows) {
    assertRowShape(row, height, width);
    values.set(row.values, count * size);
    if (++count < batchSize) continue;
    yield { batch: tf.tensor4d(values, [batchSize, height, width, 1]), after };
    values = new Float32Array(batchSize * size);
    count = 0;
  }
}

export function assertRowShape(row: ShardRow, height: number, width: number): void {
  if (row.height !== height || row.width !== width || row.values.length !== height * width) {
    throw new Error(`a row of ${row.field} at ${row.validTime.toISOString()} is ${row.height} x ${row.width}, the model takes ${height} x ${width}`);
  }
}
