import { CorruptShardError } from '../shards/catalog.js';
import type { ShardCatalog } from '../shards/types.js';
import type { StageLogger } from '../stages/stage.js';

/**
 * The catalog a run reads through: a shard that fails its checks (missing object, another size
 * or checksum, unreadable) is left out with an error naming it in the log, and the run goes on
 * with the others, instead of one bad object failing every run over its days. A store that
 * keeps failing still fails the run, which resumes later with every shard.
 */
export function leavingOutCorruptShards(catalog: ShardCatalog, log: StageLogger): ShardCatalog {
  return {
    url: catalog.url,
    list: (query) => catalog.list(query),
    async *read(manifest) {
      try {
        yield* catalog.read(manifest);
      } catch (error) {
        if (!(error instanceof CorruptShardError)) throw error;
        log.error({ shard: manifest.id, dataKey: manifest.dataKey }, `shard left out: ${error.message}`);
      }
    },
  };
}
