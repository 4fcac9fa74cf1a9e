import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lineChart } from '../../report/charts.js';

describe('the report line chart', () => {
  it('charts 500,000 points, its y axis from 0 to the largest value', () => {
    const x = Array.from({ length: 500_000 }, (_, i) => i);
    const svg = lineChart({ title: 'long run', x, xLabel: String, yLabel: 'loss', series: [{ name: 'training', values: x.map((i) => 1 + i / 1000), colour: '#1f5fbf', dashed: true }] });
    assert.match(svg, /^<svg/);
    for (const label of ['0', '501']) assert.ok(svg.includes(`text-anchor="end" font-size="11">${label}</text>`), `no y axis label ${label}`);
  });
});
