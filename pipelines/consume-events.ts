import { setTimeout as sleep } from 'node:timers/promises';
import { RecordTooLargeError, type BusConsumer, type ConsumedRecord, type OutgoingRecord, type TopicBus } from '../bus/bus.js';
import type { AvroCodec } from '../bus/avro/codec.js';
import type { BusTransaction } from '../bus/kafka/kafka-bus.js';
import { sourceObject } from '../stages/sinks/publish.js';
import { createDiscoverySource } from '../stages/sources/discover.js';
import { createFetchStage } from '../stages/sources/fetch.js';
import { formatHour, hourlyAnalysis, timeOfKey, type HrrrProduct } from '../stages/sources/hrrr-archive.js';
import { ObjectEventError, parseObjectCreated } from '../stages/sources/object-events.js';
import { attributed, isBadInput, StageError, type StageContext } from '../stages/stage.js';
import { createDecodeStage } from '../stages/transforms/decode.js';
import type { EncodeBatching } from '../stages/transforms/encode.js';
import type { DecodedField } from '../stages/types.js';
import { isStoreFault, ObjectNotFoundError } from '../store/errors.js';
import type { ObjectStore } from '../store/object-store.js';
import { createAnalysisEmbedder, type EmbeddingModel } from './embed-analysis.js';
import type { ModelSlot } from './model-slot.js';
import type { ShardWriter } from '../shards/writer.js';
import { createOutputTopics } from './consume.js';
import { uninstrumented, type StageInstrument } from './ingest.js';

/** A bus that can make produced records and consumed offsets visible together (Kafka). */
interface TransactionalBus extends TopicBus {
  inTransaction<T>(transactionalId: string, work: (transaction: BusTransaction) => Promise<T>): Promise<T>;
}

export interface EventConsumerConfig {
  /** Where the analyses are read. */
  source: ObjectStore;
  /** Where alert pictures go. */
  state: ObjectStore;
  bus: TopicBus;
  codec: AvroCodec;
  model: EmbeddingModel | ModelSlot;
  /** The topic of object-created events (S3 notifications, plain or SNS-wrapped) and the consumer group sharing it. */
  events: { topic: string; group: string };
  /** The consumer of that topic in that group; default, one the bus makes. */
  consumer?: BusConsumer;
  product?: HrrrProduct;
  /** The .idx lines of the fields to take. */
  match: RegExp;
  partitions?: number;
  /** Graceful shutdown: no new event is taken; the one in hand is finished and committed. */
  stop?: AbortSignal;
  /** Wraps each stage, e.g. to time it; default none. */
  instrument?: StageInstrument;
  /** The fields of one event's analysis encoded together (its maxWaitMs does not apply: they come at once); default each alone. */
  batching?: EncodeBatching;
  /** Where the normalized fields are kept for retraining; default nowhere. */
  shards?: ShardWriter;
  /** Called for each alert published (into the transaction of its event, on Kafka). */
  onAlert?: () => void;
  /**
   * Called when the consumer made here has joined its group (and again after each rebalance): the
   * pipeline is running. A `consumer` given is the caller's to watch.
   */
  onRunning?: () => void;
  /** Called as soon as the run is bound to end with this error, before the consumer leaves its group. */
  onFailing?: (error: unknown) => void;
}

export type EventOutcome =
  | { kind: 'done'; hour: string; key: string; fields: number; bytes: number }
  | { kind: 'dead-letter'; hour: string | null; key: string; stage: string; errorClass: string; error: string }
  | { kind: 'ignored'; key: string; why: string };

/**
 * The consumer driven by object-created events on a Kafka topic, the way to scale out: the
 * consumers of one group share the topic's partitions, and a partition moves to another member
 * when one stops. For each event naming a GRIB2 object of the product, the analysis is fetched,
 * decoded and encoded, and its records are published; the records and the event's offset are
 * then committed together in one Kafka transaction, so each analysis's records appear exactly
 * once however often the event is delivered. (On the file bus: records first, then the offset:
 * at least once.) Malformed events and bad analyses become dead letters in the same way; a
 * failure of the store or the bus ends the run with its error and commits nothing.
 */
