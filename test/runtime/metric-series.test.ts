import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { ConsumerMetrics } from '../../runtime/metrics.js';
import { hour } from '../support/analyses.js';
import { formatHour } from '../../stages/sources/hrrr-archive.js';

/** The series of each hrrr_embed_ metric: what a scraper keeps for as long as the process runs. */
async function seriesCounts(registry: Registry): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const metric of await registry.getMetricsAsJSON()) if (metric.name.startsWith('hrrr_embed_')) counts[metric.name] = metric.values.length;
  return counts;
}

describe("the consumer's metric series over a year", () => {
  it('stay as many after 8,760 hours, dead letters naming each hour and key, and 365 model versions swapped in as after a day', async () => {
    const registry = new Registry();
    const metrics = new ConsumerMetrics(registry, { model: { id: 'file:///models', version: 'v0' }, from: hour(0) });
    const live = (hours: number, versions: number, offset = 0) => {
      for (let n = offset; n < offset + hours; n++) {
        const time = formatHour(hour(n));
        if (n % 10 === 0) metrics.recordOutcome({ kind: 'dead-letter', hour: time, key: `k${n}`, stage: 'fetch', errorClass: 'InvalidObjectError', error: `object k${n} is not GRIB2` });
        else metrics.recordOutcome({ kind: 'done', hour: time, key: `k${n}`, fields: 1, bytes: 1000 });
      }
      for (let v = 1; v <= versions; v++) metrics.modelInUse('file:///models', `v${offset + v}`, v % 2 === 0);
    };
    live(24, 1);
    const afterADay = await seriesCounts(registry);
    live(8760, 365, 24);
    assert.deepEqual(await seriesCounts(registry), afterADay);
    assert.equal(afterADay.hrrr_embed_model_info, 1, 'only the version in use is labelled');
  });
});
