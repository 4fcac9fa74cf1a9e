/**
 * Direct convolutions for tfjs-backend-webgpu: one GPU thread per output value, summing over the
 * filter's taps and the input channels in place (Conv2D and FusedConv2D), or over the taps and
 * the output channels (Conv2DBackpropInput, the input gradient).
 *
 * tfjs 4.22 turns these into a tiled matrix product (Conv2DMMProgram), which pays off only when
 * both channel counts are large. The autoencoder's full-resolution layers have one input channel
 * (encoder_conv_0: 4 x 4 x 1 x 16) or one output channel (before_padding: 3 x 3 x 16 x 1), where
 * the product's inner or outer dimension is 16 or 1 and the tiles sit mostly empty: at 512 x 512
 * on lavapipe tfjs's kernels took 471 and 538 ms for what these do in 299 and 93. Where both
 * channel counts are large, tfjs's product is faster (32 ms against 142 for 16 to 32 channels),
 * so which shapes come here is webgpu-kernels.ts's choice.
 */
import * as tf from '@tensorflow/tfjs-core';
import { int, runProgram, type ProgramRunner } from './webgpu-program.js';

export type ConvInfo = tf.backend_util.Conv2DInfo;

interface ConvAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations?: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation?: string;
  inputShape?: [number, number, number, number];
}

/** Chooses, per call, whether a direct kernel takes a convolution of this shape. */
export type ShapeFilter = (info: ConvInfo) => boolean;

function convInfo(xShape: number[], filterShape: number[], attrs: ConvAttrs): ConvInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(attrs.dataFormat),
  );
}

const geometryUniforms = 'pads : vec2<i32>, strides : vec2<i32>, dilations : vec2<i32>, filterSize : vec2<i32>,';

function geometry(info: ConvInfo) {
  return [int(info.padInfo.top, info.padInfo.left), int(info.strideHeight, info.strideWidth), int(info.dilationHeight, info.dilationWidth), int(info.filterHeight, info.filterWidth)];
}

/** Conv2D, or FusedConv2D with a per-channel bias and relu or no activation; other shapes and activations go to `fallback`. */
export function directConv2D(fallback: tf.KernelFunc, takes: ShapeFilter): tf.KernelFunc {
  return (args) => {
    const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
    const attrs = args.attrs as unknown as ConvAttrs;
    const info = convInfo(x!.shape, filter!.shape, attrs);
    const activation = attrs.activation ?? 'linear';
    const plainBias = !bias || (bias.shape.length === 1 && bias.shape[0] === info.outChannels);
    if (info.dataFormat !== 'channelsLast' || preluActivationWeights || !['linear', 'relu'].includes(activation) || !plainBias || !takes(info)) return fallback(args);
    const inputs = bias ? [x!, filter!, bias] : [x!, filter!];
    const program = {
      variableNames: bias ? ['x', 'w', 'bias'] : ['x', 'w'],
      uniforms: geometryUniforms,
      shaderKey: `hrrrEmbedDirectConv2D_${bias ? 'bias' : 'nobias'}_${activation}`,
      getUserCode: () => forwardShader(Boolean(bias), activation === 'relu'),
    };
    return runProgram(args.backend as unknown as ProgramRunner, program, info.outShape, inputs, geometry(info));
  };
}

/** Conv2DBackpropInput (the gradient with respect to the convolution's input); other shapes go to `fallback`. */
export function directConv2DBackpropInput(fallback: tf.KernelFunc, takes: ShapeFilter): tf.KernelFunc {
  return (args) => {
    const { dy, filter } = args.inputs as Record<string, tf.TensorInfo>;
    const attrs = args.attrs as unknown as ConvAttrs;
    const info = convInfo(attrs.inputShape!, filter!.shape, { ...attrs, dilations: 1 });
    if (info.dataFormat !== 'channelsLast' || !takes(info)) return fallback(args);
    const program = { variableNames: ['dy', 'w'], uniforms: geometryUniforms, shaderKey: 'hrrrEmbedDirectConv2DBackpropInput', getUserCode: () => INPUT_GRADIENT_SHADER };
    return runProgram(args.backend as unknown as ProgramRunner, program, info.inShape, [dy!, filter!], geometry(info));
  };
}

/** Output [b, r, c, d2]: the sum over taps (wR, wC) and input channels d1 of x(b, r*s + wR*dil - pad, ..., d1) * w(wR, wC, d1, d2). */
function forwardShader(bias: boolean, relu: boolean): string {
  return `
  fn main(index : i32) {
    if (index >= uniforms.size) {
      return;
    }
    let out = getCoordsFromIndex(index);
    let b = out[0];
    let d2 = out[3];
    let inChannels = uniforms.xShape[3];
    var sum = 0.0;
    for (var wR = 0; wR < uniforms.filterSize[0]; wR = wR + 1) {
      let xR = out[1] * uniforms.strides[0] + wR * uniforms.dilations[0] - uniforms.pads[0];
      if (xR < 0 || xR >= uniforms.xShape[1]) {
        continue;
      }
      for (var wC = 0; wC < uniforms.filterSize[1]; wC = wC + 1) {
        let xC = out[2] * uniforms.strides[1] + wC * uniforms.dilations[1] - uniforms.pads[1];
        if (xC < 0 || xC >= uniforms.xShape[2]) {
          continue;
        }
        for (var d1 = 0; d1 < inChannels; d1 = d1 + 1) {
          sum = sum + getX(b, xR, xC, d1) * getW(wR, wC, d1, d2);
        }
      }
    }
    ${bias ? 'sum = sum + getBias(d2);' : ''}
    ${relu ? 'sum = max(sum, 0.0);' : ''}
    setOutputAtIndex(index, sum);
  }
`;
}

/**
 * Output [b, xR, xC, d1]: the sum over taps (wR, wC) and output channels d2 of dy(b, yR, yC, d2) *
 * w(wR, wC, d1, d2), for the output points (yR, yC) whose window read (xR, xC) through that tap.
 */
const INPUT_GRADIENT_SHADER = `
  fn main(index : i32) {
    if (index >= uniforms.size) {
      return;
    }
    let at = getCoordsFromIndex(index);
    let b = at[0];
    let d1 = at[3];
    let outChannels = uniforms.dyShape[3];
    var sum = 0.0;
    for (var wR = 0; wR < uniforms.filterSize[0]; wR = wR + 1) {
      let rowOffset = at[1] + uniforms.pads[0] - wR;
      let yR = rowOffset / uniforms.strides[0];
      if (rowOffset < 0 || yR * uniforms.strides[0] != rowOffset || yR >= uniforms.dyShape[1]) {
        continue;
      }
      for (var wC = 0; wC < uniforms.filterSize[1]; wC = wC + 1) {
        let columnOffset = at[2] + uniforms.pads[1] - wC;
        let yC = columnOffset / uniforms.strides[1];
        if (columnOffset < 0 || yC * uniforms.strides[1] != columnOffset || yC >= uniforms.dyShape[2]) {
          continue;
        }
        for (var d2 = 0; d2 < outChannels; d2 = d2 + 1) {
          sum = sum + getDy(b, yR, yC, d2) * getW(wR, wC, d1, d2);
        }
      }
    }
    setOutputAtIndex(index, sum);
  }
`;
