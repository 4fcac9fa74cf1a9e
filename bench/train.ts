/**
 * `npm run bench -- train [--device D] [--configs small,full] [--batch-size N] [--steps N] [--warmup N]`
 *
 * The retraining loop's speed, side by side for the small test configuration (70 x 38, cropped
 * to 32 x 64) and the seed article's (1059 x 1799, cropped to 1024 x 1792): Adam steps per second
 * on batches streamed as retraining streams them (shuffled across shards, through the shuffle
 * buffer), from shards generated on the fly (a storm cell drifting east), so reading costs nothing
 * here. The first `--warmup` steps (tfjs compiles and allocates) are not counted.
 */
import { createAutoencoder, disposeAutoencoder } from '../model/autoencoder.js';
import { selectBackend } from '../model/backends.js';
import { croppedShape, modelConfig, SEED_NORMALIZATION, type ModelConfig } from '../model/config.js';
import { compileForTraining, trainStep } from '../model/train.js';
import { SHARD_FORMAT, type ShardCatalog, type ShardManifest, type ShardRow } from '../shards/types.js';
import { silentLogger } from '../stages/stage.js';
import { shuffledRows, trainingBatches } from '../training/batches.js';
import { commandLine, deviceOption, parseBenchArgs, UsageError } from './usage.js';

export const TRAIN_USAGE = 'npm run bench -- train [--device D] [--configs small,full] [--batch-size N] [--steps N] [--warmup N]';

const CONFIGS: Record<string, Partial<ModelConfig>> = {
  small: { inputHeight: 38, inputWidth: 70, cropping: [[3, 3], [3, 3]], nlayers: 2, poolsize: 4, numfilters: 2, numdense: 16 },
  full: {},
};

/** Shards of synthetic fields made when read: `count` shards of `rows` fields of height x width. */
class GeneratedShards implements ShardCatalog {
  readonly url = 'generated://shards/';
  constructor(
    private readonly height: number,
    private readonly width: number,
    private readonly count: number,
    private readonly rows: number,
  ) {}

  async list(): Promise<ShardManifest[]> {
    return Array.from({ length: this.count }, (_, i) => ({
      format: SHARD_FORMAT,
      id: `generated-${i}`,
      field: 'REFC:entire atmosphere:anl',
      dataKey: '',
      from: new Date(i * this.rows * 3_600_000).toISOString(),
      to: new Date(((i + 1) * this.rows - 1) * 3_600_000).toISOString(),
      count: this.rows,
      height: this.height,
      width: this.width,
      encoding: 'float32',
      normalization: SEED_NORMALIZATION,
      bytes: 0,
      sha256: '',
      createdAt: new Date(0).toISOString(),
    }));
  }

  async *read(manifest: ShardManifest): AsyncIterable<ShardRow> {
    const first = Number(manifest.id.split('-')[1]) * this.rows;
    for (let n = first; n < first + this.rows; n++) {
      const [cx, cy, radius] = [((n * 0.09) % 1) * this.width, this.height / 2, this.height / 8];
      const values = new Float32Array(this.height * this.width).map((_, i) => Math.max(0, 0.8 * Math.exp(-(((i % this.width) - cx) ** 2 + (Math.floor(i / this.width) - cy) ** 2) / radius ** 2)));
      yield { validTime: new Date(n * 3_600_000), field: manifest.field, source: `generated://${n}`, height: this.height, width: this.width, values };
    }
  }
}

export async function trainBench(args: string[]): Promise<number> {
  const { values } = parseBenchArgs({
    args,
    options: { device: { type: 'string', default: 'cpu' }, configs: { type: 'string', default: 'small,full' }, 'batch-size': { type: 'string', default: '4' }, steps: { type: 'string', default: '3' }, warmup: { type: 'string', default: '1' } },
  });
  const count = (name: string, text: string, min: number) => {
    if (!/^\d+$/.test(text) || Number(text) < min) throw new UsageError(`--${name} takes an integer >= ${min}, not "${text}"`);
    return Number(text);
  };
  const [batchSize, steps, warmup] = [count('batch-size', values['batch-size'], 1), count('steps', values.steps, 1), count('warmup', values.warmup, 0)];
  const names = values.configs.split(',');
  for (const name of names) if (!Object.hasOwn(CONFIGS, name)) throw new UsageError(`--configs: "${name}" is not one of ${Object.keys(CONFIGS).join(', ')}`);
  const device = deviceOption(values.device);
  const { backend, adapter } = await selectBackend(device, 'training', silentLogger);
  console.log(`${commandLine(['train', ...args])}\nbackend ${backend} on ${adapter}; batch ${batchSize}; ${steps} steps timed after ${warmup} warm-up`);
  const table = [['config', 'cropped input', 'parameters', 's/step', 'steps/s', 'fields/s', 'peak RSS']];
  for (const name of names) {
    const config = modelConfig(CONFIGS[name]);
    const [height, width] = croppedShape(config);
    const model = createAutoencoder({ config });
    compileForTraining(model);
    const catalog = new GeneratedShards(height, width, 4, 4);
    const batches = trainingBatches(shuffledRows(catalog, await catalog.list(), { seed: 1, interleave: 4, bufferSize: 8 }), batchSize, [height, width]);
    let started = 0;
    let step = 0;
    for await (const { batch } of batches) {
      if (step === warmup) started = performance.now();
      await trainStep(model, batch);
      batch.dispose();
      process.stderr.write(`  ${name}: step ${++step}\n`);
      if (step === warmup + steps) break;
    }
    const seconds = (performance.now() - started) / 1000 / steps;
    table.push([name, `${height} x ${width}`, String(model.autoencoder.countParams()), seconds.toPrecision(3), (1 / seconds).toPrecision(3), (batchSize / seconds).toPrecision(3), `${(process.resourceUsage().maxRSS / 2 ** 20).toFixed(1)} GiB`]);
    disposeAutoencoder(model);
  }
  const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  for (const row of table) console.log(`| ${row.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`);
  return 0;
}
