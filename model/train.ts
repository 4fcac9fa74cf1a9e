import * as tf from '@tensorflow/tfjs-core';
import type { Autoencoder } from './autoencoder.js';
import { assertCanTrain } from './backends.js';
import { assertBatchFits } from './batch-limit.js';
import { trainingConfig } from './config.js';

/**
 * Readies the model for training: Adam and LogCosh, as the article compiles it; on a backend
 * that cannot train (wasm) this fails at once, not at the first gradient. What is fitted
 * is the cropped field against its reconstruction before zero padding; the article's loss over
 * the whole field differs only on the border, where the output is always zero (no gradient).
 */
export function compileForTraining(model: Autoencoder, settings: unknown = {}): void {
  const { learningRate } = trainingConfig(settings);
  assertCanTrain(tf.getBackend());
  model.croppedAutoencoder.compile({ optimizer: tf.train.adam(learningRate), loss: 'logcosh' });
}

/**
 * One Adam step on a batch of cropped, normalized fields [n, height, width, 1]; returns the batch's
 * loss before the step. A batch larger than the adapter's buffers allow is refused, not split:
 * its size is a training hyperparameter.
 */
export async function trainStep(model: Autoencoder, batch: tf.Tensor4D): Promise<number> {
  assertBatchFits(model, batch.shape[0]);
  const loss = await model.croppedAutoencoder.trainOnBatch(batch, batch);
  return Array.isArray(loss) ? loss[0]! : loss;
}
