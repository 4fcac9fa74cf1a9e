import type { SectionOctets } from '../octets.js';
import { readEarthShape, type EarthShape } from './earth.js';
import { decodeScanningMode, type ScanningMode } from './scanning.js';

/** Grid definition template 3.0: latitude/longitude (equidistant cylindrical). Keys as ecCodes names them. */
export interface LatLonGrid extends EarthShape {
  template: 0;
  Ni: number;
  Nj: number;
  basicAngleOfTheInitialProductionDomain: number;
  subdivisionsOfBasicAngle: number;
  latitudeOfFirstGridPoint: number;
  longitudeOfFirstGridPoint: number;
  resolutionAndComponentFlags: number;
  latitudeOfLastGridPoint: number;
  longitudeOfLastGridPoint: number;
  iDirectionIncrement: number;
  jDirectionIncrement: number;
  scanningMode: number;
  scanning: ScanningMode;
  latitudeOfFirstGridPointInDegrees: number;
  longitudeOfFirstGridPointInDegrees: number;
  latitudeOfLastGridPointInDegrees: number;
  longitudeOfLastGridPointInDegrees: number;
  iDirectionIncrementInDegrees: number;
  jDirectionIncrementInDegrees: number;
}

const MISSING_U32 = 0xffffffff;

export function readLatLonGrid(octets: SectionOctets): LatLonGrid {
  const basicAngle = octets.u32(39);
  const subdivisions = octets.u32(43);
  // Angles are in millionths of a degree unless a basic angle and its subdivisions say otherwise.
  const unit =
    basicAngle === 0 || basicAngle === MISSING_U32 || subdivisions === 0 || subdivisions === MISSING_U32
      ? 1e-6
      : basicAngle / subdivisions;
  const degrees = (value: number) => value * unit;
  const grid = {
    template: 0 as const,
    ...readEarthShape(octets),
    Ni: octets.u32(31),
    Nj: octets.u32(35),
    basicAngleOfTheInitialProductionDomain: basicAngle,
    subdivisionsOfBasicAngle: subdivisions,
    latitudeOfFirstGridPoint: octets.s32(47),
    longitudeOfFirstGridPoint: octets.s32(51),
    resolutionAndComponentFlags: octets.u8(55),
    latitudeOfLastGridPoint: octets.s32(56),
    longitudeOfLastGridPoint: octets.s32(60),
    iDirectionIncrement: octets.u32(64),
    jDirectionIncrement: octets.u32(68),
    scanningMode: octets.u8(72),
  };
  return {
    ...grid,
    scanning: decodeScanningMode(grid.scanningMode),
    latitudeOfFirstGridPointInDegrees: degrees(grid.latitudeOfFirstGridPoint),
    longitudeOfFirstGridPointInDegrees: degrees(grid.longitudeOfFirstGridPoint),
    latitudeOfLastGridPointInDegrees: degrees(grid.latitudeOfLastGridPoint),
    longitudeOfLastGridPointInDegrees: degrees(grid.longitudeOfLastGridPoint),
    iDirectionIncrementInDegrees: degrees(grid.iDirectionIncrement),
    jDirectionIncrementInDegrees: degrees(grid.jDirectionIncrement),
  };
}
