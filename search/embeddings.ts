/**
 * The embeddings topic read back whole, for search: every record up to now, the latest one kept
 * for each field, valid time and model version (a record published twice, or again after a
 * restart, is the same embedding).
 */
import { randomUUID } from 'node:crypto';
import type { AvroCodec } from '../bus/avro/codec.js';
import { SkippingDecoder } from '../bus/avro/skipping-decoder.js';
import { requireTopic, type TopicBus } from '../bus/bus.js';
import type { Embedding } from '../bus/records.js';
import type { StageLogger } from '../stages/stage.js';

export interface ReadOptions {
  /**
   * The topic is read to its end when no record has come for this long after the last one was
   * decoded: a bus has no "end" to wait for, only records so far. The first record may take longer on Kafka, where the reader
   * joins a consumer group first: `firstRecordMs` is how long an empty topic is waited on.
   */
  quietMs: number;
  firstRecordMs: number;
  signal?: AbortSignal;
  /** Warns of each record that is not Avro of a known schema (skipped), and of their count at the end. */
  log: StageLogger;
}

/** How long to wait on each bus before taking the topic as read: files answer at once, Kafka joins a group first. */
export const fileBusQuiet: Pick<ReadOptions, 'quietMs' | 'firstRecordMs'> = { quietMs: 300, firstRecordMs: 1_000 };
export const kafkaQuiet: Pick<ReadOptions, 'quietMs' | 'firstRecordMs'> = { quietMs: 2_000, firstRecordMs: 15_000 };

/** Which model made an embedding: its line (where its versions live) and the version. */
export function modelOf({ modelId, modelVersion }: Pick<Embedding, 'modelId' | 'modelVersion'>): string {
  return `${modelId} ${modelVersion}`;
}

/**
 * Every embedding on the topic, the latest per (field, valid time, model), in the order of those
 * latest publications (so the last of an hour's is the one published last); a record that is not Avro of a known schema is skipped, with a warning. Reads
 * as a throwaway consumer group that commits nothing, as `tail` does.
 */
export async function readEmbeddings(bus: TopicBus, codec: AvroCodec, { quietMs, firstRecordMs, signal, log }: ReadOptions): Promise<Embedding[]> {
  const topic = codec.topics.embeddings;
  await requireTopic(bus, topic);
  const consumer = bus.consumer({ group: `hrrr-embed-search-${randomUUID()}`, topics: [topic], fromBeginning: true });
  const latest = new Map<string, Embedding>();
  const decoder = new SkippingDecoder(codec, log);
  const quiet = new AbortController();
  let timer = setTimeout(() => quiet.abort(), firstRecordMs);
  try {
    for await (const record of consumer.records(signal ? AbortSignal.any([signal, quiet.signal]) : quiet.signal)) {
      clearTimeout(timer);
      const decoded = await decoder.decode(record);
      // Quiet from here: only the wait on the bus counts, not a slow decode (a schema registry's first lookup).
      timer = setTimeout(() => quiet.abort(), quietMs);
      if (!decoded) continue;
      const value = decoded.value as Embedding;
      const key = `${value.field}\u0000${value.validTime.getTime()}\u0000${modelOf(value)}`;
      // Deleted first, so that the record takes its place as the latest published.
      latest.delete(key);
      latest.set(key, value);
    }
  } finally {
    decoder.logSkipped(topic);
    clearTimeout(timer);
    await consumer.close();
  }
  return [...latest.values()];
}
