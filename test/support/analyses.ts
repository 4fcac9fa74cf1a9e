import { sampleAnalysis, type SampleAnalysis } from '../../stages/sources/sample-analyses.js';
import { HOUR_MS } from '../../stages/sources/hrrr-archive.js';
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
  for (const n of hours) {
    const { key, grib2, idx } = analysisOfHour(n);
    await store.put(`${key}.idx`, new TextEncoder().encode(idx));
    await store.put(key, grib2);
  }
}
