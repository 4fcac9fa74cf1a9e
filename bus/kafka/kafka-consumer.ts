import type { Consumer, ConsumerConfig, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { nextOffsets, type BusConsumer, type ConsumedRecord, type ConsumerOptions, type Headers } from '../bus.js';
import type { StageLogger } from '../../stages/stage.js';
import { Handoff } from './handoff.js';
import { unreachable } from './unreachable.js';

/** kafkajs's default consumer heartbeat interval. */
const kafkajsHeartbeatIntervalMs = 3_000;

/**
 * A member of a Kafka consumer group. It joins the group when first iterated; the group's
 * coordinator gives it some of the topics' partitions, and moves them to other members as members
 * come and go. Offsets are committed only by commit(), never automatically. It reads committed
 * records only (transactions that were aborted or are still open are skipped).
 */
export class KafkaConsumer implements BusConsumer {
  private readonly consumer: Consumer;
  private readonly handoff = new Handoff<ConsumedRecord>();
  private started: Promise<void> | undefined;
  private assigned: Record<string, number[]> = {};
  private failure: Error | undefined;
  private readonly heartbeatIntervalMs: number;
  /** With commitStart: the start of the partitions given at the last join, committed where the group had nothing. */
  private startCommitted: Promise<void> = Promise.resolve();
  /**
   * For the partitions commitStart sent to their start at the last join: the first offset not yet
   * handed out. kafkajs, subscribed from the beginning, may hand a record to eachMessage before the
   * seek, then fetch it again from the start: a record below this is passed over, lest the reader
   * hear it twice.
   */
  private readonly handOutFrom = new Map<string, bigint>();

  constructor(
    private readonly kafka: Kafka,
    private readonly url: string,
    private readonly options: ConsumerOptions,
    timing: Omit<Partial<ConsumerConfig>, 'groupId'>,
    private readonly onClose: () => void,
    log?: StageLogger,
  ) {
    this.consumer = kafka.consumer({ ...timing, groupId: options.group, allowAutoTopicCreation: false, readUncommitted: false });
    this.heartbeatIntervalMs = timing.heartbeatInterval ?? kafkajsHeartbeatIntervalMs;
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      this.assigned = payload.memberAssignment;
      // Which member reads which partitions, after each rebalance (a replica added or gone).
      log?.info({ memberId: payload.memberId, assignment: payload.memberAssignment }, `joined consumer group ${options.group}`);
      if (options.commitStart) {
        this.handOutFrom.clear();
        this.startCommitted = this.commitStart(payload.memberAssignment, options.commitStart).catch((error: unknown) => {
          this.failure = new Error(`${url}: consumer group ${JSON.stringify(options.group)}: committing where it starts failed: ${(error as Error).message}`, { cause: error });
          this.handoff.close();
        });
      }
      options.onJoin?.();
    });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) return;
      this.failure = refused(url, options, payload.error);
      this.handoff.close();
    });
  }

  /** The partitions of each topic this member was given when it last joined the group. */
  assignment(): Readonly<Record<string, number[]>> {
    return this.assigned;
  }

  async *records(signal?: AbortSignal): AsyncIterable<ConsumedRecord> {
    if (!this.started) {
      this.started = this.start();
      // A failed start (no such topic, no broker) is tried again by the next records() call.
      this.started.catch(() => (this.started = undefined));
    }
    await this.started;
    for (;;) {
      const record = await this.handoff.take(signal);
      if (record) {
        yield record;
        continue;
      }
      if (this.failure) throw this.failure;
      return;
    }
  }

  async commit(records: ConsumedRecord | ConsumedRecord[]): Promise<void> {
    const offsets = [...nextOffsets(Array.isArray(records) ? records : [records]).values()];
    await this.consumer.commitOffsets(offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset: String(offset) })));
  }

  async close(): Promise<void> {
    this.handoff.close();
    await this.consumer.disconnect();
    this.onClose();
  }

  private async start(): Promise<void> {
    await this.consumer.connect().catch((error: unknown) => {
      throw unreachable(this.url, error);
    });
    // kafkajs's default place serves a partition the group has no offset for, and one whose offset
    // the log no longer has (retention deleted the records up to it, or more): kafkajs then
    // starts again there. With commitStart every partition gets its offset before its first record
    // is handed out, so the default serves the second alone, where the oldest record still there
    // is the first not done: from the end, the records kept after the lost ones would be skipped.
    const fromBeginning = (this.options.fromBeginning ?? false) || this.options.commitStart !== undefined;
    await this.consumer.subscribe({ topics: this.options.topics, fromBeginning }).catch((error: unknown) => {
      // kafkajs names no topic; a cluster without automatic topic creation has none it was not given.
      if ((error as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw error;
      throw new Error(`${this.url}: no topic ${this.options.topics.map((topic) => JSON.stringify(topic)).join(' or ')}, or this user may not DESCRIBE it (${(error as Error).message})`, { cause: error });
    });
    await this.consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message, heartbeat }) => {
        // kafkajs sends heartbeats only between messages: while this one waits for the reader, busy
        // with the one before, they are sent from here, or a reader slower than the session timeout
        // would be taken for dead and its partitions given to another member.
        const beating = setInterval(() => void heartbeat().catch(() => {}), this.heartbeatIntervalMs);
        try {
          await this.startCommitted;
          if (this.handedOutAlready(topic, partition, message.offset)) return;
          await this.handoff.put(consumedRecord(topic, partition, message));
        } finally {
          clearInterval(beating);
        }
      },
    }).catch((error: unknown) => {
      throw refused(this.url, this.options, error);
    });
  }

  /**
   * Commits, for each partition given that the group has no offset of, its first record written
   * in the last `lookBackMs`, or its end where none was; kafkajs, which began at the topic's first
   * record, is sent there. Its READ on the group and the topics allows both lookups (READ implies
   * DESCRIBE).
   */
  private async commitStart(assignment: Record<string, number[]>, { lookBackMs }: { lookBackMs: number }): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const starts: Array<{ topic: string; partition: number; offset: string }> = [];
      for (const { topic, partitions } of await admin.fetchOffsets({ groupId: this.options.group, topics: Object.keys(assignment) })) {
        const unset = partitions.filter(({ partition, offset }) => offset === '-1' && assignment[topic]?.includes(partition));
        if (unset.length === 0) continue;
        // By timestamp: the first record written since, or the end where none was.
        const places = await admin.fetchTopicOffsetsByTimestamp(topic, Date.now() - lookBackMs);
        const byPartition = new Map(places.map(({ partition, offset }) => [partition, offset]));
        for (const { partition } of unset) starts.push({ topic, partition, offset: byPartition.get(partition)! });
      }
      if (starts.length > 0) await this.consumer.commitOffsets(starts);
      for (const start of starts) {
        this.handOutFrom.set(`${start.topic}/${start.partition}`, BigInt(start.offset));
        this.consumer.seek(start);
      }
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * Whether a record of a partition commitStart sent to its start is to be passed over: one before
   * that start (kafkajs read it before the seek), or one handed out already (read before the seek,
   * then read again from the start).
   */
  private handedOutAlready(topic: string, partition: number, offset: string): boolean {
    const key = `${topic}/${partition}`;
    const from = this.handOutFrom.get(key);
    if (from === undefined) return false;
    if (BigInt(offset) < from) return true;
    this.handOutFrom.set(key, BigInt(offset) + 1n);
    return false;
  }
}

