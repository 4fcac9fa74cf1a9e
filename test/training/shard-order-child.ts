/**
 * Orders of shards that must be the same on every machine, printed by a process of its own so
 * that a test can start it under another locale (ICU takes the default locale from LANG and
 * LC_ALL when the process starts): node shard-order-child.js FOLDER. Two shards of one day, whose
 * ids differ where a Danish collation sorts "aa" after "z"; prints the one held out and the
 * catalog's order.
 */
import { SEED_NORMALIZATION } from '../../model/config.js';
import { openShardCatalog } from '../../shards/catalog.js';
import { DEFAULT_SHARD_PREFIX, MANIFEST_SUFFIX, monthFolder } from '../../shards/layout.js';
import { SHARD_FORMAT, type ShardManifest } from '../../shards/types.js';
import { FolderStore } from '../../store/folder.js';
import { splitShards } from '../../training/held-out.js';

const field = 'REFC:entire atmosphere:anl';
const from = new Date('2019-09-20T00:00:00Z');
const manifest = (id: string): ShardManifest => ({
  format: SHARD_FORMAT,
  id,
  field,
  dataKey: `${monthFolder(DEFAULT_SHARD_PREFIX, field, from)}${id}.arrow`,
  from: from.toISOString(),
  to: '2019-09-20T01:00:00.000Z',
  count: 2,
  height: 38,
  width: 70,
  encoding: 'float16',
  normalization: { ...SEED_NORMALIZATION },
  bytes: 0,
  sha256: '',
  createdAt: '2026-01-01T00:00:00.000Z',
});
const shards = ['part-20190920T0000Z-20190920T0100Z-aa000000', 'part-20190920T0000Z-20190920T0100Z-b0000000'].map(manifest);

const store = new FolderStore(process.argv[2]!);
for (const shard of shards) await store.put(`${monthFolder(DEFAULT_SHARD_PREFIX, field, from)}${shard.id}${MANIFEST_SUFFIX}`, new TextEncoder().encode(JSON.stringify(shard)));
const listed = await openShardCatalog(store).list({ field });
process.stdout.write(`${JSON.stringify({ heldOut: splitShards(shards, 0.5).heldOut.map((shard) => shard.id), listed: listed.map((shard) => shard.id) })}\n`);
