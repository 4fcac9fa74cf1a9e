import type { AvroCodec } from '../bus/avro/codec.js';
import type { TopicBus } from '../bus/bus.js';
import type { RetrainRequest } from '../bus/records.js';
import type { StageLogger } from '../stages/stage.js';
import type { Trigger } from './trainer.js';

/** Asks the trainer to retrain now: a RetrainRequest on the retrain-requests topic, keyed by the model store. */
export async function requestRetraining(bus: TopicBus, codec: AvroCodec, modelStore: string, request: RetrainRequest): Promise<void> {
  const { topic, record } = await codec.encode('retrainRequests', modelStore, request);
  await bus.createTopic(topic);
  await bus.produce(topic, [record]);
}

/**
 * The trainer's reader of retrain-requests, as consumer group `group`: each request becomes a
 * trigger; a record that is no RetrainRequest is logged and passed over. A request is committed once queued: a run it started and that was cut short is resumed
 * by the next trainer as an unfinished run, not asked for again.
 */
export function retrainRequests(bus: TopicBus, codec: AvroCodec, group: string, log: StageLogger) {
  return async (signal: AbortSignal, push: (trigger: Trigger) => void): Promise<void> => {
    const topic = codec.topics.retrainRequests;
    await bus.createTopic(topic);
    const consumer = bus.consumer({ group, topics: [topic] });
    try {
      for await (const record of consumer.records(signal)) {
        let request: RetrainRequest | undefined;
        try {
          request = ((await codec.decode(record)) as { value: RetrainRequest }).value;
        } catch (error) {
          // A malformed request asks for nothing: it is passed over, and the requests after it are heard.
          log.warn({ topic, partition: record.partition, offset: record.offset, err: error }, `retrain request ignored: ${(error as Error).message}`);
        }
        if (request) push({ kind: 'request', at: request.requestedAt, force: request.force, reason: request.reason || 'requested' });
        await consumer.commit(record);
      }
    } finally {
      await consumer.close();
    }
  };
}
