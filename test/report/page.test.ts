import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decode as decodePng } from 'fast-png';
import { renderReport, type ReportInput } from '../../report/page.js';
import { analysisPictures } from '../../report/pictures.js';
import { similarityMatrix } from '../../report/similarity.js';

const at = (hour: number) => new Date(Date.UTC(2019, 8, 20, hour));
const field = Float32Array.from({ length: 8 * 12 }, (_, i) => (i % 12) / 12);
const rebuilt = field.map((value) => value * 0.9);

function input(overrides: Partial<ReportInput> = {}): ReportInput {
  return {
    title: 'hrrr-embed demo <run & "check">',
    generatedAt: new Date('2026-11-24T12:00:00Z'),
    summary: ['6 analyses embedded', 'model <untrained>'],
    analyses: [analysisPictures(at(1), { height: 8, width: 12, values: field }, rebuilt, 0.0123)],
    alerts: [
      { validTime: at(0), reconstructionError: 0.01, threshold: 0.05, alert: false },
      { validTime: at(1), reconstructionError: 0.08, threshold: 0.05, alert: true },
      { validTime: at(2), reconstructionError: 0.02, threshold: 0.05, alert: false },
    ],
    training: { steps: [1, 2, 3], train: [0.3, 0.2, 0.1], heldOut: [null, 0.25, 0.15] },
    embeddings: [
      { validTime: at(2), embedding: [0, 1] },
      { validTime: at(0), embedding: [1, 0] },
      { validTime: at(1), embedding: [1, 1] },
    ],
    ...overrides,
  };
}

/** The images of the page, decoded from their data: URIs. */
function images(html: string) {
  return [...html.matchAll(/src="data:image\/png;base64,([^"]+)"/g)].map((match) => decodePng(Buffer.from(match[1]!, 'base64')));
}

describe('the report page', () => {
  it('has the four sections, inline PNGs that decode at the pictures size, and the alert and loss charts', () => {
    const html = renderReport(input());
    assert.match(html, /^<!DOCTYPE html>/);
    for (const id of ['analyses', 'alerts', 'training', 'similarity']) assert.match(html, new RegExp(`<section id="${id}">[\\s\\S]*?</section>`));
    const pictures = images(html);
    assert.equal(pictures.length, 3);
    for (const picture of pictures) assert.deepEqual([picture.width, picture.height], [12, 8]);
    assert.match(html, /2019-09-20T01Z: reconstruction error 0\.0123/);
    assert.deepEqual(
      images(renderReport(input({ analyses: [analysisPictures(at(1), { height: 8, width: 12, values: field }, rebuilt, 0.0123, 4)] }))).map((picture) => [picture.width, picture.height]),
      [[3, 2], [3, 2], [3, 2]],
      'shrunk 4 times',
    );
    assert.match(html, /1 alert: 2019-09-20T01Z/);
    assert.equal([...html.matchAll(/<circle class="alert"/g)].length, 1, 'one alert marked');
    assert.match(html, /<section id="training">[\s\S]*<path d="M[^"]+"[^>]*stroke="#1f5fbf"[\s\S]*held out/);
    assert.equal(html.split('<svg').length - 1, 3);
  });

  it('escapes every text it is given', () => {
    const html = renderReport(input());
    assert.ok(html.includes('<title>hrrr-embed demo &lt;run &amp; &quot;check&quot;&gt;</title>'));
    assert.ok(html.includes('<li>model &lt;untrained&gt;</li>'));
    assert.ok(!html.includes('<untrained>'));
  });

  it('puts the cosine similarities of the centred embeddings in time order in the matrix, as by hand', () => {
    const html = renderReport(input());
    const cells = [...html.matchAll(/data-row="(\d+)" data-column="(\d+)" data-value="([^"]+)"/g)].map(([, row, column, value]) => [Number(row), Number(column), Number(value)]);
    assert.equal(cells.length, 9);
    const value = (row: number, column: number) => cells.find(([r, c]) => r === row && c === column)![2]!;
    // In time order: hour 0 [1, 0], hour 1 [1, 1], hour 2 [0, 1]; their mean [2/3, 2/3]; centred:
    // [1/3, -2/3], [1/3, 1/3], [-2/3, 1/3]. cos(0, 2) = (-4/9) / (5/9); cos(0, 1) = cos(1, 2) = (-1/9) / (sqrt(5) sqrt(2) / 9).
    assert.ok(Math.abs(value(0, 2) - -0.8) < 1e-12);
    assert.ok(Math.abs(value(0, 1) - -1 / Math.sqrt(10)) < 1e-12);
    assert.ok(Math.abs(value(1, 2) - -1 / Math.sqrt(10)) < 1e-12);
    assert.equal(value(2, 0), value(0, 2));
    for (const i of [0, 1, 2]) assert.ok(Math.abs(value(i, i) - 1) < 1e-12);
    assert.match(html, /2019-09-20T00Z[\s\S]*2019-09-20T01Z[\s\S]*2019-09-20T02Z/);
    assert.deepEqual(similarityMatrix([[1, 0], [-1, 0]]), [[1, -1], [-1, 1]]);
  });

  it('shows identical embeddings as similarity 1, even when one is the mean of them all', () => {
    assert.deepEqual(similarityMatrix([[0.5, 2], [0.5, 2]]), [[1, 1], [1, 1]]);
    const [, middle] = similarityMatrix([[1, 0], [0, 0], [-1, 0]]);
    assert.equal(middle![1], 1);
    assert.equal(middle![0], 0);
  });

  it('renders sensibly with no alert timeline, no training and no analyses', () => {
    const html = renderReport(input({ alerts: [], training: null, analyses: [], embeddings: [] }));
    for (const id of ['analyses', 'alerts', 'training', 'similarity']) assert.match(html, new RegExp(`<section id="${id}">`));
    assert.match(html, /No analysis was scored: no alert timeline/);
    assert.match(html, /No model was trained in this run/);
    assert.match(html, /No analysis was embedded/);
    assert.equal(images(html).length, 0);
    assert.ok(!html.includes('NaN') && !html.includes('Infinity'));
  });

  it('draws a timeline with no threshold and no alert, and a single training step, without NaN', () => {
    const html = renderReport(input({ alerts: [{ validTime: at(0), reconstructionError: 0.01, threshold: null, alert: false }], training: { steps: [1], train: [0.3], heldOut: [null] } }));
    assert.match(html, /No alert was raised/);
    assert.ok(!html.includes('NaN') && !html.includes('Infinity'));
  });
});
