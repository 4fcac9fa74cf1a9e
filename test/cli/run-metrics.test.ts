import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { promoteVersion, saveVersion } from '../../model/versions.js';
import { silentLogger } from '../../stages/stage.js';
import { FileBus } from '../../bus/files/file-bus.js';
import { FolderStore } from '../../store/folder.js';
import { SMALL_CONFIG } from '../model/fixtures.js';
import { repoRoot } from '../paths.js';
import { putAnalysis, smallAnalysisOfHour } from '../support/analyses.js';
import { runCommandProcess } from '../support/cli-process.js';
import { objectCreatedRecord } from '../support/object-events.js';

/** prometheus_client, installed by infra/install-prometheus-client.sh (npm test's pretest). */
const PYTHON = join(repoRoot, '.work', 'prom-venv', 'bin', 'python');
const SCRIPT = join(repoRoot, 'test', 'reference', 'prometheus_families.py');

interface Family {
  name: string;
  type: string;
  help: string;
  samples: Array<{ name: string; labels: Record<string, string>; value: number | '+Inf' }>;
}

/** The exposition as Prometheus's Python parser reads it; rejects with the parser's error when it refuses it. */
function parseExposition(text: string): Promise<Family[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(PYTHON, [SCRIPT], { maxBuffer: 1 << 24 }, (error, stdout, stderr) => (error ? reject(new Error(`${stderr}\n${text}`)) : resolve(JSON.parse(stdout) as Family[])));
    child.stdin!.end(text);
  });
}

const bound = (le: string) => (le === '+Inf' ? Infinity : Number(le));

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'hrrr-embed-run-metrics-'));
  const source = new FolderStore(join(work, 'source'));
  for (const n of [0, 1, 2, 4]) await putAnalysis(source, smallAnalysisOfHour(n));
  const corrupt = smallAnalysisOfHour(3);
  await putAnalysis(source, { ...corrupt, grib2: Uint8Array.from(corrupt.grib2, (byte, i) => (i < 4 ? 0x58 : byte)) });
  await selectBackend('cpu', 'inference', silentLogger);
  // A threshold of 0: every field done raises an alert.
  const models = new FolderStore(join(work, 'models'));
  const { modelId } = await saveVersion(models, createAutoencoder({ config: SMALL_CONFIG }), { modelId: 'small-1', alertThreshold: 0 });
  await promoteVersion(models, modelId);
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

    const series = new Set<string>();
    for (const { name, type, help, samples } of families) {
      assert.ok(help.length > 0, `${name} has a help text`);
      // Prometheus's base units: seconds and bytes, never hours or milliseconds.
      assert.doesNotMatch(name, /_(hours|minutes|days|milliseconds|microseconds|kilobytes|megabytes)(_|$)/, `${name} in base units`);
      for (const sample of samples) {
        const id = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
        assert.ok(!series.has(id), `${id} once`);
        series.add(id);
        if (type === 'counter') assert.ok(sample.name.endsWith('_total'), `counter sample ${sample.name} ends in _total`);
      }
      if (type !== 'histogram') continue;
      const bySeries = new Map<string, Family['samples']>();
      for (const sample of samples) {
        const { le: _le, ...rest } = sample.labels;
        const labels = JSON.stringify(Object.entries(rest).sort());
        bySeries.set(labels, [...(bySeries.get(labels) ?? []), sample]);
      }
      for (const [labels, group] of bySeries) {
        const buckets = group.filter((sample) => sample.name === `${name}_bucket`).map(({ labels: { le }, value }) => ({ le: le!, value: value as number }));
        const count = group.find((sample) => sample.name === `${name}_count`)!.value;
        assert.equal(buckets.at(-1)?.le, '+Inf', `${name}${labels} ends with le="+Inf"`);
        assert.equal(buckets.at(-1)?.value, count, `${name}${labels}: the +Inf bucket is the count`);
        for (let i = 1; i < buckets.length; i++) {
          assert.ok(bound(buckets[i]!.le) > bound(buckets[i - 1]!.le), `${name}${labels}: bounds rise`);
          assert.ok(buckets[i]!.value >= buckets[i - 1]!.value, `${name}${labels}: buckets are cumulative`);
        }
      }
    }
    const value = (name: string, labels: Record<string, string> = {}) =>
      families.flatMap((family) => family.samples).find((sample) => sample.name === name && JSON.stringify(sample.labels) === JSON.stringify(labels))?.value;
    assert.equal(value('hrrr_embed_analyses_total', { outcome: 'done' }), 4);
    assert.equal(value('hrrr_embed_analyses_total', { outcome: 'dead-letter' }), 1);
    assert.equal(value('hrrr_embed_alerts_total'), 4, 'one alert for each field done');
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