export async function runEventConsumer(config: EventConsumerConfig, onOutcome: ((outcome: EventOutcome) => void) | undefined, context: StageContext): Promise<void> {
  const { source, state, bus, codec, model, events, product = hourlyAnalysis, match, partitions, stop, instrument = uninstrumented, batching, shards, onAlert } = config;
  await createOutputTopics(bus, codec, partitions);
  // Events are taken one at a time, so a batch can get only the fields of one event's analysis, and
  // they reach the encoder in one turn of the event loop: a batch that waited longer would wait for nothing.
  const embedder = createAnalysisEmbedder({ codec, model, pictures: state, instrument, ...(batching && { batching: { ...batching, maxWaitMs: 0 } }), ...(shards && { shards }), ...(onAlert && { onAlert }) });
  const fetch = instrument(createFetchStage({ store: source, match }));
  const decode = instrument(createDecodeStage({ match, grid: embedder.grid }));
  const consumer = config.consumer ?? bus.consumer({ group: events.group, topics: [events.topic], fromBeginning: true, ...(config.onRunning && { onJoin: config.onRunning }) });
  const taking = stop ? AbortSignal.any([context.signal, stop]) : context.signal;

  /** The outputs of one event through `produce`, and what became of each object it names. */
  async function handle(record: ConsumedRecord, produce: (topic: string, records: OutgoingRecord[]) => Promise<unknown>): Promise<EventOutcome[]> {
    const outcomes: EventOutcome[] = [];
    let created;
    try {
      created = parseObjectCreated(record.value);
    } catch (error) {
      if (!(error instanceof ObjectEventError)) throw error;
      const where = `kafka:${record.topic}/${record.partition}/${record.offset}`;
      await embedder.deadLetter(where, null, new StageError('object-events', error), produce, record.value);
      return [{ kind: 'dead-letter', hour: null, key: where, stage: 'object-events', errorClass: error.name, error: error.message }];
    }
    for (const object of created) {
      const time = timeOfKey(object.key, product);
      // An analysis is complete when its GRIB2 object is written (NOAA writes the .idx first).
      if (!time || object.key.endsWith('.idx')) {
        outcomes.push({ kind: 'ignored', key: object.key, why: time ? 'an .idx: its GRIB2 object comes next' : `not a ${product.product} analysis` });
        continue;
      }
      let analysis;
      // The event says the object is written whole: one whose .idx lists more than it holds is
      // passed on at once (gapAfterMs 0), for the fetch to say how it falls short. One not there
      // is this event's dead letter, not an hour that never appeared (discovery's gap warning).
      if (await isListed(source, object.key, context.signal)) {
        for await (const found of createDiscoverySource({ store: source, product, from: time, to: time, once: true, idxWaitMs: 0, gapAfterMs: 0 }).run(context)) analysis = found;
      }
      if (!analysis) {
        const where = `${source.url}/${object.key}`;
        const error = new StageError('discover', new ObjectNotFoundError(where));
        await embedder.deadLetter(where, { store: source.url, key: object.key, byteStart: null, byteEnd: null }, error, produce, record.value);
        outcomes.push({ kind: 'dead-letter', hour: formatHour(time), key: object.key, stage: error.stage, errorClass: causeClass(error), error: error.message });
        continue;
      }
      try {
        const fields: DecodedField[] = [];
        let bytes = 0;
        for await (const piece of attributed(fetch, analysis, context)) {
          bytes += piece.bytes.length;
          for await (const field of attributed(decode, piece, context)) fields.push(field);
        }
        await embedder.publish(fields, produce, context);
        outcomes.push({ kind: 'done', hour: formatHour(time), key: object.key, fields: fields.length, bytes });
      } catch (error) {
        // Cut short by a shutdown that could not wait: the event is left uncommitted, not set aside.
        if (context.signal.aborted || !isBadInput(error, isStoreFault)) throw error;
        await embedder.deadLetter(`${analysis.store}/${analysis.key}`, sourceObject(analysis), error, produce, record.value);
        outcomes.push({ kind: 'dead-letter', hour: formatHour(time), key: object.key, stage: error.stage, errorClass: causeClass(error), error: error.message });
      }
    }
    return outcomes;
  }

  /** Partitions (topic/partition) on which this consumer has committed: the group has an offset there unless the topic was created again. */
  const committedOn = new Set<string>();
  try {
    for await (const record of consumer.records(taking)) {
      let outcomes: EventOutcome[];
      if (isTransactional(bus)) {
        const outgoing: Array<[string, OutgoingRecord[]]> = [];
        outcomes = await handle(record, async (topic, records) => void outgoing.push([topic, records]));
        // One producer per input partition, stable across restarts: a restarted worker fences off its old self.
        const transactionalId = `hrrr-embed-${events.group}-${record.topic}-${record.partition}`;
        const commitWith = (outputs: Array<[string, OutgoingRecord[]]>) =>
          retryingKafka(() =>
            bus.inTransaction(transactionalId, async (transaction) => {
              // A member that lost this partition in a rebalance may still hold the event; whoever
              // commits first publishes it, and the other finds the offset moved past it.
              const partition = `${record.topic}/${record.partition}`;
              const committedOffset = () => transaction.committedOffset(events.group, record.topic, record.partition);
              let next = await committedOffset();
              // This consumer's last commit there may not show yet: its transaction's end is written to the group's offsets after it returns.
              if (next === null && committedOn.has(partition)) next = await onceShown(committedOffset);
              if (next !== null && next > record.offset) return false;
              // Kafka drops a group's offsets with its topic. None where this consumer committed,
              // for a record after the oldest kept, means the topic was created again under it,
              // and it read on from its old place, past the new topic's records before this one. A
              // consumer started again reads it from its start, as after a rebalance (kafkajs
              // cannot be made to rejoin). A group's first record may follow the oldest offset by
              // records no reader sees (an aborted transaction, its markers): no offset then is a start.
              if (next === null && committedOn.has(partition) && record.offset > (await transaction.oldestOffset(record.topic, record.partition))) throw topicCreatedAgain(events.group, record);
              for (const [topic, records] of outputs) await transaction.produce(topic, records);
              await transaction.commitConsumed(events.group, [record]);
              return true;
            }),
          );
        let committed;
        try {
          committed = await commitWith(outgoing);
        } catch (error) {
          if (!(error instanceof RecordTooLargeError)) throw error;
          // Refused every time: the event becomes a dead letter, without the event itself (maybe
          // what made it too large; its key says where it stays on the events topic while retained).
          const where = `kafka:${record.topic}/${record.partition}/${record.offset}`;
          const deadLetter: Array<[string, OutgoingRecord[]]> = [];
          await embedder.deadLetter(where, null, new StageError('publish', error), async (topic, records) => void deadLetter.push([topic, records]));
          committed = await commitWith(deadLetter);
          outcomes = [{ kind: 'dead-letter', hour: null, key: where, stage: 'publish', errorClass: error.name, error: error.message }];
        }
        committedOn.add(`${record.topic}/${record.partition}`);
        if (!committed) outcomes = [{ kind: 'ignored', key: `kafka:${record.topic}/${record.partition}/${record.offset}`, why: 'already handled by another member of the group' }];
      } else {
        outcomes = await handle(record, (topic, records) => bus.produce(topic, records));
        await consumer.commit(record);
      }
      // Told only once committed: a transaction that was fenced off or aborted did nothing.
      for (const outcome of outcomes) {
        // As the polling consumer logs it: the object (or the event) and the stage that rejected it.
        if (outcome.kind === 'dead-letter') context.log.error({ hour: outcome.hour, key: outcome.key, stage: outcome.stage, err: outcome.error }, 'analysis rejected: dead letter');
        onOutcome?.(outcome);
      }
      if (stop?.aborted) break;
    }
  } catch (error) {
    // The wait for the next event, cut short by a shutdown, is no failure.
    if (stop?.aborted && !context.signal.aborted && (error as Error).name === 'AbortError') return;
    if (!context.signal.aborted) config.onFailing?.(error);
    throw error;
  } finally {
    await consumer.close();
  }
}

