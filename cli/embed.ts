import { parseArgs } from 'node:util';
import { inventoryLine } from '../grib2/index.js';
import { disposeAutoencoder } from '../model/autoencoder.js';
import { selectBackend } from '../model/backends.js';
import { openModel } from '../model/open.js';
import { pipe, type StageContext } from '../stages/stage.js';
import { createDecodeStage } from '../stages/transforms/decode.js';
import { createEncodeStage, fixedModel } from '../stages/transforms/encode.js';
import { createNormalizeStage } from '../stages/transforms/normalize.js';
import { readInputFile } from './files.js';
import { commandLogger, deviceOption, storeOption } from './sources.js';
import { optionOrUsage, UsageError } from './usage.js';

export const embedUsage = `usage: hrrr-embed embed FILE.grib2 [--model DIR] [--version ID] [--device D] [--match REGEX]

Embeds every REFC field of FILE (or those whose .idx-style line matches REGEX) and prints one
JSON line per field: inventory line, valid time, embedding, reconstruction error, model version
and the compute backend used. Which backend was chosen, on what adapter and why, goes to stderr.

  --model DIR    a model store (a folder or file:// URL): its promoted version, or --version ID.
                 Without it, a freshly initialised model of the seed configuration (fixed seed)
                 is used, and every line says model version "untrained"
  --version ID   a version in the model store instead of the promoted one
  --device D     auto (default), tensorflow, webgpu, wasm or cpu
  --match REGEX  fields to embed (default ":REFC:")`;

export async function embedCommand(args: string[], out: (line: string) => void): Promise<void> {
  const { values: options, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { model: { type: 'string' }, version: { type: 'string' }, device: { type: 'string', default: 'auto' }, match: { type: 'string', default: ':REFC:' } },
  });
  if (positionals.length !== 1) throw new UsageError('embed takes exactly one FILE', embedUsage);
  if (options.version !== undefined && options.model === undefined) throw new UsageError('--version needs --model', embedUsage);
  const device = deviceOption('--device', options.device, embedUsage);
  const match = optionOrUsage('--match', embedUsage, () => new RegExp(options.match));
  const log = commandLogger(false, 'info');
  const { backend } = await selectBackend(device, 'inference', log);
  const { model } = await openModel(options.model === undefined ? undefined : storeOption('--model', options.model, embedUsage, { log }), options.version, log);
  try {
    const file = positionals[0]!;
    const stages = pipe(pipe(createDecodeStage({ match }), createNormalizeStage({ model: model.config, normalization: model.normalization })), createEncodeStage({ model: fixedModel(model), backend }));
    const context: StageContext = { log, signal: new AbortController().signal };
    let embedded = 0;
    for await (const result of stages.process({ source: { store: 'file://', key: file }, bytes: await readInputFile(file) }, context)) {
      out(
        JSON.stringify({
          inventory: inventoryLine(result.field),
          validTime: result.field.product.validTime.toISOString(),
          embedding: Array.from(result.embedding),
          reconstructionError: result.reconstructionError,
          modelVersion: result.model.version,
          backend: result.model.backend,
        }),
      );
      embedded++;
    }
    if (embedded === 0) throw new Error(`no field in ${file} matches ${match}`);
  } finally {
    disposeAutoencoder(model);
  }
}
