/**
 * The arithmetic the autoencoder cannot avoid, per image: two operations (a multiply and an add)
 * for every multiply-accumulate of its convolutions and dense layers. Pooling, upsampling,
 * biases, activations and the loss are left out: they are memory traffic, not arithmetic, and
 * well under 1 % of it. A benchmark divides these by its time to say how close it runs to the
 * hardware's floor.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Autoencoder } from './autoencoder.js';

export interface ModelFlops {
  /** The cropped field to its embedding and reconstruction. */
  forward: number;
  /**
   * The forward pass, then each layer's weight gradient (as much arithmetic as its forward pass)
   * and its input gradient (the same again), except the first layer's: nothing upstream needs it.
   */
  trainingStep: number;
}

export function modelFlops(model: Autoencoder): ModelFlops {
  const perLayer = model.croppedAutoencoder.layers.map(multiplyAccumulates).filter((macs) => macs > 0);
  const forward = 2 * sum(perLayer);
  return { forward, trainingStep: 3 * forward - 2 * (perLayer[0] ?? 0) };
}

function multiplyAccumulates(layer: tfl.layers.Layer): number {
  const className = layer.getClassName();
  if (className !== 'Conv2D' && className !== 'Dense') return 0;
  const kernel = layer.getWeights()[0]!.shape;
  const output = layer.outputShape as number[];
  if (className === 'Dense') return kernel[0]! * kernel[1]!;
  // Conv2D, stride 1: every output point takes kernel height x width x input channels products per filter.
  const [, height, width] = output as [null, number, number, number];
  return height * width * kernel.reduce((a, b) => a * b, 1);
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
