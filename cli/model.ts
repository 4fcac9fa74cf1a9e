import { parseArgs } from 'node:util';
import { createAutoencoder, disposeAutoencoder } from '../model/autoencoder.js';
import { selectBackend } from '../model/backends.js';
import { modelFlops } from '../model/flops.js';
import { summarizeLayers } from '../model/summary.js';
import { silentLogger } from '../stages/stage.js';
import { readInputFile } from './files.js';
import { UsageError } from './usage.js';

export const modelUsage = `usage: hrrr-embed model summary [--config FILE]

Prints the autoencoder's layers (name, type, output shape, parameters), its parameter count and
its configuration as one JSON document. FILE is JSON: {"model": {...}, "normalization": {...}}
with any of the hyperparameters (inputHeight, inputWidth, cropping, downsample, nlayers,
poolsize, numfilters, numdense, seed) and normalization settings (missingValue, clipMin, clipMax, scale);
what is not given is the seed article's.`;

export async function modelCommand(args: string[], out: (line: string) => void): Promise<void> {
  const { values: options, positionals } = parseArgs({ args, allowPositionals: true, options: { config: { type: 'string' } } });
  if (positionals[0] !== 'summary' || positionals.length !== 1) throw new UsageError('model takes one subcommand: summary', modelUsage);
  const settings = options.config === undefined ? {} : await readModelSettings(options.config);
  await selectBackend('cpu', 'inference', silentLogger);
  const model = createAutoencoder(settings);
  try {
    const summary = {
      name: model.autoencoder.name,
      params: model.autoencoder.countParams(),
      encoderParams: model.encoder.countParams(),
      decoderParams: model.decoder.countParams(),
      config: model.config,
      normalization: model.normalization,
      flopsPerImage: modelFlops(model),
      layers: summarizeLayers(model.autoencoder),
    };
    out(JSON.stringify(summary, null, 2));
  } finally {
    disposeAutoencoder(model);
  }
}

/** A settings file as `model summary --config` and `reconstruct --config` take it: {"model": {...}, "normalization": {...}}. */
export async function readModelSettings(path: string): Promise<{ config?: unknown; normalization?: unknown }> {
  // Without a byte order mark (Windows editors and PowerShell write one), which is no JSON.
  const text = (await readInputFile(path)).toString('utf8').replace(/^\uFEFF/, '');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // JSON.parse quotes the text it stopped in, line breaks and all: one line, naming the file.
    throw new Error(`${path}: ${(error as Error).message.replace(/\s*\n\s*/g, ' ')}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${path}: must hold a JSON object`);
  const { model, normalization, ...rest } = parsed as Record<string, unknown>;
  const unknownKey = Object.keys(rest)[0];
  if (unknownKey !== undefined) throw new Error(`${path}: unknown key ${JSON.stringify(unknownKey)} (known: model, normalization)`);
  return { config: model ?? {}, normalization: normalization ?? {} };
}
