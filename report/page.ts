/**
 * The run's report as one static HTML page a person would rather look at than read: a few
 * analyses (original, reconstruction, error), the alert timeline, the training loss curve and the
 * similarity of the embeddings over time. Everything comes in as plain data and goes out inline
 * (PNGs as data: URIs, charts as SVG), so the page is one self-contained file.
 */
import { lineChart, heatmap } from './charts.js';
import { escapeText, formatNumber } from './escape.js';
import { similarityMatrix } from './similarity.js';

export interface AnalysisPictures {
  validTime: Date;
  /** PNG bytes of the field, its reconstruction and their difference. */
  original: Uint8Array;
  reconstruction: Uint8Array;
  error: Uint8Array;
  reconstructionError: number;
}

export interface AlertPoint {
  validTime: Date;
  reconstructionError: number;
  /** The threshold in force then; null when none was set. */
  threshold: number | null;
  alert: boolean;
}

export interface LossCurve {
  steps: number[];
  train: number[];
  /** The held-out loss at each step; null where it was not measured. */
  heldOut: Array<number | null>;
}

export interface ReportInput {
  title: string;
  generatedAt: Date;
  /** Short lines under the title: what ran, where, how long. */
  summary: string[];
  analyses: AnalysisPictures[];
  alerts: AlertPoint[];
  /** The retraining's losses, or null when nothing was trained. */
  training: LossCurve | null;
  /** Embeddings of one model version, in time order. */
  embeddings: Array<{ validTime: Date; embedding: ArrayLike<number> }>;
}

const hourLabel = (time: Date) => `${time.toISOString().slice(0, 13)}Z`;
/** 09-20 05Z: short enough for a chart's axis. */
const shortHourLabel = (time: Date) => `${time.toISOString().slice(5, 10)} ${time.toISOString().slice(11, 13)}Z`;

export function renderReport(input: ReportInput): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeText(input.title)}</title>
<style>
body { font-family: sans-serif; margin: 2em; color: #222; max-width: 1200px; }
figure { display: inline-block; margin: 0 1em 1em 0; }
figcaption { font-size: 0.85em; color: #555; }
img { image-rendering: pixelated; border: 1px solid #ccc; width: 380px; max-width: 100%; }
.empty { color: #777; font-style: italic; }
</style>
</head>
<body>
<h1>${escapeText(input.title)}</h1>
<p>Generated ${escapeText(input.generatedAt.toISOString())}</p>
${input.summary.length > 0 ? `<ul>${input.summary.map((line) => `<li>${escapeText(line)}</li>`).join('')}</ul>` : ''}
<section id="analyses">
<h2>Analyses: original, reconstruction, error</h2>
${analysesSection(input.analyses)}
</section>
<section id="alerts">
<h2>Alert timeline</h2>
${alertsSection(input.alerts)}
</section>
<section id="training">
<h2>Training loss</h2>
${trainingSection(input.training)}
</section>
<section id="similarity">
<h2>Similarity of the embeddings over time</h2>
${similaritySection(input.embeddings)}
</section>
</body>
</html>
`;
}

function analysesSection(analyses: AnalysisPictures[]): string {
  if (analyses.length === 0) return '<p class="empty">No analysis was embedded.</p>';
  return analyses
    .map(({ validTime, original, reconstruction, error, reconstructionError }) => {
      const time = hourLabel(validTime);
      const figure = (png: Uint8Array, what: string) => `<figure><img src="data:image/png;base64,${Buffer.from(png).toString('base64')}" alt="${escapeText(`${what}, ${time}`)}"><figcaption>${escapeText(what)}</figcaption></figure>`;
      return `<div class="analysis"><h3>${escapeText(`${time}: reconstruction error ${formatNumber(reconstructionError)}`)}</h3>${figure(original, 'original')}${figure(reconstruction, 'reconstruction')}${figure(error, 'error (red: reconstruction stronger, blue: weaker)')}</div>`;
    })
    .join('\n');
}

function alertsSection(alerts: AlertPoint[]): string {
  if (alerts.length === 0) return '<p class="empty">No analysis was scored: no alert timeline.</p>';
  const sorted = [...alerts].sort((a, b) => a.validTime.getTime() - b.validTime.getTime());
  const raised = sorted.flatMap((point, i) => (point.alert ? [i] : []));
  const chart = lineChart({
    title: 'Reconstruction error and alert threshold',
    x: sorted.map((point) => point.validTime.getTime()),
    xLabel: (ms) => shortHourLabel(new Date(ms)),
    yLabel: 'reconstruction error',
    series: [
      { name: 'reconstruction error', values: sorted.map((point) => point.reconstructionError), colour: '#1f5fbf' },
      { name: 'threshold', values: sorted.map((point) => point.threshold), colour: '#888', dashed: true },
    ],
    marked: raised,
  });
  const list = raised.length === 0 ? '<p>No alert was raised.</p>' : `<p>${raised.length} alert${raised.length === 1 ? '' : 's'}: ${raised.map((i) => escapeText(hourLabel(sorted[i]!.validTime))).join(', ')}</p>`;
  return `${chart}\n${list}`;
}

function trainingSection(training: LossCurve | null): string {
  if (training === null || training.steps.length === 0) return '<p class="empty">No model was trained in this run.</p>';
  return lineChart({
    title: 'Loss (log-cosh) by training step',
    x: training.steps,
    xLabel: (step) => String(step),
    yLabel: 'loss',
    series: [
      { name: 'training', values: training.train, colour: '#1f5fbf' },
      { name: 'held out', values: training.heldOut, colour: '#d07000' },
    ],
  });
}

function similaritySection(embeddings: ReportInput['embeddings']): string {
  if (embeddings.length === 0) return '<p class="empty">No embeddings.</p>';
  const sorted = [...embeddings].sort((a, b) => a.validTime.getTime() - b.validTime.getTime());
  const matrix = similarityMatrix(sorted.map((e) => e.embedding));
  return heatmap({ title: 'Cosine similarity of the embeddings less their mean (blue -1, white 0, red 1)', labels: sorted.map((e) => hourLabel(e.validTime)), values: matrix });
}
