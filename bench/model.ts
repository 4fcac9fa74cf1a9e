/**
 * `npm run bench -- model [--device all|D[,D...]] [--size HxW|full|reduced] [--forward-batches 1,8,32] [--train-batches 4,16] [--runs N] [--warmup N] [--kernels ours,tfjs] [--filter-threads N[,N...]] [--profile]`
 *
 * Times the seed article's autoencoder on each compute backend, side by side in one run, and
 * prints one table: milliseconds per image for the forward pass as the consumer runs it
 * (embedding and reconstruction error, the only things read back) and for one Adam training
 * step, per batch size, with the GFLOP/s each achieves (model/flops.ts: the arithmetic the model
 * cannot avoid). On webgpu it runs twice, with the project's kernels (model/webgpu-kernels.ts)
 * and with tfjs's own, unless `--kernels` names one; `--filter-threads` runs ours once per target
 * thread count of the chunked weight gradient (a hardware GPU's knob). `--size full` is the real 1059 x 1799 field
 * (cropped to 1024 x 1792), `--size 256x512` any other multiple of 256, `--size reduced` the
 * reduced configuration. `--profile` adds, per backend, the kernels that took longest in one
 * forward pass and one training step (at the largest batches asked for), with their input shapes.
 * Backends that cannot start, or cannot train, say why in the table.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createAutoencoder, disposeAutoencoder, type Autoencoder } from '../model/autoencoder.js';
import { canTrain, selectBackend, type Backend } from '../model/backends.js';
import { croppedShape, modelConfig, REDUCED_MODEL_CONFIG, type ModelConfig } from '../model/config.js';
import { embedBatch } from '../model/embed.js';
import { modelFlops, type ModelFlops } from '../model/flops.js';
import type { KernelTuning, WebGpuKernels as Kernels } from '../model/webgpu-kernels.js';
import { compileForTraining, trainStep } from '../model/train.js';
import { silentLogger } from '../stages/stage.js';
import { commandLine, deviceOption, parseBenchArgs, UsageError } from './usage.js';

export const MODEL_USAGE =
  'npm run bench -- model [--device all|D[,D...]] [--size HxW|full|reduced] [--forward-batches 1,8,32] [--train-batches 4,16] [--runs N] [--warmup N] [--kernels ours,tfjs] [--filter-threads N[,N...]] [--profile]';

const ALL: Backend[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

interface Options {
  backends: Backend[];
  /** The model benchmarked, and how the table's title names it. */
  size: { config: ModelConfig; label: string };
  forwardBatches: number[];
  trainBatches: number[];
  runs: number;
  warmup: number;
  /** The webgpu variants to time, side by side. */
  kernels: Kernels[];
  /** Our kernels' variants; [{}] for their defaults. */
  tunings: KernelTuning[];
  profile: boolean;
}

/** One backend with one set of kernels: a group of rows in the table. */
interface Variant {
  backend: Backend;
  kernels: Kernels;
  tuning?: KernelTuning;
}

interface Row {
  variant: Variant;
  adapter: string;
  batch: string;
  forward: string;
  forwardRate: string;
  train: string;
  trainRate: string;
}

function parseOptions(args: string[]): Options {
  const { values } = parseBenchArgs({
    args,
    options: {
      device: { type: 'string', default: 'all' },
      size: { type: 'string', default: '256x256' },
      'forward-batches': { type: 'string', default: '1,8,32' },
      'train-batches': { type: 'string', default: '4,16' },
      runs: { type: 'string', default: '2' },
      warmup: { type: 'string', default: '1' },
      kernels: { type: 'string', default: 'ours,tfjs' },
      'filter-threads': { type: 'string' },
      profile: { type: 'boolean', default: false },
    },
  });
  const integers = (name: string, text: string, min: number) =>
    text.split(',').map((part) => {
      if (!/^\d+$/.test(part) || Number(part) < min) throw new UsageError(`--${name} takes integers >= ${min}, not "${text}"`);
      return Number(part);
    });
  const backends: Backend[] = values.device === 'all' ? ALL : values.device.split(',').map((name) => {
    const device = deviceOption(name);
    if (device === 'auto') throw new UsageError('--device auto picks one backend; name them, or all');
    return device;
  });
  const kernels = values.kernels.split(',').map((name) => {
    if (name !== 'ours' && name !== 'tfjs') throw new UsageError(`--kernels takes ours, tfjs or both, not "${values.kernels}"`);
    return name;
  });
  return {
    backends,
    size: parseSize(values.size),
    forwardBatches: integers('forward-batches', values['forward-batches'], 1),
    trainBatches: integers('train-batches', values['train-batches'], 1),
    runs: integers('runs', values.runs, 1)[0]!,
    warmup: integers('warmup', values.warmup, 0)[0]!,
    kernels,
    tunings: values['filter-threads'] === undefined ? [{}] : integers('filter-threads', values['filter-threads'], 1).map((filterThreads) => ({ filterThreads })),
    profile: values.profile,
  };
}

