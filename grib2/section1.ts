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
  const [year, month, day, hour, minute, second] = [
    octets.u16(13), octets.u8(15), octets.u8(16), octets.u8(17), octets.u8(18), octets.u8(19),
  ];
  const referenceTime = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  if (
    month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59 ||
    referenceTime.getUTCDate() !== day
  ) {
    throw octets.fail('bad-value', `reference time ${year}-${month}-${day} ${hour}:${minute}:${second} is not a date`, 13);
  }
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
