import type { SectionOctets } from '../octets.js';
import { readFixedSurface, type FixedSurface } from './surface.js';

/** Product definition template 4.0: analysis or forecast at a horizontal level at a point in time. */
export interface PointInTimeProduct {
  parameterCategory: number;
  parameterNumber: number;
  typeOfGeneratingProcess: number;
  backgroundProcess: number;
  generatingProcessIdentifier: number;
  hoursAfterDataCutoff: number;
  minutesAfterDataCutoff: number;
  indicatorOfUnitOfTimeRange: number;
  forecastTime: number;
  firstSurface: FixedSurface;
  secondSurface: FixedSurface;
}

/** Octets 10-34, shared by template 4.0 and the templates that extend it (4.8). */
export function readPointInTimeProduct(octets: SectionOctets): PointInTimeProduct {
  return {
    parameterCategory: octets.u8(10),
    parameterNumber: octets.u8(11),
    typeOfGeneratingProcess: octets.u8(12),
    backgroundProcess: octets.u8(13),
    generatingProcessIdentifier: octets.u8(14),
    hoursAfterDataCutoff: octets.u16(15),
    minutesAfterDataCutoff: octets.u8(17),
    indicatorOfUnitOfTimeRange: octets.u8(18),
    forecastTime: octets.s32(19),
    firstSurface: readFixedSurface(octets, 23),
    secondSurface: readFixedSurface(octets, 29),
  };
}
