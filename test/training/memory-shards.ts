import { HOUR_MS } from '../../stages/sources/hrrr-archive.js';
import { SEED_NORMALIZATION } from '../../model/config.js';
import { SHARD_FORMAT, type ShardCatalog, type ShardManifest, type ShardQuery, type ShardRow } from '../../shards/types.js';
import { normalizeAndCrop } from '../../stages/transforms/normalize.js';
import { START } from '../support/analyses.js';

export const FIELD = 'REFC:entire atmosphere:anl';
const [NX, NY] = [70, 38];
const CROP: [[number, number], [number, number]] = [
  [3, 3],
  [3, 3],
];

/**
 * The REFC field of hour `n` on the small 70 x 38 grid, normalized and cropped as the small model
 * takes it (32 x 64): a storm cell drifting east (back in the west every 11 hours), wandering a little north and south, in dBZ as
 * test/support/analyses.ts draws it.
 */
export function smallFieldOfHour(n: number): Float32Array {
  const cx = 8 + ((5 * n) % 55);
  const cy = 19 + 4 * Math.sin(n / 2);
  const values = new Float32Array(NX * NY).map((_, i) => {
    const [x, y] = [i % NX, Math.floor(i / NX)];
    return Math.max(-10, 50 * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 120) - 10);
  });
  return normalizeAndCrop(values, { nx: NX, ny: NY, southFirst: true }, SEED_NORMALIZATION, CROP);
}

/** Shards held in memory, with what the contract promises: manifests oldest first, rows in order. */
export class MemoryShardCatalog implements ShardCatalog {
  readonly url = 'memory://shards/';
  constructor(private readonly shards: Array<{ manifest: ShardManifest; rows: ShardRow[] }>) {}

  async list({ field, from, to }: ShardQuery): Promise<ShardManifest[]> {
    return this.shards
      .map(({ manifest }) => manifest)
      .filter((manifest) => manifest.field === field && (!from || new Date(manifest.to) >= from) && (!to || new Date(manifest.from) <= to))
      .sort((a, b) => a.from.localeCompare(b.from));
  }

  async *read(manifest: ShardManifest): AsyncIterable<ShardRow> {
    const shard = this.shards.find((candidate) => candidate.manifest.id === manifest.id);
    if (!shard) throw new Error(`no shard ${manifest.id}`);
    yield* shard.rows;
  }
}

/** `count` shards of `rowsPerShard` consecutive hours each from START. */
export function smallShards(count: number, rowsPerShard: number): MemoryShardCatalog {
  const shards = Array.from({ length: count }, (_, s) => {
    const rows: ShardRow[] = Array.from({ length: rowsPerShard }, (_, r) => {
      const n = s * rowsPerShard + r;
      return { validTime: new Date(START.getTime() + n * HOUR_MS), field: FIELD, source: `memory://hour/${n}`, height: 32, width: 64, values: smallFieldOfHour(n) };
    });
    const manifest: ShardManifest = {
      format: SHARD_FORMAT,
      id: `part-${s}`,
      field: FIELD,
      dataKey: `memory/part-${s}.arrow`,
      from: rows[0]!.validTime.toISOString(),
      to: rows.at(-1)!.validTime.toISOString(),
      count: rows.length,
      height: 32,
      width: 64,
      encoding: 'float32',
      normalization: { ...SEED_NORMALIZATION },
      bytes: 0,
      sha256: '',
      createdAt: START.toISOString(),
    };
    return { manifest, rows };
  });
  return new MemoryShardCatalog(shards);
}
