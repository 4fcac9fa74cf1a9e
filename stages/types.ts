import type { Grib2Field, IdxEntry } from '../grib2/index.js';

/**
 * The data that flows between stages, in the order a field travels:
 * Analysis -> GribBytes -> DecodedField -> NormalizedField -> EmbeddedField -> (Avro record).
 */

/** One hourly analysis that discovery found complete in a store: what the fetch stage reads. */
export interface Analysis {
  /** The cycle hour: the analysis is valid then. */
  time: Date;
  /** The store's URL. */
  store: string;
  /** The GRIB2 object and its size. */
  key: string;
  size: number;
  /** The .idx beside it, read and parsed; absent when the store has none. */
  idx?: { key: string; entries: IdxEntry[] };
}

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

/**
 * A field as the model takes it: missing values filled, clipped and scaled as the model's
 * normalization says, and cropped (HRRR: 1059 x 1799 -> 1024 x 1792). Image rows run from the
 * south: row 0 is the southernmost row kept, whatever the GRIB2 scanning order was (HRRR's,
 * scanning mode 64, already is), as the article's images were.
 */
export interface NormalizedField {
  source: ObjectRef;
  field: Grib2Field;
  height: number;
  width: number;
  /** height x width values, row by row, row 0 the southernmost, each row west to east. */
  values: Float32Array;
}

/** A field's embedding and how well the model reconstructs it from that embedding. */
export interface EmbeddedField {
  source: ObjectRef;
  field: Grib2Field;
  embedding: Float32Array;
  /** Mean log-cosh between the normalized field and its reconstruction (the training loss). */
  reconstructionError: number;
  /** The model version ("untrained" for a freshly initialised model) and the backend it ran on. */
  model: { version: string; backend: string };
}
