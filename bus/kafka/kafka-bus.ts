import { Kafka, logLevel as KafkaLogLevel, Partitioners, type Admin, type ConsumerConfig, type Message, type PartitionMetadata, type Producer, type RecordMetadata, type SASLOptions, type Transaction } from 'kafkajs';
import type { BusConsumer, ConsumedRecord, ConsumerOptions, OutgoingRecord, ProducedRecord, TopicBus, TopicOptions } from '../bus.js';
import { nextOffsets, RecordTooLargeError } from '../bus.js';
import type { StageLogger } from '../../stages/stage.js';
import { KafkaConsumer } from './kafka-consumer.js';
import { unreachable } from './unreachable.js';
import { Lazy } from './lazy.js';

/** How a production cluster wants its clients to connect (MSK, Confluent Cloud, Strimzi): TLS, SASL, or both. */
export interface KafkaSecurity {
  /** TLS to the brokers, trusting the system's CAs, or `ca` (PEM certificates) alone. */
  tls?: { ca?: string };
  /** SASL authentication (over TLS when `tls` is given: SASL_SSL; else SASL_PLAINTEXT). */
  sasl?: { mechanism: KafkaSaslMechanism; username: string; password: string };
}

export const KAFKA_SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

export interface KafkaBusOptions {
  /** Bootstrap brokers, "HOST:PORT". */
  brokers: string[];
  clientId?: string;
  security?: KafkaSecurity;
  /** Where the client's warnings and errors go; default: kafkajs's own console logger, errors only. */
  log?: StageLogger;
  /** How many times a failed request is retried (with backoff) before produce or commit fails; default 10. */
  retries?: number;
  /**
   * Group membership timing, kafkajs's defaults otherwise. A shorter fetch wait and heartbeat make
   * closing and rebalancing quicker (tests), at the cost of more requests.
   */
  consumerTiming?: Pick<ConsumerConfig, 'sessionTimeout' | 'rebalanceTimeout' | 'heartbeatInterval' | 'maxWaitTimeInMs'>;
}

/** A transaction's view of the bus: records and consumer offsets that commit together or not at all. */
export interface BusTransaction {
  produce(topic: string, records: OutgoingRecord[]): Promise<void>;
  /** Commits these consumed records for the group as part of the transaction. */
  commitConsumed(group: string, records: ConsumedRecord[]): Promise<void>;
  /**
   * The group's committed offset of a partition (the next record to read), or null when none.
   * The transaction's producer fenced off every earlier producer of its id, but the offsets of a
   * transaction that committed are read back only once its markers are written, a moment later:
   * read before this transaction has written anything, the last one's may not show yet.
   */
  committedOffset(group: string, topic: string, partition: number): Promise<number | null>;
  /** The offset of a partition's oldest record still kept (retention deletes those before it). */
  oldestOffset(topic: string, partition: number): Promise<number>;
}

/** How many producers of one transactional id a transaction tries when each is fenced off in turn. */
const fencedAttempts = 6;

/** Topic partition metadata is refetched after this long, so added partitions are used. */
const metadataMaxAgeMs = 60_000;

/**
 * The broker's answers that kafkajs logs as errors (its connection logs every error response)
 * while a consumer group changes as it is meant to, a member joining or leaving (KEDA adds a
 * replica, a rolling update), and that kafkajs gets over by itself: logged at info, since at error
 * every scale-up set off alerts. kafkajs still warns when a member must join again.
 */
const groupChangeAnswers = new Set([
  'The group is rebalancing, so a rejoin is needed', // REBALANCE_IN_PROGRESS
  'The group coordinator is not available', // GROUP_COORDINATOR_NOT_AVAILABLE
  "The coordinator is loading and hence can't process requests for this group", // GROUP_LOAD_IN_PROGRESS
  'This is not the correct coordinator for this group', // NOT_COORDINATOR_FOR_GROUP
  'Specified group generation id is not valid', // ILLEGAL_GENERATION
]);

/**
 * The bus on Apache Kafka, through kafkajs. The producer is idempotent (a retried send is written
 * once) and waits for every in-sync replica; records go to the partition Java's producer would
 * choose for their key (murmur2), so other Kafka clients agree on where a key lives.
 */