/**
 * What the cluster's ACLs refused, said with the name the administrator needs to grant READ on:
 * kafkajs reports a group the user may not read (GROUP_AUTHORIZATION_FAILED) as "Failed to find
 * group coordinator", keeping the broker's answer to itself, and a topic it may not read without
 * its name. Other errors are left as they are.
 */
function refused<Failure>(url: string, { group, topics }: ConsumerOptions, error: Failure): Failure | Error {
  const { name, type, cause } = error as { name?: string; type?: string; cause?: { type?: string } };
  let resource: string;
  if (name === 'KafkaJSGroupCoordinatorNotFound' || type === 'GROUP_AUTHORIZATION_FAILED') resource = `consumer group ${JSON.stringify(group)}`;
  else if ((type ?? cause?.type) === 'TOPIC_AUTHORIZATION_FAILED') resource = `topic ${topics.map((topic) => JSON.stringify(topic)).join(' or ')}`;
  else return error;
  return new Error(`${url}: ${resource}: ${(error as Error).message} (on a cluster with ACLs: this user needs READ on it)`, { cause: error });
}

function consumedRecord(topic: string, partition: number, message: KafkaMessage): ConsumedRecord {
  return {
    topic,
    partition,
    offset: Number(message.offset),
    key: message.key ?? null,
    value: message.value ?? new Uint8Array(0),
    headers: headerBytes(message.headers ?? {}),
    timestamp: new Date(Number(message.timestamp)),
  };
}

/** kafkajs gives a header that appears several times as an array: the last one wins here. */
function headerBytes(headers: IHeaders): Headers {
  const bytes: Headers = {};
  for (const [name, value] of Object.entries(headers)) {
    const last = Array.isArray(value) ? value.at(-1) : value;
    if (last !== undefined) bytes[name] = typeof last === 'string' ? Buffer.from(last) : last;
  }
  return bytes;
}
