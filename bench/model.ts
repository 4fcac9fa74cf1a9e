/**
 * `npm run bench -- model [--device all|D[,D...]] [--size HxW|full|reduced] [--batches 1,2] [--runs N] [--warmup N]`
 *
 * Times the seed article's autoencoder (nlayers 4, poolsize 4, numfilters 4, numdense 50) on each
 * compute backend, side by side in one run: milliseconds per image for the forward pass (the
 * embedder: embedding and reconstruction, read back to the CPU) and for one Adam training step,
 * per batch size. The default input is 256 x 256 so that a 2-core machine finishes in minutes;
 * `--size full` is the real 1059 x 1799 field (cropped to 1024 x 1792), `--size 256x512` any
 * other multiple of 256, `--size reduced` the reduced configuration (REDUCED_MODEL_CONFIG: the full
 * field downsampled 4 times to 256 x 448, one block fewer). Backends that cannot start, or cannot train, say why in the table.
 * `--compare-conv-filter` adds a webgpu run with tfjs's own weight-gradient kernel in place of
 * model/webgpu-conv-filter.ts's, side by side.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { createAutoencoder, disposeAutoencoder, type Autoencoder } from '../model/autoencoder.js';
import { canTrain, parseDevice, selectBackend, type Backend } from '../model/backends.js';
import { croppedShape, modelConfig, REDUCED_MODEL_CONFIG, type ModelConfig } from '../model/config.js';
import { compileForTraining, trainStep } from '../model/train.js';
import { silentLogger } from '../stages/stage.js';
import { UsageError } from './usage.js';

export const MODEL_USAGE = 'npm run bench -- model [--device all|D[,D...]] [--size HxW|full|reduced] [--batches 1,2] [--runs N] [--warmup N] [--compare-conv-filter]';

const ALL: Backend[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

interface Options {
  backends: Backend[];
  /** The model benchmarked, and how the table's title names it. */
  size: { config: ModelConfig; label: string };
  batches: number[];
  runs: number;
  warmup: number;
  /** Also time webgpu with tfjs's own Conv2DBackpropFilter kernel instead of model/webgpu-conv-filter.ts's. */
  compareConvFilter: boolean;
}

interface Row {
  backend: string;
  adapter: string;
  batch: number | '';
  forward: string;
  train: string;
}