export class KafkaBus implements TopicBus {
  readonly url: string;
  private readonly kafka: Kafka;
  private readonly admin = new Lazy<Admin>(() => connected(this.kafka.admin(), this.url));
  private readonly producer = new Lazy<Producer>(() => connected(this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner }), this.url));
  private readonly transactional = new Map<string, Lazy<Producer>>();
  private readonly consumers = new Set<KafkaConsumer>();
  private readonly partitioner = Partitioners.DefaultPartitioner();
  private readonly partitions = new Map<string, { metadata: PartitionMetadata[]; fetched: number }>();

  constructor(readonly options: KafkaBusOptions) {
    this.url = `kafka://${options.brokers.join(',')}`;
    const { log, security } = options;
    this.kafka = new Kafka({
      brokers: options.brokers,
      clientId: options.clientId ?? 'hrrr-embed',
      ...(security?.tls && { ssl: security.tls.ca === undefined ? true : { ca: [security.tls.ca] } }),
      ...(security?.sasl && { sasl: { ...security.sasl } as SASLOptions }),
      retry: { retries: options.retries ?? 10 },
      ...(log
        ? {
            logLevel: KafkaLogLevel.WARN,
            logCreator: () => ({ level, log: entry }) => {
              const { message, ...fields } = entry;
              const write = typeof fields.error === 'string' && groupChangeAnswers.has(fields.error) ? log.info : level <= KafkaLogLevel.ERROR ? log.error : log.warn;
              write.call(log, { kafka: fields }, message);
            },
          }
        : { logLevel: KafkaLogLevel.ERROR }),
    });
  }

  async topics(): Promise<string[]> {
    const admin = await this.admin.get();
    return (await admin.listTopics()).filter((topic) => !topic.startsWith('__'));
  }

  async createTopic(topic: string, options: TopicOptions = {}): Promise<void> {
    const admin = await this.admin.get();
    // Asked first: on a cluster with ACLs, CreateTopics is refused without the CREATE right even
    // for a topic that exists, and a service given only READ, WRITE and DESCRIBE must still start.
    if ((await admin.listTopics()).includes(topic)) return;
    await admin.createTopics({ topics: [{ topic, numPartitions: options.partitions ?? 1 }], waitForLeaders: true }).catch((error: unknown) => {
      throw topicNotCreated(this.url, topic, error);
    });
  }

  async produce(topic: string, records: OutgoingRecord[]): Promise<ProducedRecord[]> {
    const producer = await this.producer.get();
    const { messages, partitions } = await this.partitioned(topic, records);
    const sent = await producer.send({ topic, acks: -1, messages }).catch((error: unknown) => {
      throw refusedRecords(this.url, topic, records, error);
    });
    return producedOffsets(topic, partitions, sent);
  }

  consumer(options: ConsumerOptions): BusConsumer & KafkaConsumer {
    const consumer = new KafkaConsumer(this.kafka, this.url, options, this.options.consumerTiming ?? {}, () => this.consumers.delete(consumer), this.options.log);
    this.consumers.add(consumer);
    return consumer;
  }

  /**
   * Runs `work` in a Kafka transaction of the producer `transactionalId` (one id per input
   * partition's worker, stable across restarts, so a restarted worker fences off its old self):
   * everything it produces and every offset it commits become visible together when it returns,
   * and none of it if it throws. Consumers that should see only committed transactions need nothing
   * more: KafkaBus consumers read committed records only.
   */
  async inTransaction<T>(transactionalId: string, work: (transaction: BusTransaction) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const producer = await this.transactionalProducer(transactionalId).get();
      const transaction = await producer.transaction().catch((error: unknown) => {
        throw transactionRefused(this.url, transactionalId, error);
      });
      try {
        const result = await work(this.transactionView(transaction));
        await transaction.commit();
        return result;
      } catch (error) {
        const aborted = transaction.isActive() && (await transaction.abort().then(() => true, () => false));
        const fenced = isFenced(error);
        // kafkajs begins no other transaction on a producer fenced off, or whose commit or abort
        // failed part way (the broker busy): a new producer of the id takes its place, and Kafka
        // completes or aborts what the old one left before the new one starts.
        if (fenced || !aborted) await this.forgetTransactionalProducer(transactionalId);
        if (!fenced || attempt >= fencedAttempts) throw error;
        // Another producer of this id started since ours (the partition moved away and back, or
        // another member holds the same event): the work runs again under the new producer, which
        // fences that one off in turn. Two members with one event fence each other off in turns
        // until one commits; the pause before each turn, longer each time, lets the other finish.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 100 * attempt));
      }
    }
  }

  private transactionalProducer(transactionalId: string): Lazy<Producer> {
    let producer = this.transactional.get(transactionalId);
    if (!producer) {
      producer = new Lazy(() => connected(this.kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner }), this.url));
      this.transactional.set(transactionalId, producer);
    }
    return producer;
  }

  private async forgetTransactionalProducer(transactionalId: string): Promise<void> {
    const producer = this.transactional.get(transactionalId);
    this.transactional.delete(transactionalId);
    await (await producer?.peek()?.catch(() => undefined))?.disconnect().catch(() => {});
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((consumer) => consumer.close()));
    const clients = [this.producer, this.admin, ...this.transactional.values()];
    await Promise.all(clients.map(async (client) => (await client.peek()?.catch(() => undefined))?.disconnect()));
    for (const client of clients) client.forget();
    this.transactional.clear();
  }

  private transactionView(transaction: Transaction): BusTransaction {
    return {
      produce: async (topic, records) => {
        const { messages } = await this.partitioned(topic, records);
        await transaction.send({ topic, acks: -1, messages }).catch((error: unknown) => {
          throw refusedRecords(this.url, topic, records, error);
        });
      },
      commitConsumed: async (group, records) => {
        const byTopic = new Map<string, Array<{ partition: number; offset: string }>>();
        for (const { topic, partition, offset } of nextOffsets(records).values()) {
          byTopic.set(topic, [...(byTopic.get(topic) ?? []), { partition, offset: String(offset) }]);
        }
        await transaction.sendOffsets({ consumerGroupId: group, topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) });
      },
      committedOffset: async (group, topic, partition) => {
        const admin = await this.admin.get();
        const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
        const offset = Number(offsets?.partitions.find((entry) => entry.partition === partition)?.offset ?? -1);
        return offset >= 0 ? offset : null;
      },
      oldestOffset: async (topic, partition) => {
        const admin = await this.admin.get();
        return Number((await admin.fetchTopicOffsets(topic)).find((entry) => entry.partition === partition)?.low ?? 0);
      },
    };
  }

  /** The records as kafkajs messages, each with the partition chosen for it here. */
  private async partitioned(topic: string, records: OutgoingRecord[]): Promise<{ messages: Message[]; partitions: number[] }> {
    const partitionMetadata = await this.partitionMetadata(topic);
    const messages = records.map(({ key, value, headers, timestamp }) => {
      const message: Message = {
        key: key === null ? null : Buffer.from(key.buffer, key.byteOffset, key.byteLength),
        value: Buffer.from(value.buffer, value.byteOffset, value.byteLength),
        headers: Object.fromEntries(Object.entries(headers ?? {}).map(([name, bytes]) => [name, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)])),
        timestamp: String((timestamp ?? new Date()).getTime()),
      };
      return { ...message, partition: this.partitioner({ topic, partitionMetadata, message }) };
    });
    return { messages, partitions: messages.map((message) => message.partition) };
  }

  private async partitionMetadata(topic: string): Promise<PartitionMetadata[]> {
    const cached = this.partitions.get(topic);
    if (cached && Date.now() - cached.fetched < metadataMaxAgeMs) return cached.metadata;
    const admin = await this.admin.get();
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    const metadata = topics[0]!.partitions.map(({ partitionId, leader, replicas, isr, partitionErrorCode }) => ({ partitionId, leader, replicas, isr, partitionErrorCode }));
    this.partitions.set(topic, { metadata, fetched: Date.now() });
    return metadata;
  }

}

