import { SectionWriter } from './section-writer.js';

/** Code table 3.2; the radius only for shape 1 (a sphere of a radius given in the message). */
interface EarthShapeOptions {
  shapeOfTheEarth: number;
  radiusOfSphericalEarthInMetres?: number;
}

/** Grid template 3.30, Lambert conformal: angles in degrees, lengths in metres (stored in 1e-6 degrees and mm). */
export interface LambertConformalGridOptions extends EarthShapeOptions {
  template: 30;
  Nx: number;
  Ny: number;
  latitudeOfFirstGridPointInDegrees: number;
  longitudeOfFirstGridPointInDegrees: number;
  /** Flag table 3.3, e.g. 8 for HRRR (winds relative to the grid). */
  resolutionAndComponentFlags: number;
  LaDInDegrees: number;
  LoVInDegrees: number;
  DxInMetres: number;
  DyInMetres: number;
  /** Flag table 3.5, default 0 (north pole on the projection plane). */
  projectionCentreFlag?: number;
  /** Flag table 3.4, e.g. 64 for HRRR (rows south to north). */
  scanningMode: number;
  Latin1InDegrees: number;
  Latin2InDegrees: number;
  /** Default 0, as HRRR writes it. */
  latitudeOfSouthernPoleInDegrees?: number;
  longitudeOfSouthernPoleInDegrees?: number;
}

/** Grid template 3.0, latitude/longitude: angles in degrees (stored in 1e-6 degrees). */
export interface LatLonGridOptions extends EarthShapeOptions {
  template: 0;
  Ni: number;
  Nj: number;
  latitudeOfFirstGridPointInDegrees: number;
  longitudeOfFirstGridPointInDegrees: number;
  resolutionAndComponentFlags: number;
  latitudeOfLastGridPointInDegrees: number;
  longitudeOfLastGridPointInDegrees: number;
  iDirectionIncrementInDegrees: number;
  jDirectionIncrementInDegrees: number;
  scanningMode: number;
}

export type GridOptions = LambertConformalGridOptions | LatLonGridOptions;

const LENGTH = { 0: 72, 30: 81 } as const;
const MISSING_U32 = 0xffffffff;

export function gridPoints(grid: GridOptions): number {
  return grid.template === 30 ? grid.Nx * grid.Ny : grid.Ni * grid.Nj;
}

export function writeGridDefinition(grid: GridOptions): Uint8Array {
  const section = new SectionWriter(3, LENGTH[grid.template]);
  section.u8(6, 0); // source: a template
  section.u32(7, gridPoints(grid));
  section.u8(11, 0); // no list of numbers of points (regular grid)
  section.u8(12, 0);
  section.u16(13, grid.template);
  writeEarthShape(section, grid);
  if (grid.template === 30) writeLambertConformal(section, grid);
  else writeLatLon(section, grid);
  return section.bytes;
}

function writeEarthShape(section: SectionWriter, earth: EarthShapeOptions): void {
  section.u8(15, earth.shapeOfTheEarth);
  const radius = earth.radiusOfSphericalEarthInMetres;
  if (earth.shapeOfTheEarth === 1 && radius === undefined) throw new RangeError('shape of the earth 1 needs its radius');
  section.u8(16, 0);
  section.u32(17, radius === undefined ? 0 : Math.round(radius));
  // Octets 21-30 (the axes of an oblate spheroid given in the message) stay 0: shapes 3 and 7 are not written.
}

function writeLambertConformal(section: SectionWriter, grid: LambertConformalGridOptions): void {
  section.u32(31, grid.Nx);
  section.u32(35, grid.Ny);
  section.s32(39, microdegrees(grid.latitudeOfFirstGridPointInDegrees));
  section.u32(43, microdegrees(eastward(grid.longitudeOfFirstGridPointInDegrees)));
  section.u8(47, grid.resolutionAndComponentFlags);
  section.s32(48, microdegrees(grid.LaDInDegrees));
  section.u32(52, microdegrees(eastward(grid.LoVInDegrees)));
  section.u32(56, Math.round(grid.DxInMetres * 1000));
  section.u32(60, Math.round(grid.DyInMetres * 1000));
  section.u8(64, grid.projectionCentreFlag ?? 0);
  section.u8(65, grid.scanningMode);
  section.s32(66, microdegrees(grid.Latin1InDegrees));
  section.s32(70, microdegrees(grid.Latin2InDegrees));
  section.s32(74, microdegrees(grid.latitudeOfSouthernPoleInDegrees ?? 0));
  section.u32(78, microdegrees(eastward(grid.longitudeOfSouthernPoleInDegrees ?? 0)));
}

function writeLatLon(section: SectionWriter, grid: LatLonGridOptions): void {
  section.u32(31, grid.Ni);
  section.u32(35, grid.Nj);
  section.u32(39, 0); // basic angle 0 and subdivisions missing: angles in 1e-6 degrees
  section.u32(43, MISSING_U32);
  section.s32(47, microdegrees(grid.latitudeOfFirstGridPointInDegrees));
  section.s32(51, microdegrees(grid.longitudeOfFirstGridPointInDegrees));
  section.u8(55, grid.resolutionAndComponentFlags);
  section.s32(56, microdegrees(grid.latitudeOfLastGridPointInDegrees));
  section.s32(60, microdegrees(grid.longitudeOfLastGridPointInDegrees));
  section.u32(64, microdegrees(grid.iDirectionIncrementInDegrees));
  section.u32(68, microdegrees(grid.jDirectionIncrementInDegrees));
  section.u8(72, grid.scanningMode);
}

function microdegrees(degrees: number): number {
  return Math.round(degrees * 1e6);
}

/** Longitudes that template 3.30 stores unsigned, in [0, 360). */
function eastward(degrees: number): number {
  return ((degrees % 360) + 360) % 360;
}
