import type { CroppedField } from '../model/embed.js';
import { differencePicture, fieldPicture } from '../model/picture.js';
import type { AnalysisPictures } from './page.js';

/** The report's three pictures of a field (the model's input) and its reconstruction (same shape), each shrunk `shrink` times. */
export function analysisPictures(validTime: Date, { height, width, values }: CroppedField, reconstruction: Float32Array, reconstructionError: number, shrink = 1): AnalysisPictures {
  return {
    validTime,
    original: fieldPicture(values, height, width, shrink),
    reconstruction: fieldPicture(reconstruction, height, width, shrink),
    error: differencePicture(values, reconstruction, height, width, shrink),
    reconstructionError,
  };
}