/**
 * Why a topic could not be created, naming it and what Kafka said (kafkajs says only "Topic
 * creation errors"): most often a service user without the CREATE right on a cluster whose
 * administrator creates the topics.
 */
function topicNotCreated(url: string, topic: string, error: unknown): Error {
  const causes = (error as { errors?: Array<{ type?: string; message?: string }> }).errors ?? [error as { type?: string; message?: string }];
  const said = causes.map(({ type, message }) => [type, message].filter(Boolean).join(': ')).join('; ');
  const hint = causes.some(({ type }) => type === 'TOPIC_AUTHORIZATION_FAILED')
    ? ` (or this user may not DESCRIBE it), and it may not create it (${said}): have the cluster's administrator create it (infra/kafka/create-topics.sh lists them) or grant CREATE`
    : `, and creating it failed (${said})`;
  return new Error(`${url}: no topic ${JSON.stringify(topic)}${hint}`, { cause: error });
}

/**
 * Why the broker refused records, said with the topic: MESSAGE_TOO_LARGE as a RecordTooLargeError
 * naming the largest record's size, and a topic the user may not write (kafkajs names none) with
 * the right the administrator needs to grant. Other errors as they are.
 */
function refusedRecords(url: string, topic: string, records: OutgoingRecord[], error: unknown): unknown {
  const { type, cause } = (error ?? {}) as { type?: string; cause?: { type?: string } };
  if ((type ?? cause?.type) === 'TOPIC_AUTHORIZATION_FAILED') {
    return new Error(`${url}: topic ${JSON.stringify(topic)}: ${(error as Error).message} (on a cluster with ACLs: this user needs WRITE on it)`, { cause: error });
  }
  if (type !== 'MESSAGE_TOO_LARGE') return error;
  const sizes = records.map(({ key, value, headers }) => (key?.byteLength ?? 0) + value.byteLength + Object.entries(headers ?? {}).reduce((sum, [name, bytes]) => sum + name.length + bytes.byteLength, 0));
  return new RecordTooLargeError(topic, Math.max(...sizes), { cause: error });
}

