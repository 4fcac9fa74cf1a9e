import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FileBus } from '../../bus/files/file-bus.js';
import { buildInfo } from '../../runtime/build-info.js';
import { smallAnalysisOfHour } from '../support/analyses.js';
import { runCommandProcess } from '../support/cli-process.js';
import { runWork } from '../support/run-work.js';
import { assertWellFormed, parseExposition } from '../support/prometheus.js';
import { objectCreatedRecord } from '../support/object-events.js';

let work: string;
before(async () => {
  // A threshold of 0: every field done raises an alert.
  work = await runWork('run-metrics', 0);
});
after(() => rm(work, { recursive: true, force: true }));

describe('hrrr-embed run, /metrics read by Prometheus\'s parser', () => {
  it('after fields, a dead letter and alerts: a valid exposition, each family with its help and in base units, counters in _total, cumulative histograms ending in +Inf, no series twice, and the alerts counted', { timeout: 60_000 }, async () => {
    let url: string | undefined;
    let metrics: string | undefined;
    let handled = 0;
    const result = await runCommandProcess(['run', '--source', join(work, 'source'), '--data', join(work, 'data'), '--model', join(work, 'models'), '--device', 'cpu', '--from', '2019-09-20T00Z', '--poll-seconds', '0.05', '--metrics-port', '0'], {
      onStderr: (stderr) => (url ??= /metrics on (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(stderr)?.[1]),
      onLine: (_line, child) => {
        if (++handled !== 5) return;
        void (async () => {
          metrics = await (await fetch(`${url}/metrics`)).text();
          child.kill('SIGTERM');
        })();
      },
    });
    assert.equal(result.status, 0, result.stderr);
    assert.ok(metrics, result.stderr);
    const families = await parseExposition(metrics);

    assertWellFormed(families);
    const value = (name: string, labels: Record<string, string> = {}) =>
      families.flatMap((family) => family.samples).find((sample) => sample.name === name && JSON.stringify(sample.labels) === JSON.stringify(labels))?.value;
    assert.equal(value('hrrr_embed_analyses_total', { outcome: 'done' }), 4);
    assert.equal(value('hrrr_embed_analyses_total', { outcome: 'dead-letter' }), 1);
    assert.equal(value('hrrr_embed_alerts_total'), 4, 'one alert for each field done');

    // Which build runs: on /metrics, and once in the log as it starts.
    const build = buildInfo();
    assert.match(build.commit, /^[0-9a-f]{40}$/, 'a git checkout knows its commit');
    assert.equal(value('hrrr_embed_build_info', { version: build.version, commit: build.commit }), 1);
    const starts = result.stderr.split('\n').filter((line) => line.includes('run starting'));
    assert.equal(starts.length, 1, result.stderr);
    assert.deepEqual(JSON.parse(starts[0]!).build, build);
  });

  it('driven by events (--events), counts the bytes it fetched, as polling does', { timeout: 60_000 }, async () => {
    const data = join(work, 'events-data');
    const bus = new FileBus(data);
    await bus.createTopic('hrrr-objects');
    await bus.produce('hrrr-objects', [objectCreatedRecord(smallAnalysisOfHour(0).key)]);
    await bus.close();
    let url: string | undefined;
    let metrics: string | undefined;
    const result = await runCommandProcess(['run', '--events', 'hrrr-objects', '--source', join(work, 'source'), '--data', data, '--model', join(work, 'models'), '--device', 'cpu', '--metrics-port', '0'], {
      onStderr: (stderr) => (url ??= /metrics on (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(stderr)?.[1]),
      onLine: (line, child) => {
        if (!line.includes('"status":"done"')) return;
        void (async () => {
          metrics = await (await fetch(`${url}/metrics`)).text();
          child.kill('SIGTERM');
        })();
      },
    });
    assert.equal(result.status, 0, result.stderr);
    assert.ok(metrics, result.stderr);
    const fetched = (await parseExposition(metrics)).find((family) => family.name === 'hrrr_embed_fetched_bytes')?.samples[0]?.value;
    // The analysis holds its REFC message alone: the fetch reads it whole.
    assert.equal(fetched, smallAnalysisOfHour(0).grib2.length);
  });
});
