import type { ShardCatalog } from '../shards/types.js';
import type { ObjectStore } from '../store/object-store.js';

/**
 * The shard catalog over a store, for `retrain` and `trainer`. The shard store's reader is built
 * beside the trainer (shards/, the shard sink's issue) and is not in this branch: merging it
 * makes this function return its catalog over `store`. Until then the commands say so and exit 1.
 */
export function openShardCatalog(store: ObjectStore): ShardCatalog {
  throw new Error(`reading the shards in ${store.url} needs the shard store's reader (shards/), which this build does not have yet`);
}
