import { RecordTooLargeError, type OutgoingRecord } from '../bus/bus.js';
import type { AvroCodec } from '../bus/avro/codec.js';
import type { SourceObject } from '../bus/records.js';
import type { Autoencoder } from '../model/autoencoder.js';
import type { BatchEncoder } from '../model/embed.js';
import { alertPicture, reconstruct } from '../model/picture.js';
import { createPublishStage, type EncodedField } from '../stages/sinks/publish.js';
import { createShardStage } from '../stages/sinks/shard.js';
import type { ShardWriter } from '../shards/writer.js';
import { attributed, StageError, type StageContext } from '../stages/stage.js';
import { createEncodeStage, type EncodeBatching } from '../stages/transforms/encode.js';
import { createNormalizeStage } from '../stages/transforms/normalize.js';
import type { DecodedField, EmbeddedField, NormalizedField } from '../stages/types.js';
import type { ObjectStore } from '../store/object-store.js';
import { uninstrumented, type StageInstrument } from './ingest.js';
import { ModelSlot } from './model-slot.js';

export type Produce = (topic: string, records: OutgoingRecord[]) => Promise<unknown>;

export interface EmbeddingModel {
  autoencoder: Autoencoder;
  /** The model line: where its versions live. */
  id: string;
  alertThreshold: number | null;
  backend: string;
  /** Where its batches are encoded, e.g. a worker thread (model/encoder-thread.ts); default this thread. */
  encodeBatch?: BatchEncoder;
}

export interface AnalysisEmbedderConfig {
  codec: AvroCodec;
  /** One model, or the slot of a consumer that swaps in newly promoted versions. */
  model: EmbeddingModel | ModelSlot;
  /** Where alert pictures go (alerts/...). */
  pictures: ObjectStore;
  /** Wraps each stage, e.g. to time it; default none. */
  instrument?: StageInstrument;
  /** Fields of the analyses in flight encoded together; default each field alone. */
  batching?: EncodeBatching;
  /** Where the normalized fields are kept for retraining, once published; default nowhere. */
  shards?: ShardWriter;
  /** Called for each alert published (hrrr_embed_alerts_total). */
  onAlert?: () => void;
}

/**
 * The part both consumers share: decoded fields -> normalize -> encode -> publish (embedding,
 * and alert past the threshold), and the dead-letter record of a rejected input. Records go
 * through the `produce` given, so the caller decides whether it is the bus or a transaction.
 */
export function createAnalysisEmbedder({ codec, model, pictures, instrument = uninstrumented, batching, shards, onAlert }: AnalysisEmbedderConfig) {
  const slot = model instanceof ModelSlot ? model : new ModelSlot(model);
  // Every version the slot serves has the first one's input shape and normalization.
  const { id, backend, autoencoder: first } = slot.current;
  const normalize = instrument(createNormalizeStage({ model: first.config, normalization: first.normalization }));
  const shard = shards && instrument(createShardStage(shards));
  const encode = instrument(createEncodeStage({ model: () => slot.current, backend, ...(batching && { batching }) }));
  const versionOf = ({ embedded }: EncodedField) => {
    const served = slot.version(embedded.model.version);
    if (!served) throw new Error(`model version ${embedded.model.version} encoded this field but is no longer loaded`);
    return served;
  };
  const publishConfig = {
    codec,
    model: { id, config: first.config, normalization: first.normalization },
    alertThreshold: (encoded: EncodedField) => versionOf(encoded).alertThreshold,
    pictures,
    drawAlert: async (encoded: EncodedField) => alertPicture(encoded.normalized, await reconstruct(versionOf(encoded).autoencoder, encoded.normalized)),
  };
  async function normalizeAndEncode(decoded: DecodedField, context: StageContext): Promise<Array<{ normalized: NormalizedField; embedded: EmbeddedField }>> {
    const pairs = [];
    for await (const normalized of attributed(normalize, decoded, context)) {
      for await (const embedded of attributed(encode, normalized, context)) pairs.push({ normalized, embedded });
    }
    return pairs;
  }

  return {
    /** The grid the model takes: the decode stage refuses a field on another before unpacking it. */
    grid: { nx: first.config.inputWidth, ny: first.config.inputHeight },

    /** Publishes every field; a StageError from normalize or encode is the input's fault, any other error is not. */
    async publish(fields: DecodedField[], produce: Produce, context: StageContext): Promise<void> {
      const publish = instrument(createPublishStage({ ...publishConfig, produce }));
      // The versions that encode these fields stay loaded until they are published or have failed.
      const release = slot.hold();
      try {
        // All the fields at once, so that they can share the encoder's batches; published in order.
        // Each one's encoding is over before any failure ends the hold: its batch uses the weights.
        const encoding = await Promise.allSettled(fields.map((decoded) => normalizeAndEncode(decoded, context)));
        const encoded = [];
        for (const outcome of encoding) {
          if (outcome.status === 'rejected') throw outcome.reason;
          encoded.push(...outcome.value);
        }
        for (const pair of encoded) {
          // Not attributed: a failing bus or store is no fault of the input, and must not make a dead
          // letter; a record the topic will never take is.
          try {
            for await (const topic of publish.process(pair, context)) if (topic === codec.topics.alerts) onAlert?.();
          } catch (error) {
            throw error instanceof RecordTooLargeError ? new StageError('publish', error) : error;
          }
          if (shard) for await (const _kept of shard.process(pair.normalized, context));
        }
      } finally {
        await release();
      }
    },

    /** Sends the dead letter of an input that a stage rejected; `event`, the Kafka event that named it, if one did. */
    async deadLetter(key: string, source: SourceObject | null, error: StageError, produce: Produce, event: Uint8Array | null = null): Promise<void> {
      const cause = error.cause instanceof Error ? error.cause : undefined;
      const kept = event && event.byteLength <= deadLetterEventBytes ? new TextDecoder().decode(event) : null;
      const { topic, record } = await codec.encode('deadLetters', key, { failedAt: new Date(), stage: error.stage, errorClass: cause?.name ?? 'Error', message: boundedMessage(error.message), source, event: kept });
      await produce(topic, [record]);
    },
  };
}

/**
 * The most of an error's message a dead letter keeps. An error may quote its input whole (an
 * event's key), and Kafka refuses a record over the topic's max.message.bytes (1 MB by default):
 * the input's dead letter could never be written, and the stream would stop on that input for good.
 */
const deadLetterMessageChars = 4096;

/** The largest event a dead letter keeps whole (schemas/dead-letters.value.avsc says so); a larger one is left out, for the same reason. */
const deadLetterEventBytes = 64 * 1024;

function boundedMessage(message: string): string {
  if (message.length <= deadLetterMessageChars) return message;
  // Not between the two halves of a surrogate pair.
  const end = /[\ud800-\udbff]/.test(message[deadLetterMessageChars - 1]!) ? deadLetterMessageChars - 1 : deadLetterMessageChars;
  return `${message.slice(0, end)}… (${message.length - end} more characters)`;
}
