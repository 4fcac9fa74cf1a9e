/**
 * The seed article's autoencoder, layer by layer under the article's layer names, so this file
 * reads beside its Keras code: refc_input, cropped, encoder_conv_i / encoder_pool_i,
 * encoder_flatten, refc_embedding, decoder_dense, decoder_reshape, decoder_conv_i /
 * decoder_upsamp_i, before_padding, refc_reconstructed. Ours alone, and only when the
 * configuration downsamples: `downsampled` after the crop and `upsampled` before the padding.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { croppedShape, type ModelConfig } from './config.js';

/** What tfl.initializers.* return (tfjs-layers does not export the class's name). */
type Initializer = ReturnType<typeof tfl.initializers.glorotUniform>;

/** The article's model, from the full 1059 x 1799 field to its zero-padded reconstruction. */
export function buildAutoencoder(config: ModelConfig): tfl.LayersModel {
  const initializer = seededInitializers(config.seed);
  const input = tfl.input({ shape: [config.inputHeight, config.inputWidth, 1], name: 'refc_input' });
  let x = tfl.layers.cropping2D({ cropping: config.cropping, name: 'cropped' }).apply(input) as tfl.SymbolicTensor;
  if (config.downsample > 1) x = tfl.layers.averagePooling2d({ poolSize: config.downsample, name: 'downsampled' }).apply(x) as tfl.SymbolicTensor;
  for (let layerno = 0; layerno < config.nlayers; layerno++) {
    x = conv(2 ** (layerno + config.numfilters), config.poolsize, `encoder_conv_${layerno}`, initializer()).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.maxPooling2d({ poolSize: config.poolsize, padding: 'same', name: `encoder_pool_${layerno}` }).apply(x) as tfl.SymbolicTensor;
  }
  const outputShape = x.shape.slice(1) as number[];
  x = tfl.layers.flatten({ name: 'encoder_flatten' }).apply(x) as tfl.SymbolicTensor;
  x = dense(config.numdense, 'refc_embedding', initializer()).apply(x) as tfl.SymbolicTensor;
  x = dense(outputShape.reduce((a, b) => a * b, 1), 'decoder_dense', initializer()).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.reshape({ targetShape: outputShape, name: 'decoder_reshape' }).apply(x) as tfl.SymbolicTensor;
  for (let layerno = 0; layerno < config.nlayers; layerno++) {
    x = conv(2 ** (config.nlayers - layerno - 1 + config.numfilters), config.poolsize, `decoder_conv_${layerno}`, initializer()).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.upSampling2d({ size: [config.poolsize, config.poolsize], name: `decoder_upsamp_${layerno}` }).apply(x) as tfl.SymbolicTensor;
  }
  x = conv(1, 3, 'before_padding', initializer()).apply(x) as tfl.SymbolicTensor;
  if (config.downsample > 1) x = tfl.layers.upSampling2d({ size: [config.downsample, config.downsample], name: 'upsampled' }).apply(x) as tfl.SymbolicTensor;
  // The article pads by htdiff//2 and wddiff//2: ((17, 18), (3, 4)) against its crop's ((17, 18), (4, 3)),
  // a column's shift its loss over the whole field trained in. Ours is trained on the crop, so its
  // reconstruction goes back where the crop took the input from.
  const decoded = tfl.layers.zeroPadding2d({ padding: config.cropping, name: 'refc_reconstructed' }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: decoded, name: 'autoencoder' });
}

/**
 * The models that share the autoencoder's layers (and so its weights), taken from it by name,
 * so they can be built from a fresh autoencoder or a loaded one alike.
 */
export interface SharedModels {
  /** Cropped (and downsampled) field, the normalize stage's output -> embedding. */
  encoder: tfl.LayersModel;
  /** Embedding -> the full-size reconstruction, as the autoencoder outputs it (upsampled back when the input was downsampled). */
  decoder: tfl.LayersModel;
  /** Cropped field -> [embedding, reconstruction of the cropped field]: both in one pass, for the encode stage. */
  embedder: tfl.LayersModel;
  /** Cropped field -> reconstruction of the cropped field: what training fits. */
  croppedAutoencoder: tfl.LayersModel;
}

export function shareLayers(autoencoder: tfl.LayersModel, config: ModelConfig): SharedModels {
  const layer = (name: string) => autoencoder.getLayer(name);
  const encoderLayers = [
    ...range(config.nlayers).flatMap((i) => [layer(`encoder_conv_${i}`), layer(`encoder_pool_${i}`)]),
    layer('encoder_flatten'),
    layer('refc_embedding'),
  ];
  const decoderLayers = [
    layer('decoder_dense'),
    layer('decoder_reshape'),
    ...range(config.nlayers).flatMap((i) => [layer(`decoder_conv_${i}`), layer(`decoder_upsamp_${i}`)]),
    layer('before_padding'),
  ];
  const through = (layers: tfl.layers.Layer[], x: tfl.SymbolicTensor) => layers.reduce((y, l) => l.apply(y) as tfl.SymbolicTensor, x);

  const [height, width] = croppedShape(config);
  const cropped = tfl.input({ shape: [height, width, 1], name: 'refc_cropped' });
  const embedding = through(encoderLayers, cropped);
  const reconstructedCrop = through(decoderLayers, embedding);

  const code = tfl.input({ shape: [config.numdense], name: 'refc_code' });
  const toFullSize = [...(config.downsample > 1 ? [layer('upsampled')] : []), layer('refc_reconstructed')];
  const decoded = through(toFullSize, through(decoderLayers, code));

  return {
    encoder: tfl.model({ inputs: cropped, outputs: embedding, name: 'encoder' }),
    decoder: tfl.model({ inputs: code, outputs: decoded, name: 'decoder' }),
    embedder: tfl.model({ inputs: cropped, outputs: [embedding, reconstructedCrop], name: 'embedder' }),
    croppedAutoencoder: tfl.model({ inputs: cropped, outputs: reconstructedCrop, name: 'cropped_autoencoder' }),
  };
}

function conv(filters: number, kernelSize: number, name: string, kernelInitializer: Initializer) {
  return tfl.layers.conv2d({ filters, kernelSize, activation: 'relu', padding: 'same', name, kernelInitializer });
}

function dense(units: number, name: string, kernelInitializer: Initializer) {
  return tfl.layers.dense({ units, name, kernelInitializer });
}

/** Keras's default (Glorot uniform) initializer, seeded differently for each layer in order. */
function seededInitializers(seed: number): () => Initializer {
  let layer = 0;
  return () => tfl.initializers.glorotUniform({ seed: seed * 1000 + layer++ });
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
