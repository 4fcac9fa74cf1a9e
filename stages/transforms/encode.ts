import * as tf from '@tensorflow/tfjs-core';
import type { Autoencoder } from '../../model/autoencoder.js';
import { embedBatch, type Embedding } from '../../model/embed.js';
import type { Stage } from '../stage.js';
import type { EmbeddedField, NormalizedField } from '../types.js';

export interface EncodeConfig {
  model: Autoencoder;
  /** The tfjs backend the model runs on (selectBackend's choice), recorded with each embedding. */
  backend: string;
}

/** NormalizedField -> EmbeddedField: the embedding and the reconstruction error, in one pass of the model. */
export function createEncodeStage({ model, backend }: EncodeConfig): Stage<NormalizedField, EmbeddedField> {
  return {
    name: 'encode',
    async *process({ source, field, height, width, values }, { log }) {
      const batch = tf.tensor4d(values, [1, height, width, 1]);
      const [{ embedding, reconstructionError }] = (await embedBatch(model, batch).finally(() => batch.dispose())) as [Embedding];
      log.debug({ key: source.key, reconstructionError }, 'encoded');
      yield { source, field, embedding, reconstructionError, model: { version: model.version, backend } };
    },
  };
}
