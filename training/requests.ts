import { UnreadableRecordError, type AvroCodec } from '../bus/avro/codec.js';
import type { BusConsumer, ConsumedRecord, ProducedRecord, TopicBus } from '../bus/bus.js';
import type { RetrainRequest } from '../bus/records.js';
import type { StageLogger } from '../stages/stage.js';
import type { Trigger } from './trainer.js';

/** Asks the trainer to retrain now: a RetrainRequest on the retrain-requests topic, keyed by the model store; gives where it was written. */
export async function requestRetraining(bus: TopicBus, codec: AvroCodec, modelStore: string, request: RetrainRequest): Promise<ProducedRecord> {
  const { topic, record } = await codec.encode('retrainRequests', modelStore, request);
  await bus.createTopic(topic);
  const [produced] = await bus.produce(topic, [record]);
  return produced!;
}

/**
 * How far back a trainer group with no offsets (a new group, or one whose offsets Kafka forgot
 * after its trainers were all down for offsets.retention.minutes) hears requests: those sent
 * while no trainer ran, and not older ones, maybe long since done.
 */
const requestLookBackMs = 24 * 3_600_000;

/**
 * The trainer's reader of retrain-requests, as consumer group `group`: each request for
 * `modelStore` (keyed by its URL, or by nothing) becomes a trigger; one keyed by another store is
 * passed over, since trainers of several stores may share the topic (a forced request for one
 * would otherwise promote in all). A record that is no RetrainRequest is logged and passed over, while one that cannot be
 * read for now (the schema registry unreachable) ends the reader, uncommitted. A request is committed
 * only once the run it started has ended, so one still waiting when its trainer stops or dies is
 * heard again by the next. A run cut short after its first checkpoint is resumed by the next
 * trainer as an unfinished run; a request heard again names the run it started (its id comes
 * from the request's time), which is over by then, so it is not trained twice.
 */
export function retrainRequests(bus: TopicBus, codec: AvroCodec, modelStore: string, group: string, log: StageLogger) {
  return async (signal: AbortSignal, push: (trigger: Trigger) => void): Promise<void> => {
    const topic = codec.topics.retrainRequests;
    await bus.createTopic(topic);
    // commitStart: a trainer that dies in its first run, before any commit, leaves its request to the next one.
    const consumer = bus.consumer({ group, topics: [topic], commitStart: { lookBackMs: requestLookBackMs } });
    const commits = inOrderCommits(consumer);
    try {
      for await (const record of consumer.records(signal)) {
        const handled = commits.track(record);
        let request: RetrainRequest | undefined;
        try {
          const { key, value } = (await codec.decode(record)) as { key: string | null; value: RetrainRequest };
          if (key === null || key === modelStore) request = value;
          else log.info({ topic, partition: record.partition, offset: record.offset, modelStore: key }, `retrain request for another model store passed over (this trainer's is ${modelStore})`);
        } catch (error) {
          if (!(error instanceof UnreadableRecordError)) throw error;
          // A malformed request asks for nothing: it is passed over, and the requests after it are heard.
          log.warn({ topic, partition: record.partition, offset: record.offset, err: error }, `retrain request ignored: ${(error as Error).message}`);
        }
        if (request) push({ kind: 'request', at: request.requestedAt, place: `${record.partition}-${record.offset}`, force: request.force, reason: request.reason || 'requested', handled });
        else await handled();
      }
    } finally {
      await consumer.close();
    }
  };
}

/**
 * Commits each partition's records in offset order, each once it is handled: a commit covers every
 * record before it, so a handled record waits for those before it in its partition.
 */
function inOrderCommits(consumer: BusConsumer) {
  const unhandled = new Map<number, Array<{ record: ConsumedRecord; handled: boolean }>>();
  return {
    track(record: ConsumedRecord): () => Promise<void> {
      const queue = unhandled.get(record.partition) ?? [];
      unhandled.set(record.partition, queue);
      const entry = { record, handled: false };
      queue.push(entry);
      return async () => {
        entry.handled = true;
        let last: ConsumedRecord | undefined;
        while (queue[0]?.handled) last = queue.shift()!.record;
        if (last) await consumer.commit(last);
      };
    },
  };
}
