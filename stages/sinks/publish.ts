import type { OutgoingRecord } from '../../bus/bus.js';
import type { AvroCodec } from '../../bus/avro/codec.js';
import type { Alert, Embedding, SourceObject } from '../../bus/records.js';
import { cropWindow, type ModelConfig, type NormalizationConfig } from '../../model/config.js';
import type { ObjectStore } from '../../store/object-store.js';
import { formatHour } from '../sources/hrrr-archive.js';
import type { Stage } from '../stage.js';
import type { EmbeddedField, NormalizedField, ObjectRef } from '../types.js';

/** What the publish stage takes: a field's embedding and the model input it was made from. */
export interface EncodedField {
  normalized: NormalizedField;
  embedded: EmbeddedField;
}

export interface PublishConfig {
  /** Sends records to a topic: the bus's produce, or a transaction's. Resolves once they are kept. */
  produce: (topic: string, records: OutgoingRecord[]) => Promise<unknown>;
  codec: AvroCodec;
  /** The model line (where its versions live), and how it normalized and cropped its input. */
  model: { id: string; config: ModelConfig; normalization: NormalizationConfig };
  /** Reconstruction error above which a field raises an alert: that of the version that encoded it; null for none. */
  alertThreshold: (field: EncodedField) => number | null;
  /** Where alert pictures go, and how to draw one. */
  pictures: ObjectStore;
  drawAlert: (field: EncodedField) => Promise<Uint8Array>;
}

/**
 * EncodedField -> the topics its records went to: the embedding and, when the reconstruction
 * error exceeds the threshold, an alert whose picture (original, reconstruction, difference) is
 * stored first. Each record is sent before the stage goes on, so progress recorded after it
 * never runs ahead of what was published.
 */
export function createPublishStage(config: PublishConfig): Stage<EncodedField, string> {
  const { produce, codec, model, alertThreshold, pictures, drawAlert } = config;
  return {
    name: 'publish',
    async *process(encoded, { log }) {
      const { embedded } = encoded;
      const field = fieldName(embedded);
      const validTime = embedded.field.product.validTime;
      const key = { field, validTime };
      const [rows, columns] = cropWindow(model.config);
      const [[south, north], [west]] = model.config.cropping;
      const value: Embedding = {
        validTime,
        referenceTime: embedded.field.identification.referenceTime,
        source: messageSource(embedded),
        field,
        modelId: model.id,
        modelVersion: embedded.model.version,
        embedding: Array.from(embedded.embedding),
        reconstructionError: embedded.reconstructionError,
        normalization: { missingAs: model.normalization.missingValue, clipMin: model.normalization.clipMin, clipMax: model.normalization.clipMax, divisor: model.normalization.scale },
        // The crop's first rows come off the south (normalize.ts); the record counts rows as they are stored.
        crop: { firstRow: embedded.field.grid.template.scanning.jScansPositively ? south : north, rows, firstColumn: west, columns, downsample: model.config.downsample },
      };
      // The record's timestamp is when it was published, not the valid time (in key and value):
      // the broker's retention goes by timestamps, and would delete a backfilled 2019 record at once.
      const embedding = await codec.encode('embeddings', key, value);
      await produce(embedding.topic, [embedding.record]);
      yield embedding.topic;

      const threshold = alertThreshold(encoded);
      if (threshold === null || !(embedded.reconstructionError > threshold)) return;
      const picture = { store: pictures.url, key: pictureKey(field, validTime, embedded.model.version) };
      await pictures.put(picture.key, await drawAlert(encoded), { contentType: 'image/png' });
      const alert: Alert = { validTime, field, reconstructionError: embedded.reconstructionError, threshold, modelId: model.id, modelVersion: embedded.model.version, picture };
      log.warn({ field, validTime: validTime.toISOString(), reconstructionError: embedded.reconstructionError, threshold, picture: `${picture.store}/${picture.key}` }, 'field unlike what the model knows: alert');
      const record = await codec.encode('alerts', key, alert);
      await produce(record.topic, [record.record]);
      yield record.topic;
    },
  };
}

/**
 * Where the alert picture of a field (as fieldName names it) goes: alerts/REFC/entire-atmosphere/anl/2022-10-14T01Z-VERSION.png.
 * Level and forecast are in it, so that fields of one parameter and hour (TMP at 2 m and at 500 mb)
 * do not overwrite each other's picture.
 */
export function pictureKey(field: string, validTime: Date, version: string): string {
  const segment = (text: string) => text.replace(/[^A-Za-z0-9.]+/g, '-').replace(/^-|-$/g, '') || '-';
  return `alerts/${field.split(':').map(segment).join('/')}/${formatHour(validTime)}-${version}.png`;
}

/** "REFC:entire atmosphere:anl": the field as an .idx line names it. */
export function fieldName({ field }: Pick<EmbeddedField, 'field'>): string {
  return `${field.parameter.shortName}:${field.product.level}:${field.product.forecast}`;
}

/**
 * The object and byte range of the field's own GRIB2 message, as the schema promises: the fetch may
 * have read it in one piece with adjacent messages, or in the whole object.
 */
function messageSource({ source, field }: Pick<EmbeddedField, 'source' | 'field'>): SourceObject {
  const byteStart = (source.range?.start ?? 0) + field.message.offset;
  return { store: source.store, key: source.key, byteStart, byteEnd: byteStart + field.message.length - 1 };
}

export function sourceObject({ store, key, range }: ObjectRef): SourceObject {
  return { store, key, byteStart: range?.start ?? null, byteEnd: range?.end ?? null };
}
