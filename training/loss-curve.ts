import { encode as encodePng } from 'fast-png';

const WIDTH = 800;
const HEIGHT = 400;
const MARGIN = 24;
const TRAIN: [number, number, number] = [70, 110, 200];
const HELD_OUT: [number, number, number] = [210, 40, 40];
const GRID: [number, number, number] = [225, 225, 225];

/**
 * The loss curve as a PNG: the training loss of every step (blue) and the held-out loss at each
 * checkpoint (red, with a dot per checkpoint), step on x, loss on a log scale on y with a grey line
 * at every power of ten. The range is in the PNG's text chunks (fast-png writes no labels).
 */
export function lossCurvePicture(trainLoss: readonly number[], heldOutLoss: ReadonlyArray<{ step: number; loss: number }>): Uint8Array {
  const data = new Uint8Array(WIDTH * HEIGHT * 3).fill(255);
  let steps = Math.max(trainLoss.length, 1);
  for (const { step } of heldOutLoss) steps = Math.max(steps, step);
  const [smallest, largest] = lossRange([...trainLoss, ...heldOutLoss.map(({ loss }) => loss)]);
  const low = Math.log10(smallest);
  const high = Math.log10(largest);
  const span = Math.max(high - low, 1e-6);
  const x = (step: number) => MARGIN + ((WIDTH - 2 * MARGIN) * step) / steps;
  const y = (loss: number) => HEIGHT - MARGIN - ((HEIGHT - 2 * MARGIN) * (Math.log10(Math.max(loss, 1e-12)) - low)) / span;
  const dot = (px: number, py: number, colour: [number, number, number]) => {
    const [cx, cy] = [Math.round(px), Math.round(py)];
    if (cx >= 0 && cx < WIDTH && cy >= 0 && cy < HEIGHT) data.set(colour, (cy * WIDTH + cx) * 3);
  };
  const line = (x0: number, y0: number, x1: number, y1: number, colour: [number, number, number]) => {
    const n = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
    for (let i = 0; i <= n; i++) dot(x0 + ((x1 - x0) * i) / n, y0 + ((y1 - y0) * i) / n, colour);
  };
  for (let decade = Math.ceil(low); decade <= Math.floor(high); decade++) line(MARGIN, y(10 ** decade), WIDTH - MARGIN, y(10 ** decade), GRID);
  line(MARGIN, HEIGHT - MARGIN, WIDTH - MARGIN, HEIGHT - MARGIN, [0, 0, 0]);
  line(MARGIN, MARGIN, MARGIN, HEIGHT - MARGIN, [0, 0, 0]);
  trainLoss.forEach((loss, i) => i > 0 && line(x(i), y(trainLoss[i - 1]!), x(i + 1), y(loss), TRAIN));
  heldOutLoss.forEach(({ step, loss }, i) => {
    if (i > 0) line(x(heldOutLoss[i - 1]!.step), y(heldOutLoss[i - 1]!.loss), x(step), y(loss), HELD_OUT);
    for (let dx = -2; dx <= 2; dx++) for (let dy = -2; dy <= 2; dy++) dot(x(step) + dx, y(loss) + dy, HELD_OUT);
  });
  const text = { Title: 'hrrr-embed loss curve', Description: `steps 0 to ${steps} (x); loss ${(10 ** low).toPrecision(3)} to ${(10 ** high).toPrecision(3)}, log scale (y); blue: training loss per step, red: held-out loss per checkpoint` };
  return encodePng({ width: WIDTH, height: HEIGHT, data, channels: 3, depth: 8, text });
}

/**
 * The smallest and largest positive finite loss ([0.001, 1] when none is): a loop, not
 * Math.min(...losses), since a long run has more steps than a call takes arguments.
 */
function lossRange(losses: readonly number[]): [number, number] {
  let [smallest, largest] = [Infinity, -Infinity];
  for (const loss of losses) {
    if (!(loss > 0 && Number.isFinite(loss))) continue;
    smallest = Math.min(smallest, loss);
    largest = Math.max(largest, loss);
  }
  return smallest <= largest ? [smallest, largest] : [1e-3, 1];
}
