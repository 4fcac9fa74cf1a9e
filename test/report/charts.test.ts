import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { heatmap, lineChart } from '../../report/charts.js';

describe('the report line chart', () => {
  it('charts 500,000 points, its y axis from 0 to the largest value', () => {
    const x = Array.from({ length: 500_000 }, (_, i) => i);
    const svg = lineChart({ title: 'long run', x, xLabel: String, yLabel: 'loss', series: [{ name: 'training', values: x.map((i) => 1 + i / 1000), colour: '#1f5fbf', dashed: true }] });
    assert.match(svg, /^<svg/);
    for (const label of ['0', '501']) assert.ok(svg.includes(`text-anchor="end" font-size="11">${label}</text>`), `no y axis label ${label}`);
  });

  it('escapes every text it is given, in labels, legends, titles and tooltips alike', () => {
    const hostile = `"><script>alert('x')</script><b a='`;
    const line = lineChart({ title: hostile, x: [1, 2], xLabel: () => hostile, yLabel: hostile, series: [{ name: hostile, values: [1, 2], colour: '#1f5fbf' }], marked: [1] });
    const matrix = heatmap({ title: hostile, labels: [hostile, 'b'], values: [[1, 0], [0, 1]] });
    for (const svg of [line, matrix]) {
      assert.ok(!svg.includes('<script') && !svg.includes('<b ') && !svg.includes(`'x'`), svg);
      assert.ok(svg.includes('&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;'));
    }
  });
});
