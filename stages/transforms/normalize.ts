import { croppedShape, type ModelConfig, type NormalizationConfig } from '../../model/config.js';
import type { Stage } from '../stage.js';
import type { DecodedField, NormalizedField } from '../types.js';

export interface NormalizeConfig {
  /** The model's input size and crop. */
  model: ModelConfig;
  /** The model's normalization: the one it was trained with. */
  normalization: NormalizationConfig;
}

/** DecodedField -> NormalizedField: missing -> missingValue, clip, scale, crop, downsample; rows from the south. */
export function createNormalizeStage({ model, normalization }: NormalizeConfig): Stage<DecodedField, NormalizedField> {
  return {
    name: 'normalize',
    async *process({ source, field, values }) {
      const { nx, ny, template } = field.grid;
      const { scanning } = template;
      if (scanning.iScansNegatively || scanning.jPointsAreConsecutive) {
        throw new Error(`scanning mode ${template.scanningMode} (rows east to west or along columns) is not supported`);
      }
      if (nx !== model.inputWidth || ny !== model.inputHeight) {
        throw new Error(`the model takes ${model.inputWidth} x ${model.inputHeight} grids, this field is ${nx} x ${ny}`);
      }
      const [height, width] = croppedShape(model);
      yield { source, field, height, width, values: normalizeAndCrop(values, { nx, ny, southFirst: scanning.jScansPositively }, normalization, model.cropping, model.downsample) };
    },
  };
}

/**
 * The model's input from values in GRIB2 order. Image row 0 is the southernmost grid row (the
 * first stored one when southFirst, as in HRRR's scanning mode 64; the last stored otherwise),
 * so the crop's first row count comes off the southern edge. With `downsample` d > 1, each d x d
 * block of the crop becomes its mean (of the normalized values), as the model's `downsampled`
 * layer averages: the crop must divide by d.
 */
export function normalizeAndCrop(
  values: Float32Array,
  grid: { nx: number; ny: number; southFirst: boolean },
  { missingValue, clipMin, clipMax, scale }: NormalizationConfig,
  [[top, bottom], [left, right]]: ModelConfig['cropping'],
  downsample = 1,
): Float32Array {
  const { nx, ny, southFirst } = grid;
  if (values.length !== nx * ny) throw new Error(`${values.length} values for a ${nx} x ${ny} grid`);
  const height = ny - top - bottom;
  const width = nx - left - right;
  if (height % downsample !== 0 || width % downsample !== 0) throw new Error(`the cropped ${height} x ${width} does not divide by downsample ${downsample}`);
  const columns = width / downsample;
  const out = new Float32Array((height / downsample) * columns);
  const share = 1 / (downsample * downsample);
  for (let row = 0; row < height; row++) {
    const imageRow = top + row;
    const from = (southFirst ? imageRow : ny - 1 - imageRow) * nx + left;
    const to = Math.floor(row / downsample) * columns;
    // The CPU side's hottest loop (1.8 million values a field): comparisons rather than Math.min,
    // Math.max and isNaN, and the downsample test outside, take it from about 7 to 4.5 ms.
    if (downsample === 1) {
      for (let column = 0; column < width; column++) {
        const value = values[from + column]!;
        const filled = value !== value ? missingValue : value;
        out[to + column] = (filled <= clipMin ? clipMin : filled >= clipMax ? clipMax : filled) / scale;
      }
      continue;
    }
    for (let column = 0; column < width; column++) {
      const value = values[from + column]!;
      const filled = value !== value ? missingValue : value;
      out[to + Math.floor(column / downsample)]! += ((filled <= clipMin ? clipMin : filled >= clipMax ? clipMax : filled) / scale) * share;
    }
  }
  return out;
}
