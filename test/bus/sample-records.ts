import type { Alert, DeadLetter, Embedding, FieldTimeKey, ModelVersion } from '../../bus/records.js';

/** Records as the pipeline will publish them, with every field set, for codec and bus tests. */
export const validTime = new Date('2019-09-20T05:00:00Z');
export const embeddingKey: FieldTimeKey = { field: 'REFC:entire atmosphere:anl', validTime };

export function sampleEmbedding(seed = 1): Embedding {
  return {
    validTime,
    referenceTime: validTime,
    source: { store: 's3://noaa-hrrr-bdp-pds', key: 'hrrr.20190920/conus/hrrr.t05z.wrfsfcf00.grib2', byteStart: 1_234_567, byteEnd: 1_590_000 },
    field: 'REFC:entire atmosphere:anl',
    modelId: 'refc-autoencoder',
    modelVersion: '1',
    // Values that float32 holds exactly, so that the round trip compares equal.
    embedding: Array.from({ length: 50 }, (_, i) => (i - 25) * 0.125 * seed),
    reconstructionError: 0.0123,
    normalization: { missingAs: 0, clipMin: 0, clipMax: 60, divisor: 60 },
    crop: { firstRow: 17, rows: 1024, firstColumn: 4, columns: 1792, downsample: 1 },
  };
}

export const sampleAlert: Alert = {
  validTime,
  field: 'REFC:entire atmosphere:anl',
  reconstructionError: 0.2,
  threshold: 0.05,
  modelId: 'refc-autoencoder',
  modelVersion: '1',
  picture: { store: 'file:///data/alerts', key: 'refc/2019092005.png' },
};

export const sampleDeadLetter: DeadLetter = {
  failedAt: new Date('2019-09-20T05:51:00Z'),
  stage: 'decode',
  errorClass: 'Grib2Error',
  message: 'GRIB2 section 0 at byte 8: message declares 432197 bytes, only 5000 are there',
  source: { store: 's3://noaa-hrrr-bdp-pds', key: 'hrrr.20190920/conus/hrrr.t05z.wrfsfcf00.grib2', byteStart: null, byteEnd: null },
  event: null,
};

export const sampleModelVersion: ModelVersion = {
  modelId: 'refc-autoencoder',
  version: '2',
  promotedAt: new Date('2019-09-21T00:00:00Z'),
  artifact: { store: 'file:///data/models', key: 'refc-autoencoder/2/' },
  embeddingSize: 50,
  alertThreshold: 0.05,
  validationLoss: null,
};
