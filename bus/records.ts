/**
 * The records of the topics as the code sees them: one interface per schema in schemas/
 * (the .avsc files are the contract; these follow them field by field).
 */

/** embeddings and alerts key: which field at which time. */
export interface FieldTimeKey {
  field: string;
  validTime: Date;
}

export interface SourceObject {
  store: string;
  key: string;
  byteStart: number | null;
  byteEnd: number | null;
}

export interface StoredObject {
  store: string;
  key: string;
}

export interface Embedding {
  validTime: Date;
  referenceTime: Date;
  source: SourceObject;
  field: string;
  modelId: string;
  modelVersion: string;
  embedding: number[];
  reconstructionError: number;
  normalization: { missingAs: number; clipMin: number; clipMax: number; divisor: number };
  crop: { firstRow: number; rows: number; firstColumn: number; columns: number; downsample: number };
}

export interface Alert {
  validTime: Date;
  field: string;
  reconstructionError: number;
  threshold: number;
  modelId: string;
  modelVersion: string;
  picture: StoredObject;
}

export interface DeadLetter {
  failedAt: Date;
  stage: string;
  errorClass: string;
  message: string;
  source: SourceObject | null;
  /** With --events: the event that named the input, as text; null when polling or over 64 KiB. */
  event: string | null;
}

export interface ModelVersion {
  modelId: string;
  version: string;
  promotedAt: Date;
  artifact: StoredObject;
  embeddingSize: number;
  alertThreshold: number;
  validationLoss: number | null;
}

/** A request to the trainer (`hrrr-embed trainer`) to retrain now rather than at its next scheduled time. */
export interface RetrainRequest {
  requestedAt: Date;
  /** Who asked and why, for the trainer's log. */
  reason: string;
  /** Promote the candidate even when it is worse than the promoted version. */
  force: boolean;
}

/** Each topic's key and value, by role. */
export interface TopicRecords {
  embeddings: { key: FieldTimeKey; value: Embedding };
  alerts: { key: FieldTimeKey; value: Alert };
  deadLetters: { key: string; value: DeadLetter };
  modelVersions: { key: string; value: ModelVersion };
  retrainRequests: { key: string; value: RetrainRequest };
}
