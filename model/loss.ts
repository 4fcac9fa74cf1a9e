import * as tf from '@tensorflow/tfjs-core';

/**
 * Log-cosh of the reconstruction error, averaged over each image: one number per image. The same
 * formula as Keras's LogCosh and tfjs-layers' "logcosh" (which training uses), written in the
 * overflow-safe form x + softplus(-2x) - log 2.
 */
export function logCoshPerImage(truth: tf.Tensor4D, reconstruction: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => {
    const x = tf.sub(reconstruction, truth);
    const perPixel = tf.sub(tf.add(x, tf.softplus(tf.mul(x, -2))), Math.log(2));
    return tf.mean(perPixel, [1, 2, 3]) as tf.Tensor1D;
  });
}
