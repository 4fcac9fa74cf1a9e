import type { StageLogger } from '../stages/stage.js';
import type { ObjectStore } from '../store/object-store.js';
import { createAutoencoder, UNTRAINED, type Autoencoder } from './autoencoder.js';
import { loadVersion, promotedVersion, type ModelManifest } from './versions.js';

export interface OpenedModel {
  model: Autoencoder;
  /** Where its versions live ("untrained" for the fresh seed model): the model line embeddings name. */
  id: string;
  /** The version's manifest; absent for the fresh seed model. */
  manifest?: ModelManifest;
}

/**
 * The model a command runs: the promoted version (or `version`) in the model store `store`,
 * or, with no store or nothing promoted there yet, a fresh model of the seed configuration with fixed seeds,
 * whose embeddings mean nothing yet (said in the log, and by its version "untrained").
 */
export async function openModel(store: ObjectStore | undefined, version: string | undefined, log: StageLogger): Promise<OpenedModel> {
  if (store === undefined) {
    log.warn({ modelVersion: UNTRAINED }, 'no --model: using a freshly initialised model of the seed configuration; its embeddings mean nothing yet');
    return { model: createAutoencoder(), id: UNTRAINED };
  }
  if (version === undefined && (await promotedVersion(store)) === undefined) {
    // A deployment's first start, before the first training: the seed model until a version is promoted.
    log.warn({ models: store.url, modelVersion: UNTRAINED }, 'no model version is promoted yet: using a freshly initialised model of the seed configuration until one is');
    return { model: createAutoencoder(), id: store.url };
  }
  const { model, manifest } = await loadVersion(store, version);
  log.info({ modelVersion: manifest.modelId, createdAt: manifest.createdAt, trainingData: manifest.trainingData }, 'model loaded');
  return { model, id: store.url, manifest };
}
