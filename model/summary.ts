import type * as tfl from '@tensorflow/tfjs-layers';

export interface LayerSummary {
  name: string;
  type: string;
  /** Output shape without the batch dimension. */
  outputShape: number[];
  params: number;
}

/** Layers in order with their output shapes and parameter counts, as Keras's model.summary() lists them. */
export function summarizeLayers(model: tfl.LayersModel): LayerSummary[] {
  return model.layers.map((layer) => ({
    name: layer.name,
    type: layer.getClassName(),
    outputShape: (layer.outputShape as number[]).slice(1),
    params: layer.countParams(),
  }));
}
