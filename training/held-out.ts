/**
 * Which shards are held out from training to evaluate candidates on. The choice goes by a hash of
 * the UTC day of the shard's first row alone. The writer never lets a shard span two days, so a
 * day is held out whole: an hour kept twice (in two shards) is on one side, and so are the hours
 * of one day, which are too alike for a held-out field to be new to a model trained on its
 * neighbours. A day held out once stays held out in every later retraining (and a candidate is
 * never judged on fields it was trained on, nor on fields an earlier version was).
 */
import { createHash } from 'node:crypto';
import { byCodeUnits, utcDay } from '../shards/layout.js';
import type { ShardManifest } from '../shards/types.js';

/** Where the UTC day of a shard's first row falls in [0, 1): the first 32 bits of its SHA-256. */
function dayHash(shard: ShardManifest): number {
  return createHash('sha256').update(utcDay(new Date(shard.from))).digest().readUInt32BE(0) / 2 ** 32;
}

export interface ShardSplit {
  train: ShardManifest[];
  heldOut: ShardManifest[];
}

/**
 * Shards whose day's hash is below `fraction` are held out. With two shards or more, at least one
 * is held out and at least one is trained on: when the hash leaves a side empty, the shard of
 * lowest hash (highest, for training; ties go by id) moves over; that exception can change as
 * shards arrive, the rule cannot.
 */
export function splitShards(shards: readonly ShardManifest[], fraction: number): ShardSplit {
  if (!(fraction >= 0 && fraction < 1)) throw new Error(`held-out fraction ${fraction}: must be at least 0 and below 1`);
  const byHash = [...shards].sort((a, b) => dayHash(a) - dayHash(b) || byCodeUnits(a.id, b.id));
  let cut = byHash.findIndex((shard) => dayHash(shard) >= fraction);
  if (cut < 0) cut = byHash.length;
  if (shards.length >= 2) cut = Math.min(Math.max(cut, 1), shards.length - 1);
  const heldOut = new Set(byHash.slice(0, cut).map((shard) => shard.id));
  return { train: shards.filter((shard) => !heldOut.has(shard.id)), heldOut: shards.filter((shard) => heldOut.has(shard.id)) };
}
