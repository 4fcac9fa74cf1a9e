import type { SectionOctets } from '../octets.js';
import { readEarthShape, type EarthShape } from './earth.js';
import { decodeScanningMode, type ScanningMode } from './scanning.js';

/**
 * Grid definition template 3.30: Lambert conformal (the HRRR grid, 1799 x 1059 at 3 km).
 * Keys as ecCodes names them; angles in millionths of a degree, lengths in millimetres.
 */
export interface LambertConformalGrid extends EarthShape {
  template: 30;
  Nx: number;
  Ny: number;
  latitudeOfFirstGridPoint: number;
  longitudeOfFirstGridPoint: number;
  resolutionAndComponentFlags: number;
  LaD: number;
  LoV: number;
  Dx: number;
  Dy: number;
  projectionCentreFlag: number;
  scanningMode: number;
  scanning: ScanningMode;
  Latin1: number;
  Latin2: number;
  latitudeOfSouthernPole: number;
  longitudeOfSouthernPole: number;
  latitudeOfFirstGridPointInDegrees: number;
  longitudeOfFirstGridPointInDegrees: number;
  LaDInDegrees: number;
  LoVInDegrees: number;
  DxInMetres: number;
  DyInMetres: number;
  Latin1InDegrees: number;
  Latin2InDegrees: number;
  latitudeOfSouthernPoleInDegrees: number;
  longitudeOfSouthernPoleInDegrees: number;
}

export function readLambertConformalGrid(octets: SectionOctets): LambertConformalGrid {
  const grid = {
    template: 30 as const,
    ...readEarthShape(octets),
    Nx: octets.u32(31),
    Ny: octets.u32(35),
    latitudeOfFirstGridPoint: octets.s32(39),
    longitudeOfFirstGridPoint: octets.u32(43),
    resolutionAndComponentFlags: octets.u8(47),
    LaD: octets.s32(48),
    LoV: octets.u32(52),
    Dx: octets.u32(56),
    Dy: octets.u32(60),
    projectionCentreFlag: octets.u8(64),
    scanningMode: octets.u8(65),
    Latin1: octets.s32(66),
    Latin2: octets.s32(70),
    latitudeOfSouthernPole: octets.s32(74),
    longitudeOfSouthernPole: octets.u32(78),
  };
  return {
    ...grid,
    scanning: decodeScanningMode(grid.scanningMode),
    latitudeOfFirstGridPointInDegrees: grid.latitudeOfFirstGridPoint * 1e-6,
    longitudeOfFirstGridPointInDegrees: grid.longitudeOfFirstGridPoint * 1e-6,
    LaDInDegrees: grid.LaD * 1e-6,
    LoVInDegrees: grid.LoV * 1e-6,
    DxInMetres: grid.Dx * 1e-3,
    DyInMetres: grid.Dy * 1e-3,
    Latin1InDegrees: grid.Latin1 * 1e-6,
    Latin2InDegrees: grid.Latin2 * 1e-6,
    latitudeOfSouthernPoleInDegrees: grid.latitudeOfSouthernPole * 1e-6,
    longitudeOfSouthernPoleInDegrees: grid.longitudeOfSouthernPole * 1e-6,
  };
}
