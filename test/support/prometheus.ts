import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../paths.js';

/** prometheus_client, installed by infra/install-prometheus-client.sh (npm test's pretest). */
const PYTHON = join(repoRoot, '.work', 'prom-venv', 'bin', 'python');
const SCRIPT = join(repoRoot, 'test', 'reference', 'prometheus_families.py');

export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Array<{ name: string; labels: Record<string, string>; value: number | '+Inf' }>;
}

/** The exposition as Prometheus's Python parser reads it; rejects with the parser's error when it refuses it. */
export function parseExposition(text: string): Promise<Family[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(PYTHON, [SCRIPT], { maxBuffer: 1 << 24 }, (error, stdout, stderr) => (error ? reject(new Error(`${stderr}\n${text}`)) : resolve(JSON.parse(stdout) as Family[])));
    child.stdin!.end(text);
  });
}

const bound = (le: string) => (le === '+Inf' ? Infinity : Number(le));

/** Each family with its help and in base units, counters in _total, cumulative histograms ending in +Inf, no series twice. */
export function assertWellFormed(families: Family[]): void {
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
}
