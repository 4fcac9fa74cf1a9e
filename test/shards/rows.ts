import type { ShardRow } from '../../shards/types.js';

export const FIELD = 'REFC:entire atmosphere:anl';

/** 2019-09-20T00Z plus `hours`. */
export function hour(hours: number): Date {
  return new Date(Date.UTC(2019, 8, 20) + hours * 3_600_000);
}

/**
 * A row of height x width values k/256 (k < 257): exact in float32 and float16 alike, so a
 * round trip through either encoding gives the very same numbers.
 */
export function testRow(validTime: Date, { height = 5, width = 7, seed = validTime.getUTCHours() } = {}): ShardRow {
  const values = Float32Array.from({ length: height * width }, (_, k) => ((k * 31 + seed * 17) % 257) / 256);
  return { validTime, field: FIELD, source: `s3://noaa-hrrr-bdp-pds/hrrr.${validTime.toISOString().slice(0, 10).replaceAll('-', '')}/conus/x.grib2#0-99`, height, width, values };
}
