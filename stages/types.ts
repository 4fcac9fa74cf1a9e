import type { Grib2Field } from '../grib2/index.js';

/**
 * The data that flows between stages, in the order a field travels:
 * object key -> GribBytes -> DecodedField -> (normalized tensor -> embedding -> Avro record).
 */

/** Where bytes came from: an object (or a byte range of one) in a store. */
export interface ObjectRef {
  /** The store, e.g. "s3://noaa-hrrr-bdp-pds" or "file:///data/hrrr". */
  store: string;
  key: string;
  /** Inclusive byte range within the object, when only part of it was read. */
  range?: { start: number; end: number };
}

/** Whole GRIB2 messages as read from a store: the input of the decode stage. */
export interface GribBytes {
  source: ObjectRef;
  bytes: Uint8Array;
}

/** One decoded field: its GRIB2 metadata and one value per grid point (NaN where missing). */
export interface DecodedField {
  source: ObjectRef;
  field: Grib2Field;
  /** Values in ecCodes's order: as stored, see field.grid.template.scanning. */
  values: Float32Array;
}
