import { encodeGrib2Message, writeIdx } from '../../grib2/index.js';
import { gribKey, HOUR_MS } from '../../stages/sources/hrrr-archive.js';
import { HRRR_GRID, sampleAnalysis, type SampleAnalysis } from '../../stages/sources/sample-analyses.js';
import type { ObjectStore } from '../../store/object-store.js';

export const START = new Date('2019-09-20T00:00:00Z');
export const hour = (n: number) => new Date(START.getTime() + n * HOUR_MS);

const cache = new Map<number, SampleAnalysis>();

/** The synthetic analysis of hour `n` after START (REFC then TMP, with an .idx), packed once per test process. */
export function analysisOfHour(n: number): SampleAnalysis {
  let sample = cache.get(n);
  if (!sample) cache.set(n, (sample = sampleAnalysis(hour(n), n)));
  return sample;
}

/** Writes the analyses of these hours into the store in the bucket's layout, .idx first as NOAA does. */
export async function seedAnalyses(store: ObjectStore, hours: number[]): Promise<void> {
  for (const n of hours) await putAnalysis(store, analysisOfHour(n));
}

/** The grid of the small model the pipeline tests run (SMALL_CONFIG: 70 x 38). */
const SMALL_GRID = { ...HRRR_GRID, Nx: 70, Ny: 38 };

/**
 * A small analysis of hour `n` in the bucket's layout, REFC only, on a 70 x 38 Lambert grid:
 * a storm cell drifting east, or, when `unusual`, 55 dBZ everywhere (weather the model never saw).
 */
export function smallAnalysisOfHour(n: number, unusual = false): SampleAnalysis {
  const time = hour(n);
  const values = new Float32Array(SMALL_GRID.Nx * SMALL_GRID.Ny).map((_, i) => {
    if (unusual) return 55;
    const [x, y] = [i % SMALL_GRID.Nx, Math.floor(i / SMALL_GRID.Nx)];
    const dbz = 50 * Math.exp(-((x - 10 - 5 * n) ** 2 + (y - 19) ** 2) / 40) - 10;
    return Math.round(Math.max(-10, dbz) * 16) / 16;
  });
  const grib2 = encodeGrib2Message({
    discipline: 0,
    identification: { referenceTime: time },
    grid: SMALL_GRID,
    product: { parameterCategory: 16, parameterNumber: 196, forecastTime: 0, firstSurface: { type: 10 } },
    packing: { template: 3, orderOfSpatialDifferencing: 2, decimalScaleFactor: 0, binaryScaleFactor: -4, missingValueManagement: 0 },
    values,
  });
  const idx = writeIdx([{ offset: 0, referenceTime: time, variable: 'REFC', level: 'entire atmosphere', forecast: 'anl' }]);
  return { time, key: gribKey(time), grib2, idx };
}

export async function putAnalysis(store: ObjectStore, { key, grib2, idx }: SampleAnalysis): Promise<void> {
  await store.put(`${key}.idx`, new TextEncoder().encode(idx));
  await store.put(key, grib2);
}
