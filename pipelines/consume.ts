import type { TopicBus } from '../bus/bus.js';
import type { AvroCodec } from '../bus/avro/codec.js';
import { sourceObject } from '../stages/sinks/publish.js';
import type { StageContext } from '../stages/stage.js';
import type { EncodeBatching } from '../stages/transforms/encode.js';
import type { ObjectStore } from '../store/object-store.js';
import { createAnalysisEmbedder, type EmbeddingModel } from './embed-analysis.js';
import type { ModelSlot } from './model-slot.js';
import type { ShardWriter } from '../shards/writer.js';
import type { LeaseKind } from '../store/lease.js';
import { runIngest, type IngestConfig, type IngestEvent, type IngestSummary } from './ingest.js';

export interface ConsumerConfig extends Omit<IngestConfig, 'state' | 'progressKey' | 'failFast'> {
  /** Where progress is kept (progress/run.json) and alert pictures go (alerts/...). */
  state: ObjectStore;
  bus: TopicBus;
  codec: AvroCodec;
  /** Partitions of the topics it creates when they do not exist. Default 1. */
  partitions?: number;
  model: EmbeddingModel | ModelSlot;
  /** Fields of the analyses in flight encoded together (at most `concurrency` of them, one field each); default each alone. */
  batching?: EncodeBatching;
  /** Where the normalized fields are kept for retraining; default nowhere. */
  shards?: ShardWriter;
  /** Called for each alert published. */
  onAlert?: () => void;
}

export const CONSUMER_PROGRESS_KEY = 'progress/run.json';

/** Held by the polling consumer that keeps CONSUMER_PROGRESS_KEY: two would both do every analysis, each overwriting the other's record. */
export const CONSUMER_LEASE: LeaseKind = { folder: 'progress/run-lease/', holder: 'consumer', of: `${CONSUMER_PROGRESS_KEY} in this state store` };

/** Creates the output topics that do not exist yet. */
export async function createOutputTopics(bus: TopicBus, codec: AvroCodec, partitions = 1): Promise<void> {
  for (const topic of Object.values(codec.topics)) await bus.createTopic(topic, { partitions });
}

/**
 * The long-running consumer, driven by polling the store: each new analysis is found, fetched,
 * decoded, normalized and encoded, and its embedding (and, when the model does not recognise the
 * field, an alert) is published; progress is recorded only after the bus has acknowledged the
 * records. Bad input goes to the dead-letters topic and the stream goes on; a failure of the store
 * or the bus ends the run with its error, so that a restart resumes from the progress record with
 * nothing lost.
 */
export async function runConsumer(config: ConsumerConfig, onEvent: ((event: IngestEvent) => void) | undefined, context: StageContext): Promise<IngestSummary> {
  const { state, bus, codec, model, partitions, batching, shards, onAlert, ...ingest } = config;
  await createOutputTopics(bus, codec, partitions);
  const embedder = createAnalysisEmbedder({ codec, model, pictures: state, ...(ingest.instrument && { instrument: ingest.instrument }), ...(batching && { batching: { ...batching, ...(ingest.stop && { stopWaiting: ingest.stop }) } }), ...(shards && { shards }), ...(onAlert && { onAlert }) });
  const produce = (topic: string, records: Parameters<TopicBus['produce']>[1]) => bus.produce(topic, records);
  return runIngest(
    { ...ingest, grid: embedder.grid, state, progressKey: CONSUMER_PROGRESS_KEY, failFast: true },
    {
      deliver: ({ fields }, stageContext) => embedder.publish(fields, produce, stageContext),
      deadLetter: (analysis, error) => embedder.deadLetter(`${analysis.store}/${analysis.key}`, sourceObject(analysis), error, produce),
      ...(onEvent && { onEvent }),
    },
    context,
  );
}
