import { compactShards, type CompactedDay, type CompactOptions } from '../shards/compact.js';
import type { ObjectStore } from '../store/object-store.js';
import { shardsOfUnfinishedRuns } from './checkpoints.js';

/**
 * Compacts the shards that the trainer of `models` reads, leaving in place those its unfinished
 * runs planned on (a run resumes only with all of them). The caller holds that store's trainer
 * lease, so no run is reading the shards removed.
 */
export async function compactTrainerShards(models: ObjectStore, options: Omit<CompactOptions, 'keep'>): Promise<CompactedDay[]> {
  return compactShards({ ...options, keep: await shardsOfUnfinishedRuns(models) });
}
