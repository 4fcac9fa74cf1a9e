import type { TopicBus } from '../bus/bus.js';
import type { AvroCodec } from '../bus/avro/codec.js';
import type { Autoencoder } from '../model/autoencoder.js';
import { alertPicture, reconstruct } from '../model/picture.js';
import { createPublishStage, sourceObject } from '../stages/sinks/publish.js';
import { attributed, type StageContext } from '../stages/stage.js';
import { createEncodeStage } from '../stages/transforms/encode.js';
import { createNormalizeStage } from '../stages/transforms/normalize.js';
import type { ObjectStore } from '../store/object-store.js';
import { runIngest, uninstrumented, type IngestConfig, type IngestEvent, type IngestSummary } from './ingest.js';

export interface ConsumerConfig extends Omit<IngestConfig, 'state' | 'progressKey' | 'failFast'> {
  /** Where progress is kept (progress/run.json) and alert pictures go (alerts/...). */
  state: ObjectStore;
  bus: TopicBus;
  codec: AvroCodec;
  /** Partitions of the topics it creates when they do not exist. Default 1. */
  partitions?: number;
  model: { autoencoder: Autoencoder; id: string; alertThreshold: number | null; backend: string };
}

export const CONSUMER_PROGRESS_KEY = 'progress/run.json';

/**
 * The long-running consumer: each new analysis is found, fetched, decoded, normalized and
 * encoded, and its embedding (and, when the model does not recognise the field, an alert) is
 * published; progress is recorded only after the bus has acknowledged the records. Bad input goes
 * to the dead-letters topic and the stream goes on; a failure of the store or the bus ends the run
 * with its error, so that a restart resumes from the progress record with nothing lost.
 */
export async function runConsumer(config: ConsumerConfig, onEvent: ((event: IngestEvent) => void) | undefined, context: StageContext): Promise<IngestSummary> {
  const { state, bus, codec, model, partitions = 1, ...ingest } = config;
  for (const topic of [codec.topics.embeddings, codec.topics.alerts, codec.topics.deadLetters]) await bus.createTopic(topic, { partitions });
  const { autoencoder } = model;
  const instrument = ingest.instrument ?? uninstrumented;
  const normalize = instrument(createNormalizeStage({ model: autoencoder.config, normalization: autoencoder.normalization }));
  const encode = instrument(createEncodeStage({ model: autoencoder, backend: model.backend }));
  const publish = instrument(createPublishStage({
    bus,
    codec,
    model: { id: model.id, config: autoencoder.config, normalization: autoencoder.normalization },
    alertThreshold: model.alertThreshold,
    pictures: state,
    drawAlert: async ({ normalized }) => alertPicture(normalized, await reconstruct(autoencoder, normalized)),
  }));

  return runIngest(
    { ...ingest, state, progressKey: CONSUMER_PROGRESS_KEY, failFast: true },
    {
      async deliver({ fields }, stageContext) {
        for (const decoded of fields) {
          for await (const normalized of attributed(normalize, decoded, stageContext)) {
            for await (const embedded of attributed(encode, normalized, stageContext)) {
              // Not attributed: a failing bus is no fault of the input, and must not make a dead letter.
              for await (const _acknowledged of publish.process({ normalized, embedded }, stageContext));
            }
          }
        }
      },
      async deadLetter(analysis, error) {
        const cause = error.cause instanceof Error ? error.cause : undefined;
        const { topic, record } = await codec.encode('deadLetters', `${analysis.store}/${analysis.key}`, {
          failedAt: new Date(),
          stage: error.stage,
          errorClass: cause?.name ?? 'Error',
          message: error.message,
          source: sourceObject({ store: analysis.store, key: analysis.key }),
        });
        await bus.produce(topic, [record]);
      },
      ...(onEvent && { onEvent }),
    },
    context,
  );
}
