import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeValues, readFields } from '../grib2/index.js';
import { SEED_MODEL_CONFIG, SEED_NORMALIZATION } from '../model/config.js';
import { normalizeAndCrop } from '../stages/transforms/normalize.js';
import { UsageError } from './usage.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The shared HRRR REFC analysis (../shared/data). */
export const REAL_REFC_FILE = join(process.env.HRRR_EMBED_SHARED_DATA ?? join(repoRoot, '..', 'shared', 'data'), 'hrrr', 'hrrr.20221014.t01z.wrfsubhf.REFC-VBDSF.grib2');

export interface RealField {
  shortName: string;
  /** As decoded, on the full grid. */
  raw: Float32Array;
  /** Normalized and cropped as the seed model takes it. */
  values: Float32Array;
  height: number;
  width: number;
}

/** The first message of `file` whose short name matches, decoded, normalized and cropped for the seed model. */
export async function realField(file: string, match: RegExp): Promise<RealField> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    const where = file === REAL_REFC_FILE ? ' (the shared HRRR data: set HRRR_EMBED_SHARED_DATA to the folder holding hrrr/)' : '';
    throw new UsageError(`cannot read ${file}${where}: ${(error as Error).message}`);
  }
  const field = readFields(bytes).find((candidate) => match.test(candidate.parameter.shortName));
  if (!field) throw new UsageError(`${file}: no message whose short name matches ${match}`);
  const raw = await decodeValues(field);
  const { nx, ny } = field.grid;
  if (nx !== SEED_MODEL_CONFIG.inputWidth || ny !== SEED_MODEL_CONFIG.inputHeight) throw new UsageError(`${file}: a ${nx} x ${ny} grid, the seed model takes ${SEED_MODEL_CONFIG.inputWidth} x ${SEED_MODEL_CONFIG.inputHeight}`);
  const values = normalizeAndCrop(raw, { nx, ny, southFirst: field.grid.template.scanning.jScansPositively }, SEED_NORMALIZATION, SEED_MODEL_CONFIG.cropping);
  const [[top, bottom], [left, right]] = SEED_MODEL_CONFIG.cropping;
  return { shortName: field.parameter.shortName, raw, values, height: ny - top - bottom, width: nx - left - right };
}