function parseSize(text: string): Options['size'] {
  if (text === 'full') return { config: modelConfig(), label: 'seed autoencoder (nlayers 4, poolsize 4, numfilters 4, numdense 50), input 1059 x 1799 cropped to 1024 x 1792 (full size)' };
  if (text === 'reduced') return { config: modelConfig(REDUCED_MODEL_CONFIG), label: 'reduced autoencoder (nlayers 3, poolsize 4, numfilters 4, numdense 50), input 1059 x 1799 cropped to 1024 x 1792, downsampled 4 times to 256 x 448' };
  const match = /^(\d+)x(\d+)$/.exec(text);
  if (!match || Number(match[1]) % 256 || Number(match[2]) % 256 || Number(match[1]) === 0 || Number(match[2]) === 0) {
    throw new UsageError(`--size takes full, reduced or HxW, both multiples of 256 (4 poolings of 4), not "${text}"`);
  }
  const [height, width] = [Number(match[1]), Number(match[2])];
  return { config: modelConfig({ inputHeight: height, inputWidth: width, cropping: [[0, 0], [0, 0]] }), label: `seed autoencoder (nlayers 4, poolsize 4, numfilters 4, numdense 50), input ${height} x ${width}` };
}

/** Median milliseconds of `runs` calls after `warmup` unmeasured ones. */
async function median(work: () => Promise<unknown>, { runs, warmup }: Options): Promise<number> {
  for (let i = 0; i < warmup; i++) await work();
  const timings: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await work();
    timings.push(performance.now() - start);
  }
  timings.sort((a, b) => a - b);
  const middle = timings.length >> 1;
  return timings.length % 2 ? timings[middle]! : (timings[middle - 1]! + timings[middle]!) / 2;
}

/** A pass timed per image, and the GFLOP/s that makes; or why it could not run. */
async function timed(work: (() => Promise<unknown>) | string, batch: number, flopsPerImage: number, options: Options): Promise<[string, string]> {
  if (typeof work === 'string') return [work, ''];
  try {
    const perImage = (await median(work, options)) / batch;
    return [perImage.toFixed(perImage < 10 ? 2 : 1), (flopsPerImage / perImage / 1e6).toFixed(1)];
  } catch (error) {
    return [`failed: ${(error as Error).message.split('\n')[0]!.slice(0, 100)}`, ''];
  }
}

function variantName({ backend, kernels, tuning }: Variant): string {
  if (backend !== 'webgpu') return backend;
  if (kernels === 'tfjs') return "webgpu, tfjs's kernels";
  return `webgpu, our kernels${tuning?.filterThreads ? ` (filter threads ${tuning.filterThreads})` : ''}`;
}