/**
 * kafkajs reports a transactional id the user may not write (TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
 * as "Failed to find group coordinator", which sends an administrator to the consumer group's
 * rights: said here with the id. Other errors as they are.
 */
function transactionRefused(url: string, transactionalId: string, error: unknown): unknown {
  const { name, type, cause } = (error ?? {}) as { name?: string; type?: string; cause?: { type?: string } };
  if (name !== 'KafkaJSGroupCoordinatorNotFound' && (type ?? cause?.type) !== 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED') return error;
  // As retriable as kafkajs said: a coordinator not found may also be a broker restarting.
  const said = new Error(`${url}: transactional id ${JSON.stringify(transactionalId)}: ${(error as Error).message} (on a cluster with ACLs: this user needs WRITE on it)`, { cause: error });
  return Object.assign(said, { retriable: (error as { retriable?: boolean }).retriable === true });
}

/** Kafka's answer to a producer whose transactional id another producer has taken over since. */
function isFenced(error: unknown): boolean {
  const type = (error as { type?: string } | null)?.type ?? ((error as { cause?: { type?: string } } | null)?.cause?.type);
  return type === 'INVALID_PRODUCER_EPOCH' || type === 'PRODUCER_FENCED';
}

async function connected<Client extends { connect(): Promise<void> }>(client: Client, url: string): Promise<Client> {
  await client.connect().catch((error: unknown) => {
    throw unreachable(url, error);
  });
  return client;
}

/** Each record's offset: its partition's base offset plus its place among that partition's records. */
function producedOffsets(topic: string, partitions: number[], sent: RecordMetadata[]): ProducedRecord[] {
  const next = new Map(sent.map(({ partition, baseOffset }) => [partition, Number(baseOffset)]));
  return partitions.map((partition) => {
    const offset = next.get(partition);
    if (offset === undefined || Number.isNaN(offset)) throw new Error(`kafka: no offset acknowledged for ${topic}/${partition}`);
    next.set(partition, offset + 1);
    return { topic, partition, offset };
  });
}
