export { Grib2Error, type Grib2ErrorKind } from './errors.js';
export { eachMessage, readFields, readIndicator, type Grib2Field, type Parameter } from './message.js';
export { decodeValues } from './values.js';
export { IdxFormatError, parseIdx, selectRanges, type IdxEntry, type ByteRange } from './idx.js';
export type { GridDefinition, GridTemplate } from './section3/index.js';
export type { ProductDefinition } from './section4/index.js';
export type { DataRepresentation, Packing } from './section5/index.js';
export { inventoryLine } from './inventory.js';
export * from './encode/index.js';