/** The model and one input per batch size, on the variant's backend; then `work`, then all of it freed. */
async function withModel<T>(variant: Variant, options: Options, work: (model: Autoencoder, input: (batch: number) => tf.Tensor4D, adapter: string) => Promise<T>): Promise<T | string> {
  let adapter: string;
  try {
    ({ adapter } = await selectBackend(variant.backend, 'inference', silentLogger));
  } catch (error) {
    return (error as Error).message.replace(`${variant.backend}: `, '').replace(/ \(.*$/, '');
  }
  if (variant.backend === 'webgpu') (await import('../model/webgpu-kernels.js')).useWebGpuKernels(variant.kernels, variant.tuning);
  const model = createAutoencoder({ config: options.size.config });
  if (canTrain(variant.backend)) compileForTraining(model);
  const [height, width] = croppedShape(options.size.config);
  const inputs = new Map<number, tf.Tensor4D>();
  const input = (batch: number) => {
    if (!inputs.has(batch)) inputs.set(batch, tf.randomUniform([batch, height, width, 1], 0, 1, 'float32', 1) as tf.Tensor4D);
    return inputs.get(batch)!;
  };
  try {
    return await work(model, input, adapter);
  } finally {
    tf.dispose([...inputs.values()]);
    disposeAutoencoder(model);
  }
}

async function benchVariant(variant: Variant, flops: ModelFlops, options: Options): Promise<Row[]> {
  const batches = [...new Set([...options.forwardBatches, ...options.trainBatches])].sort((a, b) => a - b);
  const rows = await withModel(variant, options, async (model, input, adapter) => {
    const rows: Row[] = [];
    for (const batch of batches) {
      const [forward, forwardRate] = options.forwardBatches.includes(batch) ? await timed(() => embedBatch(model, input(batch)), batch, flops.forward, options) : ['', ''];
      const training = !options.trainBatches.includes(batch) ? '' : canTrain(variant.backend) ? () => trainStep(model, input(batch)) : 'cannot train';
      const [train, trainRate] = await timed(training, batch, flops.trainingStep, options);
      rows.push({ variant, adapter, batch: String(batch), forward, forwardRate, train, trainRate });
      process.stderr.write(`  ${variantName(variant)} batch ${batch}: forward ${forward || '-'}, train ${train || '-'} ms/image\n`);
    }
    return rows;
  });
  return typeof rows === 'string' ? [{ variant, adapter: rows, batch: '', forward: 'unavailable', forwardRate: '', train: '', trainRate: '' }] : rows;
}

export async function modelBench(args: string[]): Promise<number> {
  const options = parseOptions(args);
  const variants = options.backends.flatMap((backend): Variant[] => {
    if (backend !== 'webgpu') return [{ backend, kernels: 'tfjs' }];
    return options.kernels.flatMap((kernels): Variant[] => (kernels === 'ours' ? options.tunings.map((tuning) => ({ backend, kernels, tuning })) : [{ backend, kernels }]));
  });
  const flops = await withModel({ backend: 'cpu', kernels: 'tfjs' }, options, async (model) => modelFlops(model));
  if (typeof flops === 'string') throw new Error(`cpu: ${flops}`);
  const rows: Row[] = [];
  const profiles: string[] = [];
  for (const variant of variants) {
    rows.push(...(await benchVariant(variant, flops, options)));
    if (options.profile && rows.at(-1)!.forward !== 'unavailable') profiles.push(await profileVariant(variant, options));
  }
  console.log(`${commandLine(['model', ...args])}`);
  console.log(`${options.size.label}; median of ${options.runs} after ${options.warmup} warm-up`);
  console.log(`floor: ${(flops.forward / 1e9).toFixed(2)} GFLOP per image forward, ${(flops.trainingStep / 1e9).toFixed(2)} GFLOP per image per training step`);
  for (const line of tableLines([
    ['backend', 'batch', 'forward ms/img', 'forward GFLOP/s', 'train step ms/img', 'train GFLOP/s', 'adapter'],
    ...rows.map((r) => [variantName(r.variant), r.batch, r.forward, r.forwardRate, r.train, r.trainRate, r.adapter]),
  ])) console.log(line);
  if (options.tunings.some(({ filterThreads }) => filterThreads) && rows.some((r) => r.adapter.endsWith('(software)'))) {
    console.log('A software adapter keeps tfjs\'s weight gradient, so --filter-threads changes nothing there.');
  }
  for (const profile of profiles) console.log(profile);
  return 0;
}

function tableLines(table: string[][]): string[] {
  const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  return table.map((row) => `| ${row.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`);
}

/** Kernels by the time they took in one forward pass and one training step, at the largest batches asked for. */
async function profileVariant(variant: Variant, options: Options): Promise<string> {
  const forwardBatch = Math.max(...options.forwardBatches);
  const trainBatch = Math.max(...options.trainBatches);
  return withModel(variant, options, async (model, input) => {
    const passes: Array<[string, () => Promise<unknown>]> = [[`forward pass, batch ${forwardBatch}`, () => embedBatch(model, input(forwardBatch))]];
    if (canTrain(variant.backend)) passes.push([`training step, batch ${trainBatch}`, () => trainStep(model, input(trainBatch))]);
    const sections: string[] = [];
    for (const [title, pass] of passes) {
      try {
        await pass();
        const { kernels } = await tf.profile(async () => void (await pass()));
        sections.push(kernelTable(`${variantName(variant)}: ${title}`, kernels));
      } catch (error) {
        sections.push(`${variantName(variant)}: ${title}: failed: ${(error as Error).message.split('\n')[0]}`);
      }
    }
    return sections.join('\n');
  });
}

/** The 12 kernels (by name and input shapes) that took longest, with their share of the pass's kernel time. */
function kernelTable(title: string, kernels: Array<{ name: string; inputShapes: number[][]; kernelTimeMs: number | { error: string } | Promise<number | { error: string }> }>): string {
  const byKernel = new Map<string, { calls: number; ms: number }>();
  let total = 0;
  // On cpu and wasm tfjs also records the op around each kernel ("fusedConv2d__op"): counted once, as its kernel.
  const recorded = kernels.filter(({ name }) => !name.endsWith('__op'));
  for (const kernel of recorded) {
    const ms = typeof kernel.kernelTimeMs === 'number' ? kernel.kernelTimeMs : 0;
    const key = `${kernel.name} ${kernel.inputShapes.map((shape) => (shape ? `[${shape.join(',')}]` : '-')).join(' ')}`;
    const entry = byKernel.get(key) ?? { calls: 0, ms: 0 };
    byKernel.set(key, { calls: entry.calls + 1, ms: entry.ms + ms });
    total += ms;
  }
  const top = [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12);
  const table = [['kernel and input shapes', 'calls', 'ms', 'share'], ...top.map(([key, { calls, ms }]) => [key, String(calls), ms.toFixed(2), `${((100 * ms) / total).toFixed(1)} %`])];
  return [`\n${title}: ${recorded.length} kernel calls, ${total.toFixed(1)} ms of kernel time`, ...tableLines(table)].join('\n');
}