function parseOptions(args: string[]): Options {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        device: { type: 'string', default: 'all' },
        size: { type: 'string', default: '256x256' },
        batches: { type: 'string', default: '1,2' },
        runs: { type: 'string', default: '2' },
        warmup: { type: 'string', default: '1' },
        'compare-conv-filter': { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const integers = (name: string, text: string, min: number) =>
    text.split(',').map((part) => {
      if (!/^\d+$/.test(part) || Number(part) < min) throw new UsageError(`--${name} takes integers >= ${min}, not "${text}"`);
      return Number(part);
    });
  let backends: Backend[];
  try {
    backends = values.device === 'all' ? ALL : values.device.split(',').map((name) => {
      const device = parseDevice(name);
      if (device === 'auto') throw new UsageError('--device auto picks one backend; name them, or all');
      return device;
    });
  } catch (error) {
    throw error instanceof UsageError ? error : new UsageError((error as Error).message);
  }
  let size: Options['size'];
  if (values.size === 'full') size = { config: modelConfig(), label: 'seed autoencoder (nlayers 4, poolsize 4, numfilters 4, numdense 50), input 1059 x 1799 cropped to 1024 x 1792 (full size)' };
  else if (values.size === 'reduced') size = { config: modelConfig(REDUCED_MODEL_CONFIG), label: 'reduced autoencoder (nlayers 3, poolsize 4, numfilters 4, numdense 50), input 1059 x 1799 cropped to 1024 x 1792, downsampled 4 times to 256 x 448' };
  else {
    const match = /^(\d+)x(\d+)$/.exec(values.size);
    if (!match || Number(match[1]) % 256 || Number(match[2]) % 256 || Number(match[1]) === 0 || Number(match[2]) === 0) {
      throw new UsageError(`--size takes full, reduced or HxW, both multiples of 256 (4 poolings of 4), not "${values.size}"`);
    }
    const [height, width] = [Number(match[1]), Number(match[2])];
    size = { config: modelConfig({ inputHeight: height, inputWidth: width, cropping: [[0, 0], [0, 0]] }), label: `seed autoencoder (nlayers 4, poolsize 4, numfilters 4, numdense 50), input ${height} x ${width}` };
  }
  return { backends, size, batches: integers('batches', values.batches, 1), runs: integers('runs', values.runs, 1)[0]!, warmup: integers('warmup', values.warmup, 0)[0]!, compareConvFilter: values['compare-conv-filter'] };
}

/** Median milliseconds of `runs` calls after `warmup` unmeasured ones. */
async function median(work: () => Promise<void>, { runs, warmup }: Options): Promise<number> {
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

async function perImage(what: () => Promise<string | number>, batch: number): Promise<string> {
  try {
    const result = await what();
    return typeof result === 'string' ? result : (result / batch).toFixed(1);
  } catch (error) {
    return `failed: ${(error as Error).message.split('\n')[0]!.slice(0, 80)}`;
  }
}

async function benchBackend(backend: Backend, options: Options, label: string = backend): Promise<Row[]> {
  let choice;
  try {
    choice = await selectBackend(backend, 'inference', silentLogger);
  } catch (error) {
    const why = (error as Error).message.replace(`${backend}: `, '').replace(/ \(.*$/, '');
    return [{ backend, adapter: why, batch: '', forward: 'unavailable', train: '' }];
  }
  const model: Autoencoder = createAutoencoder({ config: options.size.config });
  const trains = canTrain(backend);
  if (trains) compileForTraining(model);
  const [croppedHeight, croppedWidth] = croppedShape(options.size.config);
  const rows: Row[] = [];
  for (const batch of options.batches) {
    const input = tf.randomUniform([batch, croppedHeight, croppedWidth, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const forward = await perImage(
      () =>
        median(async () => {
          const outputs = model.embedder.predict(input) as tf.Tensor[];
          await Promise.all(outputs.map((output) => output.data()));
          tf.dispose(outputs);
        }, options),
      batch,
    );
    const train = await perImage(() => (trains ? median(async () => void (await trainStep(model, input)), options) : Promise.resolve('cannot train')), batch);
    input.dispose();
    rows.push({ backend: label, adapter: choice.adapter, batch, forward, train });
    process.stderr.write(`  ${label} batch ${batch}: forward ${forward}, train ${train} ms/image\n`);
  }
  disposeAutoencoder(model);
  return rows;
}

export async function modelBench(args: string[]): Promise<number> {
  const options = parseOptions(args);
  console.log(`${options.size.label}; median of ${options.runs} after ${options.warmup} warm-up`);
  const rows: Row[] = [];
  for (const backend of options.backends) {
    if (backend !== 'webgpu' || !options.compareConvFilter) {
      rows.push(...(await benchBackend(backend, options)));
      continue;
    }
    rows.push(...(await benchBackend(backend, options, 'webgpu (default kernels)')));
    if (rows.at(-1)!.forward === 'unavailable') continue;
    const { useChunkedConv2DBackpropFilter, usingChunkedConv2DBackpropFilter } = await import('../model/webgpu-conv-filter.js');
    const chunked = usingChunkedConv2DBackpropFilter();
    useChunkedConv2DBackpropFilter(!chunked);
    rows.push(...(await benchBackend(backend, options, chunked ? "webgpu, tfjs's weight gradient" : 'webgpu, chunked weight gradient')));
    useChunkedConv2DBackpropFilter(chunked);
  }
  const table = [['backend', 'batch', 'forward ms/img', 'train step ms/img', 'adapter'], ...rows.map((r) => [r.backend, String(r.batch), r.forward, r.train, r.adapter])];
  const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  for (const row of table) console.log(`| ${row.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`);
  return 0;
}
