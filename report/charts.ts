/**
 * Inline SVG charts for the report: lines over a shared x axis (the alert timeline, the loss
 * curves) and a heatmap (the similarity matrix). No library: a few rectangles, paths and labels.
 */
import { escapeText, formatNumber } from './escape.js';

export interface Series {
  name: string;
  /** One value per x; null where the series has none (a held-out loss not measured at that step). */
  values: Array<number | null>;
  colour: string;
  dashed?: boolean;
}

export interface LineChart {
  title: string;
  /** The x positions and how each is labelled. */
  x: number[];
  xLabel: (x: number) => string;
  yLabel: string;
  series: Series[];
  /** Points to mark with a red dot, by index into x, on the first series: alerts. */
  marked?: number[];
}

const WIDTH = 720;
const HEIGHT = 260;
const MARGIN = { left: 64, right: 56, top: 48, bottom: 40 };

export function lineChart({ title, x, xLabel, yLabel, series, marked = [] }: LineChart): string {
  const values = series.flatMap((s) => s.values).filter((v): v is number => v !== null && Number.isFinite(v));
  const [xMin, xMax] = extent(x);
  const [yMin, yMax] = values.length > 0 ? extent([0, ...values]) : [0, 1];
  const px = (value: number) => MARGIN.left + (xMax === xMin ? 0.5 : (value - xMin) / (xMax - xMin)) * (WIDTH - MARGIN.left - MARGIN.right);
  const py = (value: number) => HEIGHT - MARGIN.bottom - (yMax === yMin ? 0.5 : (value - yMin) / (yMax - yMin)) * (HEIGHT - MARGIN.top - MARGIN.bottom);
  const parts = [`<text x="${MARGIN.left}" y="18" font-weight="bold">${escapeText(title)}</text>`, axes(yLabel, formatNumber(yMin), formatNumber(yMax))];
  for (const i of ticks(x.length, 6)) parts.push(`<text x="${px(x[i]!).toFixed(1)}" y="${HEIGHT - MARGIN.bottom + 16}" text-anchor="middle" font-size="11">${escapeText(xLabel(x[i]!))}</text>`);
  let legendX = MARGIN.left;
  for (const s of series) {
    // Measured points joined across the steps where a series has none, each point a dot.
    const points = s.values.flatMap((value, i) => (value === null || !Number.isFinite(value) ? [] : [`${px(x[i]!).toFixed(1)},${py(value).toFixed(1)}`]));
    if (points.length > 1) parts.push(`<path d="M${points.join(' L')}" fill="none" stroke="${s.colour}" stroke-width="1.5"${s.dashed ? ' stroke-dasharray="5 4"' : ''}/>`);
    if (!s.dashed) for (const point of points) parts.push(`<circle cx="${point.split(',')[0]}" cy="${point.split(',')[1]}" r="2" fill="${s.colour}"/>`);
    parts.push(`<path d="M${legendX},32 h18" stroke="${s.colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''}/><text x="${legendX + 22}" y="36" font-size="11">${escapeText(s.name)}</text>`);
    legendX += 40 + 7 * s.name.length;
  }
  const first = series[0]?.values ?? [];
  for (const i of marked) {
    const value = first[i];
    if (value !== null && value !== undefined) parts.push(`<circle class="alert" cx="${px(x[i]!).toFixed(1)}" cy="${py(value).toFixed(1)}" r="4.5" fill="#d00"><title>${escapeText(`${xLabel(x[i]!)}: ${formatNumber(value)}`)}</title></circle>`);
  }
  return svg(WIDTH, HEIGHT, parts);
}

export interface Heatmap {
  title: string;
  labels: string[];
  /** labels.length x labels.length values in [-1, 1]. */
  values: number[][];
}

/** A square matrix as coloured cells (blue -1, white 0, red 1), each with its value in data-value and a tooltip. */
export function heatmap({ title, labels, values }: Heatmap): string {
  const n = labels.length;
  const cell = Math.max(4, Math.min(28, Math.floor(560 / Math.max(1, n))));
  const left = 110;
  const top = 40;
  const parts = [`<text x="${left}" y="18" font-weight="bold">${escapeText(title)}</text>`];
  const shown = new Set(ticks(n, 16));
  labels.forEach((label, i) => {
    if (!shown.has(i)) return;
    parts.push(`<text x="${left - 6}" y="${top + (i + 0.5) * cell + 4}" text-anchor="end" font-size="11">${escapeText(label)}</text>`);
    parts.push(`<text transform="translate(${left + (i + 0.5) * cell + 4},${top + n * cell + 8}) rotate(-60)" text-anchor="end" font-size="11">${escapeText(label)}</text>`);
  });
  values.forEach((row, i) =>
    row.forEach((value, j) => {
      parts.push(`<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="${divergingColour(value)}" data-row="${i}" data-column="${j}" data-value="${value}"><title>${escapeText(`${labels[i]} / ${labels[j]}: ${formatNumber(value)}`)}</title></rect>`);
    }),
  );
  return svg(Math.max(left + n * cell + 20, left + 7 * title.length), top + n * cell + 110, parts);
}

/** Blue for -1, white for 0, red for 1. */
function divergingColour(value: number): string {
  const v = Math.max(-1, Math.min(1, value));
  const fade = Math.round(255 * (1 - Math.abs(v)));
  return v >= 0 ? `rgb(255,${fade},${fade})` : `rgb(${fade},${fade},255)`;
}

function axes(yLabel: string, yMin: string, yMax: string): string {
  const bottom = HEIGHT - MARGIN.bottom;
  return [
    `<path d="M${MARGIN.left},${MARGIN.top} V${bottom} H${WIDTH - MARGIN.right}" fill="none" stroke="#444"/>`,
    `<text x="${MARGIN.left - 6}" y="${bottom}" text-anchor="end" font-size="11">${escapeText(yMin)}</text>`,
    `<text x="${MARGIN.left - 6}" y="${MARGIN.top + 8}" text-anchor="end" font-size="11">${escapeText(yMax)}</text>`,
    `<text transform="translate(14,${(MARGIN.top + bottom) / 2}) rotate(-90)" text-anchor="middle" font-size="11">${escapeText(yLabel)}</text>`,
  ].join('');
}

/** The smallest and largest of `values`: a loop, not Math.min(...values), since a long training run has more steps than a call takes arguments. */
function extent(values: readonly number[]): [number, number] {
  let [smallest, largest] = [Infinity, -Infinity];
  for (const value of values) {
    smallest = Math.min(smallest, value);
    largest = Math.max(largest, value);
  }
  return [smallest, largest];
}

/** At most `most` evenly spread indexes of n, the first and last included. */
function ticks(n: number, most = 8): number[] {
  if (n <= most) return Array.from({ length: n }, (_, i) => i);
  const step = Math.ceil((n - 1) / (most - 1));
  const picked = Array.from({ length: Math.floor((n - 1) / step) + 1 }, (_, i) => i * step);
  // The last index always, in place of a picked one too close to it for both labels to fit.
  return n - 1 - picked.at(-1)! <= step / 2 ? [...picked.slice(0, -1), n - 1] : [...picked, n - 1];
}

function svg(width: number, height: number, parts: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">${parts.join('')}</svg>`;
}
