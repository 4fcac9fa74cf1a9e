import { SectionWriter } from './section-writer.js';

/** Section 1: who made the data and for which reference time. Defaults are NCEP's, as HRRR writes them. */
export interface IdentificationOptions {
  referenceTime: Date;
  /** Default 7, NCEP. */
  centre?: number;
  subCentre?: number;
  /** Default 2, as HRRR writes it. */
  tablesVersion?: number;
  localTablesVersion?: number;
  /** Code table 1.2, default 1: start of forecast. */
  significanceOfReferenceTime?: number;
  /** Code table 1.3, default 0: operational products. */
  productionStatusOfProcessedData?: number;
  /** Code table 1.4, default 1: forecast products. */
  typeOfProcessedData?: number;
}

const LENGTH = 21;

export function writeIdentification(options: IdentificationOptions): Uint8Array {
  const time = options.referenceTime;
  if (Number.isNaN(time.getTime()) || time.getUTCMilliseconds() !== 0) {
    throw new RangeError(`reference time ${String(time)} is not a valid date in whole seconds`);
  }
  const section = new SectionWriter(1, LENGTH);
  section.u16(6, options.centre ?? 7);
  section.u16(8, options.subCentre ?? 0);
  section.u8(10, options.tablesVersion ?? 2);
  section.u8(11, options.localTablesVersion ?? 1);
  section.u8(12, options.significanceOfReferenceTime ?? 1);
  section.u16(13, time.getUTCFullYear());
  section.u8(15, time.getUTCMonth() + 1);
  section.u8(16, time.getUTCDate());
  section.u8(17, time.getUTCHours());
  section.u8(18, time.getUTCMinutes());
  section.u8(19, time.getUTCSeconds());
  section.u8(20, options.productionStatusOfProcessedData ?? 0);
  section.u8(21, options.typeOfProcessedData ?? 1);
  return section.bytes;
}
