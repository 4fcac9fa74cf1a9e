import type { StageLogger } from '../stages/stage.js';
import { openStore } from '../store/open.js';
import { createAutoencoder, UNTRAINED, type Autoencoder } from './autoencoder.js';
import { loadVersion, type ModelManifest } from './versions.js';

export interface OpenedModel {
  model: Autoencoder;
  /** Where its versions live ("untrained" for the fresh seed model): the model line embeddings name. */
  id: string;
  /** The version's manifest; absent for the fresh seed model. */
  manifest?: ModelManifest;
}

/**
 * The model a command runs: the promoted version (or `version`) in the model store at
 * `location`, or, with no location, a fresh model of the seed configuration with fixed seeds,
 * whose embeddings mean nothing yet (said in the log, and by its version "untrained").
 */
export async function openModel(location: string | undefined, version: string | undefined, log: StageLogger): Promise<OpenedModel> {
  if (location === undefined) {
    log.warn({ modelVersion: UNTRAINED }, 'no --model: using a freshly initialised model of the seed configuration; its embeddings mean nothing yet');
    return { model: createAutoencoder(), id: UNTRAINED };
  }
  const store = openStore(location, { log });
  const { model, manifest } = await loadVersion(store, version);
  log.info({ modelVersion: manifest.modelId, createdAt: manifest.createdAt, trainingData: manifest.trainingData }, 'model loaded');
  return { model, id: store.url, manifest };
}
