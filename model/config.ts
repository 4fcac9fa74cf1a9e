/**
 * The autoencoder's hyperparameters and the normalization it was trained with, with the seed
 * article's values as defaults, and the checks that name the bad key when a configuration is wrong.
 */

/** The article's architecture, generalised: the HRRR grid, its crop, and the four tuned numbers. */
export interface ModelConfig {
  /** Rows and columns of the input field (HRRR: 1059 x 1799). */
  inputHeight: number;
  inputWidth: number;
  /** Rows cut from the first and last image row, columns from the first and last column: ((17, 18), (4, 3)). */
  cropping: [[number, number], [number, number]];
  /**
   * The cropped field is averaged over blocks of downsample x downsample points before the encoder
   * (and the reconstruction upsampled back): 1 is the article's full resolution; 4 turns
   * 1024 x 1792 into 256 x 448, for a machine without a GPU (REDUCED_MODEL_CONFIG).
   */
  downsample: number;
  /** Conv2D + MaxPooling2D blocks in the encoder (and Conv2D + UpSampling2D in the decoder). */
  nlayers: number;
  /** Kernel size of every Conv2D but the last, and the pooling / upsampling factor. */
  poolsize: number;
  /** Encoder block i has 2^(i + numfilters) filters. */
  numfilters: number;
  /** Length of the embedding: units of the refc_embedding Dense layer. */
  numdense: number;
  /** Seed of the weight initializers, so a fresh model is the same everywhere. */
  seed: number;
}

/** How decoded values become model input; recorded with a model so inference normalizes as training did. */
export interface NormalizationConfig {
  /** What a missing value (NaN) becomes, before clipping. */
  missingValue: number;
  /** Values are clipped to [clipMin, clipMax] (dBZ for REFC)... */
  clipMin: number;
  clipMax: number;
  /** ...then divided by this. */
  scale: number;
}

export interface TrainingConfig {
  /** Adam's learning rate (Keras's default). */
  learningRate: number;
}

export const SEED_MODEL_CONFIG: Readonly<ModelConfig> = Object.freeze<ModelConfig>({
  inputHeight: 1059,
  inputWidth: 1799,
  cropping: [
    [17, 18],
    [4, 3],
  ],
  downsample: 1,
  nlayers: 4,
  poolsize: 4,
  numfilters: 4,
  numdense: 50,
  seed: 42,
});

/**
 * The seed's model on fields downsampled 4 times (256 x 448), for the demo and any machine
 * without a GPU. 448 = 7 x 64 does not divide by the seed's poolsize^nlayers = 256, so it has one
 * block fewer (nlayers 3, 16 to 64 filters): its bottleneck is 4 x 7 x 64, the seed's 4 x 7 x 128.
 */
export const REDUCED_MODEL_CONFIG: Readonly<ModelConfig> = Object.freeze<ModelConfig>({ ...SEED_MODEL_CONFIG, downsample: 4, nlayers: 3 });

/**
 * The demo's configuration (npm start): fields downsampled 16 times to 64 x 112, two blocks, so
 * that a training step of 4 fields takes seconds on a 2-core CPU (the reduced one takes minutes).
 */
const DEMO_MODEL_CONFIG: Readonly<ModelConfig> = Object.freeze<ModelConfig>({ ...SEED_MODEL_CONFIG, downsample: 16, nlayers: 2 });

/** The configurations a command can name: `--preset seed`, `reduced` or `demo`. */
export const MODEL_PRESETS: Readonly<Record<'seed' | 'reduced' | 'demo', Readonly<ModelConfig>>> = Object.freeze({ seed: SEED_MODEL_CONFIG, reduced: REDUCED_MODEL_CONFIG, demo: DEMO_MODEL_CONFIG });

export const SEED_NORMALIZATION: Readonly<NormalizationConfig> = Object.freeze({ missingValue: 0, clipMin: 0, clipMax: 60, scale: 60 });

const DEFAULT_TRAINING: Readonly<TrainingConfig> = Object.freeze({ learningRate: 0.001 });

/** A configuration that cannot be: `key` names the offending setting. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`${key}: ${message}`);
  }
}

/** The seed's configuration with the given settings over it, checked; unknown keys are refused. */
export function modelConfig(overrides: unknown = {}): ModelConfig {
  const given = record(overrides, 'model config');
  refuseUnknownKeys(given, SEED_MODEL_CONFIG, '');
  const config: ModelConfig = {
    ...SEED_MODEL_CONFIG,
    ...given,
    cropping: (given.cropping ?? SEED_MODEL_CONFIG.cropping) as ModelConfig['cropping'],
  };
  for (const key of ['inputHeight', 'inputWidth', 'downsample', 'nlayers', 'poolsize', 'numfilters', 'numdense'] as const) {
    positiveInteger(config[key], key);
  }
  integer(config.seed, 'seed', 0);
  checkCropping(config.cropping);
  checkShapes(config);
  return config;
}

