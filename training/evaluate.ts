/**
 * Held-out evaluation: several models on the same held-out rows, read once, in order. The loss
 * of a field is its mean log-cosh reconstruction error (model/embed.ts), the training loss.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Autoencoder } from '../model/autoencoder.js';
import { croppedShape } from '../model/config.js';
import { embedBatch } from '../model/embed.js';
import type { ShardCatalog, ShardManifest, ShardRow } from '../shards/types.js';
import { assertRowShape } from './batches.js';

export interface Evaluation {
  /** Per model, the error of each held-out row, in the order read. */
  errors: Float32Array[];
  /** The held-out row with the most echo (a storm rather than clear sky): the one pictured. */
  stormiest: ShardRow | undefined;
}

export async function evaluateHeldOut(models: readonly Autoencoder[], catalog: ShardCatalog, shards: readonly ShardManifest[], batchSize: number): Promise<Evaluation> {
  const [height, width] = croppedShape(models[0]!.config);
  const errors: number[][] = models.map(() => []);
  let stormiest: { row: ShardRow; echo: number } | undefined;
  let pending: ShardRow[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const values = new Float32Array(pending.length * height * width);
    pending.forEach((row, i) => values.set(row.values, i * height * width));
    const batch = tf.tensor4d(values, [pending.length, height, width, 1]);
    try {
      for (const [i, model] of models.entries()) errors[i]!.push(...(await embedBatch(model, batch)).map((result) => result.reconstructionError));
    } finally {
      batch.dispose();
    }
    pending = [];
  };
  for (const shard of shards) {
    for await (const row of catalog.read(shard)) {
      assertRowShape(row, height, width);
      const echo = row.values.reduce((sum, value) => sum + value, 0);
      if (!stormiest || echo > stormiest.echo) stormiest = { row, echo };
      pending.push(row);
      if (pending.length === batchSize) await flush();
    }
  }
  await flush();
  if (errors[0]!.length === 0) throw new Error(`no held-out shard could be read (${shards.map((shard) => shard.id).join(', ')})`);
  return { errors: errors.map((list) => Float32Array.from(list)), stormiest: stormiest?.row };
}

export function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum / values.length;
}

/** The q-quantile (0 to 1) by linear interpolation between the closest ranks (numpy's default). */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) throw new Error('the quantile of no values');
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile ${q}: must be from 0 to 1`);
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  const at = q * (sorted.length - 1);
  const below = Math.floor(at);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below]! + (at - below) * (sorted[above]! - sorted[below]!);
}
