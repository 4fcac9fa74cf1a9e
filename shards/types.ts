/**
 * The contract between the shard writer (shards/) and the trainer (training/): normalized,
 * cropped fields kept as Apache Arrow IPC files in an object store, each with a manifest.
 */
import type { NormalizationConfig } from '../model/config.js';

export const SHARD_FORMAT = 'hrrr-embed-shard/1';

/** How the values of a field are kept in a shard (chosen by measuring: see the shards benchmark). */
export type ShardEncoding = 'float32' | 'float16' | 'uint8';

/** How a shard's Arrow buffers are compressed; the Arrow file itself says so, for any reader. */
export type ShardCompression = 'zstd' | 'none';

/** One shard: what a trainer needs to choose it without reading it. Written after its data, so a listed shard is complete. */
export interface ShardManifest {
  format: typeof SHARD_FORMAT;
  /** Unique within the store, e.g. part-20190920T00Z-20190920T05Z-1a2b3c4d. */
  id: string;
  /** e.g. "REFC:entire atmosphere:anl". */
  field: string;
  /** The Arrow IPC object. */
  dataKey: string;
  /** Valid times of the first and last rows (ISO 8601). */
  from: string;
  to: string;
  count: number;
  /** Every row has height x width values, row 0 the southernmost (NormalizedField's layout). */
  height: number;
  width: number;
  encoding: ShardEncoding;
  /** The normalization the values went through (so a trainer can refuse shards of another). */
  normalization: NormalizationConfig;
  /** Size and SHA-256 (hex) of the Arrow object: a reader checks both. */
  bytes: number;
  sha256: string;
  createdAt: string;
}

/** One normalized field as a shard keeps it. */
export interface ShardRow {
  validTime: Date;
  field: string;
  /** Where the field came from: "STORE/KEY" and the byte range, e.g. "s3://noaa-hrrr-bdp-pds/hrrr.20190920/conus/hrrr.t05z.wrfsfcf00.grib2#0-123456". */
  source: string;
  height: number;
  width: number;
  values: Float32Array;
}

export interface ShardQuery {
  field: string;
  /** Valid times, inclusive; a shard is chosen when its range overlaps. */
  from?: Date;
  to?: Date;
}

/** Reads shards from a store: what the trainer is given. */
export interface ShardCatalog {
  /** Where the shards lie, for messages: the store's URL and the shards' prefix ("s3://bucket/shards/"). */
  readonly url: string;
  /** Complete shards that overlap the query, oldest first. */
  list(query: ShardQuery): Promise<ShardManifest[]>;
  /** A shard's rows in order; rejects when the object's size or checksum differs from the manifest. */
  read(manifest: ShardManifest): AsyncIterable<ShardRow>;
}
