/**
 * Which shards are held out from training to evaluate candidates on. The choice goes by a hash of
 * the shard's id alone, so a shard held out once stays held out in every later retraining (and a
 * candidate is never judged on fields it was trained on, nor on fields an earlier version was).
 */
import { createHash } from 'node:crypto';
import type { ShardManifest } from '../shards/types.js';

/** Where a shard's id falls in [0, 1): the first 32 bits of its SHA-256. */
export function shardHash(id: string): number {
  return createHash('sha256').update(id).digest().readUInt32BE(0) / 2 ** 32;
}

export interface ShardSplit {
  train: ShardManifest[];
  heldOut: ShardManifest[];
}

/**
 * Shards whose hash is below `fraction` are held out. With two shards or more, at least one is held
 * out and at least one is trained on: when the hash leaves a side empty, the shard of lowest hash
 * (highest, for training) moves over; that exception can change as shards arrive, the rule cannot.
 */
export function splitShards(shards: readonly ShardManifest[], fraction: number): ShardSplit {
  if (!(fraction >= 0 && fraction < 1)) throw new Error(`held-out fraction ${fraction}: must be at least 0 and below 1`);
  const byHash = [...shards].sort((a, b) => shardHash(a.id) - shardHash(b.id));
  let cut = byHash.findIndex((shard) => shardHash(shard.id) >= fraction);
  if (cut < 0) cut = byHash.length;
  if (shards.length >= 2) cut = Math.min(Math.max(cut, 1), shards.length - 1);
  const heldOut = new Set(byHash.slice(0, cut).map((shard) => shard.id));
  return { train: shards.filter((shard) => !heldOut.has(shard.id)), heldOut: shards.filter((shard) => heldOut.has(shard.id)) };
}
