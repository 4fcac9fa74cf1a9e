export { encodeGrib2Message, encodeGrib2MessageWithPacking, type Grib2MessageOptions, type EncodedMessage } from './message.js';
export type { ComplexPackingOptions, ComplexPackingParameters } from './complex-packing.js';
export type { IdentificationOptions } from './section1.js';
export type { GridOptions, LambertConformalGridOptions, LatLonGridOptions } from './section3.js';
export type { ProductOptions, FixedSurfaceOptions } from './section4.js';
export { writeIdx, forecastWords, type IdxMessage } from './idx.js';
export { BitWriter } from './bit-writer.js';
