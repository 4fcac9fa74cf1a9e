import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import type { Embedding } from '../bus/records.js';
import { createAutoencoder, disposeAutoencoder, UNTRAINED, type Autoencoder } from '../model/autoencoder.js';
import { selectBackend } from '../model/backends.js';
import { cropWindow, MODEL_PRESETS } from '../model/config.js';
import { fieldPicture } from '../model/picture.js';
import { loadVersion } from '../model/versions.js';
import type { StageLogger } from '../stages/stage.js';
import type { ObjectStore } from '../store/object-store.js';
import { openStore } from '../store/open.js';
import { embeddingsTopicHelp, embeddingsTopicOptions, lookUpEmbedding } from './embeddings-topic.js';
import { readModelSettings } from './model.js';
import { commandLogger, deviceOption, storeOption } from './sources.js';
import { writeOutputFile } from './files.js';
import { UsageError } from './usage.js';

export const reconstructUsage = `usage: hrrr-embed reconstruct --time T --png FILE [--models LOC] [--field F] [--data DIR | --kafka HOST:PORT]

Decodes the embedding of the analysis valid at T back into a picture: finds its record on the
embeddings topic, loads the model version the record names and runs its decoder on the embedding.
The PNG is the decoder's output (the article's refc_reconstructed, full grid size, zero on the
cropped border), north up, in radar colours, shrunk --shrink times.

  --png FILE           where to write the picture (required)
  --models LOC         the model store (default: the one the record names, its modelId)
  --config FILE        for a record of an "untrained" model: its settings, as \`model summary
                       --config\` takes them (default: the preset, seed or reduced, whose crop,
                       downsampling and embedding size the record has)
  --shrink N           each N x N block drawn as one pixel, its strongest echo (default 1)
  --device D           auto (default), tensorflow, webgpu, wasm or cpu
  --verbose            debug logs on stderr (default: warnings only)
${embeddingsTopicHelp}`;

export async function reconstructCommand(args: string[], out: (line: string) => void): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { ...embeddingsTopicOptions, png: { type: 'string' }, models: { type: 'string' }, config: { type: 'string' }, shrink: { type: 'string', default: '1' }, device: { type: 'string', default: 'auto' }, verbose: { type: 'boolean', default: false } },
  });
  if (values.png === undefined) throw new UsageError('--png is required', reconstructUsage);
  const shrink = Number(values.shrink);
  if (!Number.isInteger(shrink) || shrink < 1) throw new UsageError(`--shrink: ${values.shrink} is not a whole number of at least 1`, reconstructUsage);
  const device = deviceOption('--device', values.device, reconstructUsage);
  const log = commandLogger(values.verbose);
  const models = values.models === undefined ? undefined : storeOption('--models', values.models, reconstructUsage, { log });
  const { query } = await lookUpEmbedding(values, reconstructUsage, log);
  await selectBackend(device, 'inference', log);
  const model = await modelOf(query, { models, config: values.config }, log);
  try {
    if (model.config.numdense !== query.embedding.length) {
      throw new Error(`the embedding has ${query.embedding.length} numbers, model ${query.modelVersion} takes ${model.config.numdense}`);
    }
    const output = tf.tidy(() => model.decoder.predict(tf.tensor2d(query.embedding, [1, query.embedding.length])) as tf.Tensor4D);
    const [, height, width] = output.shape;
    const pixels = (await output.data()) as Float32Array;
    output.dispose();
    await writeOutputFile(values.png, fieldPicture(pixels, height, width, shrink));
    out(JSON.stringify({ validTime: query.validTime.toISOString(), field: query.field, modelId: query.modelId, modelVersion: query.modelVersion, png: values.png, height: Math.ceil(height / shrink), width: Math.ceil(width / shrink) }));
  } finally {
    disposeAutoencoder(model);
  }
}

/** The model version the record names, from --models or the store the record names; a fresh one for "untrained". */
async function modelOf(record: Embedding, values: { models: ObjectStore | undefined; config: string | undefined }, log: StageLogger): Promise<Autoencoder> {
  if (record.modelVersion === UNTRAINED) {
    if (values.config !== undefined) return createAutoencoder(await readModelSettings(values.config));
    const preset = Object.values(MODEL_PRESETS).find((config) => {
      const [rows, columns] = cropWindow(config);
      return rows === record.crop.rows && columns === record.crop.columns && config.downsample === record.crop.downsample && config.numdense === record.embedding.length;
    });
    if (!preset) throw new Error(`the record's untrained model (${record.crop.rows} x ${record.crop.columns} downsampled ${record.crop.downsample}, embedding of ${record.embedding.length}) is none of the presets (${Object.keys(MODEL_PRESETS).join(', ')}): give its settings with --config FILE`);
    return createAutoencoder({ config: preset });
  }
  const { model } = await loadVersion(values.models ?? openStore(record.modelId, { log }), record.modelVersion);
  return model;
}