export function normalizationConfig(overrides: unknown = {}): NormalizationConfig {
  const given = record(overrides, 'normalization');
  refuseUnknownKeys(given, SEED_NORMALIZATION, 'normalization.');
  const config = { ...SEED_NORMALIZATION, ...given } as NormalizationConfig;
  for (const key of ['missingValue', 'clipMin', 'clipMax', 'scale'] as const) {
    if (typeof config[key] !== 'number' || !Number.isFinite(config[key])) throw new ConfigError(`normalization.${key}`, `must be a finite number, not ${JSON.stringify(config[key])}`);
  }
  if (config.clipMin >= config.clipMax) throw new ConfigError('normalization.clipMin', `must be below clipMax (${config.clipMax}), not ${config.clipMin}`);
  if (config.scale === 0) throw new ConfigError('normalization.scale', 'must not be 0');
  return config;
}

export function trainingConfig(overrides: unknown = {}): TrainingConfig {
  const given = record(overrides, 'training');
  refuseUnknownKeys(given, DEFAULT_TRAINING, 'training.');
  const config = { ...DEFAULT_TRAINING, ...given } as TrainingConfig;
  if (typeof config.learningRate !== 'number' || !(config.learningRate > 0)) {
    throw new ConfigError('training.learningRate', `must be a number above 0, not ${JSON.stringify(config.learningRate)}`);
  }
  return config;
}

/** Rows and columns of the grid the crop keeps (HRRR: 1024 x 1792). */
export function cropWindow(config: Pick<ModelConfig, 'inputHeight' | 'inputWidth' | 'cropping'>): [number, number] {
  const [[top, bottom], [left, right]] = config.cropping;
  return [config.inputHeight - top - bottom, config.inputWidth - left - right];
}

/** Rows and columns the model sees: the crop window, downsampled. */
export function croppedShape(config: ModelConfig): [number, number] {
  const [height, width] = cropWindow(config);
  return [height / config.downsample, width / config.downsample];
}

function checkCropping(cropping: unknown): void {
  const ok = Array.isArray(cropping) && cropping.length === 2 && cropping.every((pair) => Array.isArray(pair) && pair.length === 2 && pair.every((n) => Number.isInteger(n) && n >= 0));
  if (!ok) throw new ConfigError('cropping', `must be [[top, bottom], [left, right]] of integers >= 0, not ${JSON.stringify(cropping)}`);
}

/** The decoder upsamples back by poolsize^nlayers: the cropped field must divide evenly, or the output would not match it. */
function checkShapes(config: ModelConfig): void {
  const [windowHeight, windowWidth] = cropWindow(config);
  if (windowHeight <= 0 || windowWidth <= 0) throw new ConfigError('cropping', `leaves ${windowHeight} x ${windowWidth} of a ${config.inputHeight} x ${config.inputWidth} input`);
  if (windowHeight % config.downsample !== 0 || windowWidth % config.downsample !== 0) {
    throw new ConfigError('downsample', `the cropped ${windowHeight} x ${windowWidth} must divide by ${config.downsample}, so that every block is whole`);
  }
  const [height, width] = croppedShape(config);
  const factor = config.poolsize ** config.nlayers;
  if (height % factor !== 0 || width % factor !== 0) {
    throw new ConfigError('cropping', `the cropped${config.downsample > 1 ? ` and downsampled` : ''} ${height} x ${width} must divide by poolsize^nlayers = ${factor}, so the decoder gives back the same shape`);
  }
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(what, `must be an object, not ${JSON.stringify(value)}`);
  return value as Record<string, unknown>;
}

function refuseUnknownKeys(given: Record<string, unknown>, known: object, prefix: string): void {
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(known, key)) throw new ConfigError(`${prefix}${key}`, `unknown setting (known: ${Object.keys(known).join(', ')})`);
  }
}

function positiveInteger(value: unknown, key: string): void {
  integer(value, key, 1);
}

function integer(value: unknown, key: string, min: number): void {
  if (!Number.isInteger(value) || (value as number) < min) throw new ConfigError(key, `must be an integer >= ${min}, not ${JSON.stringify(value)}`);
}
