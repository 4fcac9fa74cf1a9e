/**
 * The one interface every message bus implements: Kafka (kafkajs), or local append-only files
 * under a data folder (the embedded default). Records are keyed bytes on named topics; what the
 * bytes mean is the codec's business (bus/codec.ts), not the bus's.
 */
export interface TopicBus {
  /** "kafka://HOST:PORT,..." or "file:///data/folder": where records go, for logs and errors. */
  readonly url: string;
  /** The names of the topics there are (not Kafka's internal ones). */
  topics(): Promise<string[]>;
  /** Creates the topic with this many partitions if it does not exist; an existing topic is left as it is. */
  createTopic(topic: string, options?: TopicOptions): Promise<void>;
  /** Appends records to a topic; resolves once the bus has acknowledged every one of them (durably). */
  produce(topic: string, records: OutgoingRecord[]): Promise<ProducedRecord[]>;
  /** A consumer of the given topics for a consumer group; it reads nothing until iterated. */
  consumer(options: ConsumerOptions): BusConsumer;
  /** Releases connections and files; the bus cannot be used afterwards. */
  close(): Promise<void>;
}

export interface TopicOptions {
  /** Default 1. Records with the same key always go to the same partition, so they stay in order. */
  partitions?: number;
}

export type Headers = Record<string, Uint8Array>;

export interface OutgoingRecord {
  /** The partitioning key: equal keys land on the same partition. Null spreads records evenly. */
  key: Uint8Array | null;
  value: Uint8Array;
  headers?: Headers;
  /** When the record was made; default now. */
  timestamp?: Date;
}

export interface ProducedRecord {
  topic: string;
  partition: number;
  offset: number;
}

/** A record as read back: what was produced, and where it sits. */
export interface ConsumedRecord extends ProducedRecord {
  key: Uint8Array | null;
  value: Uint8Array;
  headers: Headers;
  timestamp: Date;
}

export interface ConsumerOptions {
  /** The consumer group: its committed offsets say where a restarted consumer resumes. */
  group: string;
  topics: string[];
  /**
   * Where to start on a partition the group has committed nothing for: the first record (true) or
   * only records produced from now on (false, the default). Committed offsets always win.
   */
  fromBeginning?: boolean;
  /**
   * On a partition the group has committed nothing for, commit the place this consumer starts
   * reading it from, before handing out a record of it: the first record written (by its
   * timestamp) at most `lookBackMs` before, or the end where none was. A member that dies before
   * its first commit leaves the next member that place, not the end of the topic by then (the
   * records produced meanwhile, heard by the dead member, would never be heard again). The look
   * back is not optional: Kafka forgets a group's offsets once it has had no member for
   * offsets.retention.minutes (7 days by default), and a group back after that cannot be told
   * from a new one, whose records of that time would be skipped; and it covers the records
   * produced between the join and the lookup of the place.
   */
  commitStart?: { lookBackMs: number };
  /**
   * Called each time the consumer has joined its group and been given its partitions (on Kafka,
   * again after each rebalance); the file bus, which has no group protocol, calls it once, when
   * the consumer first opens the topics' partitions.
   */
  onJoin?(): void;
}

export interface BusConsumer {
  /**
   * The records of the subscribed topics, in offset order within each partition, as they arrive,
   * until the signal aborts or the consumer is closed. Take the next record when ready for it:
   * the consumer reads ahead only a little (backpressure).
   */
  records(signal?: AbortSignal): AsyncIterable<ConsumedRecord>;
  /**
   * Marks these records, and every record before them in their partitions, as done for the group:
   * a restarted consumer of the group resumes after them. Resolves once the commit is durable.
   */
  commit(records: ConsumedRecord | ConsumedRecord[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * A record larger than the bus takes on its topic (Kafka: the topic's max.message.bytes, which its
 * administrator may set below the broker's 1 MB). The same record is refused every time: its
 * input is set aside as a dead letter, not retried, or the stream would stop on it for good.
 */
export class RecordTooLargeError extends Error {
  override readonly name = 'RecordTooLargeError';

  constructor(readonly topic: string, readonly bytes: number, options?: ErrorOptions) {
    super(`${topic}: a record of ${bytes} bytes is larger than the topic takes (its max.message.bytes)`, options);
  }
}

/** The offset to commit for each partition: one past the highest record given, as Kafka counts. */
export function nextOffsets(records: ConsumedRecord[]): Map<string, { topic: string; partition: number; offset: number }> {
  const next = new Map<string, { topic: string; partition: number; offset: number }>();
  for (const { topic, partition, offset } of records) {
    const id = `${topic}\u0000${partition}`;
    const known = next.get(id);
    if (!known || known.offset < offset + 1) next.set(id, { topic, partition, offset: offset + 1 });
  }
  return next;
}

/**
 * Fails, naming the topics there are, when the bus has no topic `topic`: a reader of a misspelt
 * name would otherwise wait for it forever (the file bus) or fail with Kafka's "does not host this
 * topic-partition".
 */
export async function requireTopic(bus: TopicBus, topic: string): Promise<void> {
  const topics = (await bus.topics()).sort();
  if (topics.includes(topic)) return;
  throw new Error(`${bus.url}: no topic ${JSON.stringify(topic)} (${topics.length > 0 ? `its topics: ${topics.join(', ')}` : 'it has none yet: `run` creates its topics when it starts'})`);
}

/** The default topic names; a deployment puts its prefix (e.g. "prod.hrrr.") in front of each. */
export const defaultTopics = {
  embeddings: 'embeddings',
  alerts: 'alerts',
  deadLetters: 'dead-letters',
  modelVersions: 'model-versions',
  retrainRequests: 'retrain-requests',
} as const;

export type TopicRole = keyof typeof defaultTopics;

/** Kafka's rule for a topic name, which the file bus keeps too (it also keeps a name inside the data folder). */
export function isTopicName(name: string): boolean {
  return /^[A-Za-z0-9._-]{1,249}$/.test(name) && name !== '.' && name !== '..';
}

/**
 * The full topic names for a prefix: topicNames('prod.').embeddings === 'prod.embeddings'. A prefix
 * that makes a name Kafka would refuse is refused here, before any bus is asked for it.
 */
export function topicNames(prefix = ''): Record<TopicRole, string> {
  const invalid = Object.values(defaultTopics).find((name) => !isTopicName(`${prefix}${name}`));
  if (invalid !== undefined) throw new RangeError(`${JSON.stringify(prefix)} makes ${JSON.stringify(`${prefix}${invalid}`)}, not a Kafka topic name (at most 249 letters, digits, ".", "_" and "-")`);
  return {
    embeddings: `${prefix}${defaultTopics.embeddings}`,
    alerts: `${prefix}${defaultTopics.alerts}`,
    deadLetters: `${prefix}${defaultTopics.deadLetters}`,
    modelVersions: `${prefix}${defaultTopics.modelVersions}`,
    retrainRequests: `${prefix}${defaultTopics.retrainRequests}`,
  };
}