/**
 * Runs a transaction again when Kafka answers with an error it calls retriable, as it does with
 * CONCURRENT_TRANSACTIONS while it is still completing the previous commit (kafkajs hands that one
 * up rather than retrying it). The transaction is aborted each time, so nothing is written twice.
 */
async function retryingKafka<T>(transaction: () => Promise<T>, attempts = 8): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction();
    } catch (error) {
      if (!(error as { retriable?: boolean }).retriable || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 50 * 2 ** attempt)));
    }
  }
}

/** What `ask` answers once it is an offset, asking again for a few seconds; null if it stays none. */
async function onceShown(ask: () => Promise<number | null>, tries = 20, everyMs = 250): Promise<number | null> {
  for (let tried = 0; tried < tries; tried++) {
    await sleep(everyMs);
    const offset = await ask();
    if (offset !== null) return offset;
  }
  return null;
}

function topicCreatedAgain(group: string, { topic, partition, offset }: ConsumedRecord): Error {
  return new Error(
    `events topic ${JSON.stringify(topic)} partition ${partition}: consumer group ${JSON.stringify(group)} has no offset there, and records before this one (offset ${offset}) were never done: ` +
      'the topic was deleted and created again while this consumer ran, and it read on from its old place. Ending, with nothing committed: started again, it reads the new topic from its start',
  );
}

function isTransactional(bus: TopicBus): bus is TransactionalBus {
  return typeof (bus as Partial<TransactionalBus>).inTransaction === 'function';
}

/** The name of what made a stage reject its input (InvalidObjectError), as the dead letter records it. */
function causeClass(error: StageError): string {
  return error.cause instanceof Error ? error.cause.name : 'Error';
}

/**
 * Whether the store lists `key`. Not a HEAD: S3 answers one for a bucket that does not exist with a
 * bare 404, a missing object, which would make every event a dead letter; a listing names the bucket.
 */
async function isListed(store: ObjectStore, key: string, signal: AbortSignal): Promise<boolean> {
  for await (const info of store.list(key, { signal })) if (info.key === key) return true;
  return false;
}
