import { gribKey } from './hrrr-archive.js';
import { encodeGrib2Message, writeIdx, type LambertConformalGridOptions } from '../../grib2/encode/index.js';

/** The HRRR CONUS grid (template 3.30) as NOAA writes it. */
export const HRRR_GRID: LambertConformalGridOptions = {
  template: 30,
  shapeOfTheEarth: 6,
  Nx: 1799,
  Ny: 1059,
  latitudeOfFirstGridPointInDegrees: 21.138123,
  longitudeOfFirstGridPointInDegrees: 237.280472,
  resolutionAndComponentFlags: 8,
  LaDInDegrees: 38.5,
  LoVInDegrees: 262.5,
  DxInMetres: 3000,
  DyInMetres: 3000,
  scanningMode: 64,
  Latin1InDegrees: 38.5,
  Latin2InDegrees: 38.5,
};

/** One hour's analysis file in the bucket's key layout, with its .idx. */
export interface SampleAnalysis {
  time: Date;
  key: string;
  grib2: Uint8Array;
  idx: string;
}

interface StormCell {
  x: number;
  y: number;
  /** Grid points per hour. */
  dx: number;
  dy: number;
  radius: number;
  peak: number;
  /** dBZ per hour. */
  growth: number;
}

function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * Synthetic composite reflectivity (dBZ, HRRR scanning order: rows south to north) for `hour`
 * hours after the start: a -10 dBZ floor and storm cells that drift east and grow or decay,
 * in steps of 1/16 dBZ as REFC is packed.
 */
function syntheticReflectivity(hour: number, seed = 2019): Float32Array {
  const { Nx: nx, Ny: ny } = HRRR_GRID;
  const random = seededRandom(seed);
  const cells: StormCell[] = Array.from({ length: 24 }, () => ({
    x: random() * nx,
    y: random() * ny,
    dx: 10 + random() * 30,
    dy: (random() - 0.5) * 20,
    radius: 8 + random() * 40,
    peak: 25 + random() * 35,
    growth: (random() - 0.4) * 6,
  }));
  const field = new Float32Array(nx * ny).fill(-10);
  for (const cell of cells) {
    const cx = cell.x + cell.dx * hour;
    const cy = cell.y + cell.dy * hour;
    const peak = Math.min(70, cell.peak + cell.growth * hour);
    if (peak <= 0) continue;
    const reach = Math.ceil(cell.radius * 3);
    for (let y = Math.max(0, Math.floor(cy - reach)); y < Math.min(ny, cy + reach); y++) {
      for (let x = Math.max(0, Math.floor(cx - reach)); x < Math.min(nx, cx + reach); x++) {
        const d2 = (x - cx) ** 2 + (y - cy) ** 2;
        const dbz = peak * Math.exp(-d2 / (2 * cell.radius ** 2)) - 10;
        const i = y * nx + x;
        if (dbz > field[i]!) field[i] = Math.round(dbz * 16) / 16;
      }
    }
  }
  return field;
}

/**
 * Weather unlike the sample's storm cells: a squall line of 50 dBZ, 40 grid points wide, across
 * the whole domain from the south-west to the north-east, over the field given.
 */
function withSquallLine(field: Float32Array): Float32Array {
  const { Nx: nx, Ny: ny } = HRRR_GRID;
  const out = field.slice();
  const length = Math.hypot(nx, ny);
  for (let y = 0; y < ny; y++) {
    for (let x = 0; x < nx; x++) {
      // Distance from the diagonal (0, 0) -> (nx, ny).
      if (Math.abs(x * ny - y * nx) / length < 20) out[y * nx + x] = 50;
    }
  }
  return out;
}

/**
 * The analysis file for `time`: REFC as HRRR packs it (template 5.3, order 2, steps of 1/16 dBZ),
 * then a second field. With `unusual`, a squall line crosses the storm cells (withSquallLine).
 */
export function sampleAnalysis(time: Date, hour: number, unusual = false): SampleAnalysis {
  const common = { discipline: 0, identification: { referenceTime: time }, grid: HRRR_GRID };
  const packing = { template: 3, orderOfSpatialDifferencing: 2, decimalScaleFactor: 0, missingValueManagement: 0 } as const;
  const refc = encodeGrib2Message({
    ...common,
    product: { parameterCategory: 16, parameterNumber: 196, forecastTime: 0, firstSurface: { type: 10 } },
    packing: { ...packing, binaryScaleFactor: -4 },
    values: unusual ? withSquallLine(syntheticReflectivity(hour)) : syntheticReflectivity(hour),
  });
  const surfaceTemperature = encodeGrib2Message({
    ...common,
    product: { parameterCategory: 0, parameterNumber: 0, forecastTime: 0, firstSurface: { type: 1 } },
    packing: { ...packing, binaryScaleFactor: -6 },
    values: new Float32Array(HRRR_GRID.Nx * HRRR_GRID.Ny).map((_, i) => 300 - (Math.floor(i / HRRR_GRID.Nx) / HRRR_GRID.Ny) * 30),
  });
  const grib2 = new Uint8Array(refc.length + surfaceTemperature.length);
  grib2.set(refc);
  grib2.set(surfaceTemperature, refc.length);
  const idx = writeIdx([
    { offset: 0, referenceTime: time, variable: 'REFC', level: 'entire atmosphere', forecast: 'anl' },
    { offset: refc.length, referenceTime: time, variable: 'TMP', level: 'surface', forecast: 'anl' },
  ]);
  return { time, key: gribKey(time), grib2, idx };
}
