import { SectionWriter } from './section-writer.js';

/** A fixed surface (code table 4.5); scale factor and scaled value left out are written missing. */
export interface FixedSurfaceOptions {
  type: number;
  scaleFactor?: number;
  scaledValue?: number;
}

/** Product template 4.0: analysis or forecast at a horizontal level at a point in time. */
export interface ProductOptions {
  parameterCategory: number;
  parameterNumber: number;
  /** Code table 4.3, default 2: forecast. */
  typeOfGeneratingProcess?: number;
  backgroundProcess?: number;
  /** Default 255, missing (HRRR writes 83). */
  generatingProcessIdentifier?: number;
  hoursAfterDataCutoff?: number;
  minutesAfterDataCutoff?: number;
  /** Code table 4.4, default 1: hours. */
  indicatorOfUnitOfTimeRange?: number;
  forecastTime: number;
  firstSurface: FixedSurfaceOptions;
  /** Default: none (type 255), scale factor and value 0, as HRRR writes it. */
  secondSurface?: FixedSurfaceOptions;
}

const LENGTH = 34;
const NO_SURFACE: FixedSurfaceOptions = { type: 255, scaleFactor: 0, scaledValue: 0 };

export function writeProductDefinition(product: ProductOptions): Uint8Array {
  const section = new SectionWriter(4, LENGTH);
  section.u16(6, 0); // no coordinate values after the template
  section.u16(8, 0); // template 4.0
  section.u8(10, product.parameterCategory);
  section.u8(11, product.parameterNumber);
  section.u8(12, product.typeOfGeneratingProcess ?? 2);
  section.u8(13, product.backgroundProcess ?? 0);
  section.u8(14, product.generatingProcessIdentifier ?? 255);
  section.u16(15, product.hoursAfterDataCutoff ?? 0);
  section.u8(17, product.minutesAfterDataCutoff ?? 0);
  section.u8(18, product.indicatorOfUnitOfTimeRange ?? 1);
  section.s32(19, product.forecastTime);
  writeFixedSurface(section, 23, product.firstSurface);
  writeFixedSurface(section, 29, product.secondSurface ?? NO_SURFACE);
  return section.bytes;
}

function writeFixedSurface(section: SectionWriter, octet: number, surface: FixedSurfaceOptions): void {
  section.u8(octet, surface.type);
  if (surface.scaleFactor === undefined) section.u8(octet + 1, 0xff);
  else section.s8(octet + 1, surface.scaleFactor);
  if (surface.scaledValue === undefined) section.u32(octet + 2, 0xffffffff);
  else section.s32(octet + 2, surface.scaledValue);
}
