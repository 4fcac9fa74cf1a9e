import type * as tfl from '@tensorflow/tfjs-layers';
import { buildAutoencoder, shareLayers, type SharedModels } from './architecture.js';
import { modelConfig, normalizationConfig, type ModelConfig, type NormalizationConfig } from './config.js';

/** The version name of a model fresh from its seeded initializers, never trained. */
export const UNTRAINED = 'untrained';

/** The article's autoencoder with the models that share its weights, and how its input is normalized. */
export interface Autoencoder extends SharedModels {
  /** refc_input (the full field) -> refc_reconstructed: the article's model, the one saved. */
  autoencoder: tfl.LayersModel;
  config: ModelConfig;
  normalization: NormalizationConfig;
  /** The saved version it was loaded from, or "untrained". */
  version: string;
}

/** A fresh model from the seeded initializers; settings not given are the seed article's. */
export function createAutoencoder(settings: { config?: unknown; normalization?: unknown } = {}): Autoencoder {
  const config = modelConfig(settings.config);
  return withSharedModels(buildAutoencoder(config), config, normalizationConfig(settings.normalization), UNTRAINED);
}

export function withSharedModels(autoencoder: tfl.LayersModel, config: ModelConfig, normalization: NormalizationConfig, version: string): Autoencoder {
  return { autoencoder, ...shareLayers(autoencoder, config), config, normalization, version };
}

/**
 * Frees the weights (tensors) of every model of this autoencoder (they share them, so once), and
 * the optimizer's state of one compiled for training. Not by LayersModel.dispose: tfjs-layers
 * counts a layer's uses by the models built through it, so with the shared models the
 * autoencoder's dispose freed nothing, and disposing the shared models too fails on layers that
 * one of them has freed already.
 */
export function disposeAutoencoder(model: Autoencoder): void {
  for (const weight of model.autoencoder.weights) weight.dispose();
  // Its Adam moments when compiled for training: a model frees only an optimizer that it made itself from a name.
  model.croppedAutoencoder.optimizer?.dispose();
}
