import type { SectionOctets } from './octets.js';

/** Section 1, identification: who made the data and for which reference time. */
export interface Identification {
  centre: number;
  subCentre: number;
  tablesVersion: number;
  localTablesVersion: number;
  significanceOfReferenceTime: number;
  referenceTime: Date;
  productionStatusOfProcessedData: number;
  typeOfProcessedData: number;
}

export function readIdentification(octets: SectionOctets): Identification {
  const referenceTime = octets.dateTime(13, 'reference time');
  return {
    centre: octets.u16(6),
    subCentre: octets.u16(8),
    tablesVersion: octets.u8(10),
    localTablesVersion: octets.u8(11),
    significanceOfReferenceTime: octets.u8(12),
    referenceTime,
    productionStatusOfProcessedData: octets.u8(20),
    typeOfProcessedData: octets.u8(21),
  };
}
