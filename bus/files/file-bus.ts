import { open, readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { crc32 } from 'node:zlib';
import { isTopicName, nextOffsets, type BusConsumer, type ConsumedRecord, type ConsumerOptions, type OutgoingRecord, type ProducedRecord, type TopicBus, type TopicOptions } from '../bus.js';
import { makeDurableFolder } from '../../store/durable-folder.js';
import { writeDurably } from './durable.js';
import { GroupOffsets } from './group-offsets.js';
import { PartitionReader, PartitionWriter } from './partition-log.js';

/**
 * The embedded default bus: topics are append-only files under a data folder, so the main job runs
 * with nothing else installed. Layout:
 *
 *   DATA/topics/TOPIC/partitions   the partition count
 *   DATA/topics/TOPIC/N.log        partition N, records framed with length and checksum
 *   DATA/groups/GROUP.json         a consumer group's committed offsets
 *
 * One process produces to a data folder at a time; any number may read it while it is written.
 * A consumer group here has one member: it reads every partition of its topics.
 */
export class FileBus implements TopicBus {
  readonly url: string;
  private readonly root: string;
  private readonly writers = new Map<string, PartitionWriter>();
  private readonly groups = new Map<string, GroupOffsets>();
  private readonly consumers = new Set<FileConsumer>();
  private roundRobin = 0;

  constructor(
    root: string,
    /** How often a consumer that has read everything looks for new records. */
    readonly pollIntervalMs = 20,
  ) {
    this.root = resolve(root);
    this.url = pathToFileURL(this.root).href;
  }

  async topics(): Promise<string[]> {
    let names;
    try {
      names = await readdir(join(this.root, 'topics'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const created = await Promise.all(names.map(async (name) => isTopicName(name) && (await this.partitionCount(name)) !== undefined));
    return names.filter((_, i) => created[i]);
  }

  async createTopic(topic: string, options: TopicOptions = {}): Promise<void> {
    const partitions = options.partitions ?? 1;
    if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`topic ${topic}: ${partitions} is not a partition count`);
    if ((await this.partitionCount(topic)) !== undefined) return;
    await makeDurableFolder(this.topicFolder(topic));
    for (let partition = 0; partition < partitions; partition++) await (await open(this.partitionPath(topic, partition), 'a')).close();
    await writeDurably(join(this.topicFolder(topic), 'partitions'), `${partitions}\n`);
  }

  async produce(topic: string, records: OutgoingRecord[]): Promise<ProducedRecord[]> {
    const partitions = await this.partitionCount(topic);
    if (partitions === undefined) throw new Error(`${this.url}: no topic ${JSON.stringify(topic)} (create it first)`);
    const byPartition = new Map<number, number[]>();
    records.forEach((record, index) => {
      const partition = record.key ? crc32(record.key) % partitions : this.roundRobin++ % partitions;
      byPartition.set(partition, [...(byPartition.get(partition) ?? []), index]);
    });
    const produced: ProducedRecord[] = new Array(records.length);
    await Promise.all(
      [...byPartition].map(async ([partition, indexes]) => {
        const first = await this.writer(topic, partition).append(
          indexes.map((index) => {
            const { key, value, headers = {}, timestamp = new Date() } = records[index]!;
            return { key, value, headers, timestamp };
          }),
        );
        indexes.forEach((index, i) => (produced[index] = { topic, partition, offset: first + i }));
      }),
    );
    return produced;
  }

  consumer(options: ConsumerOptions): BusConsumer {
    for (const topic of options.topics) this.topicFolder(topic);
    let offsets = this.groups.get(options.group);
    if (!offsets) {
      offsets = new GroupOffsets(join(this.root, 'groups', `${encodeURIComponent(options.group)}.json`));
      this.groups.set(options.group, offsets);
    }
    const consumer = new FileConsumer(this, options, offsets, () => this.consumers.delete(consumer));
    this.consumers.add(consumer);
    return consumer;
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((consumer) => consumer.close()));
    await Promise.all([...this.writers.values()].map((writer) => writer.close()));
    this.writers.clear();
  }

  /** The topic's partition count, or undefined when there is no such topic yet. */
  async partitionCount(topic: string): Promise<number | undefined> {
    try {
      return Number((await readFile(join(this.topicFolder(topic), 'partitions'), 'utf8')).trim());
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  partitionPath(topic: string, partition: number): string {
    return join(this.topicFolder(topic), `${partition}.log`);
  }

  private topicFolder(topic: string): string {
    if (!isTopicName(topic)) throw new Error(`${JSON.stringify(topic)} is not a valid topic name`);
    return join(this.root, 'topics', topic);
  }

  private writer(topic: string, partition: number): PartitionWriter {
    const path = this.partitionPath(topic, partition);
    let writer = this.writers.get(path);
    if (!writer) {
      writer = new PartitionWriter(path);
      this.writers.set(path, writer);
    }
    return writer;
  }
}

interface OpenPartition {
  topic: string;
  partition: number;
  reader: PartitionReader;
}

class FileConsumer implements BusConsumer {
  private readonly stopped = new AbortController();
  // Kept across records() calls, so that a new iteration goes on where the last one stopped.
  private readonly open = new Map<string, OpenPartition>();
  private readonly pending: ConsumedRecord[] = [];
  private firstLook = true;

  constructor(
    private readonly bus: FileBus,
    private readonly options: ConsumerOptions,
    private readonly offsets: GroupOffsets,
    private readonly onClose: () => void,
  ) {}

  async *records(signal?: AbortSignal): AsyncIterable<ConsumedRecord> {
    const stop = signal ? AbortSignal.any([signal, this.stopped.signal]) : this.stopped.signal;
    while (!stop.aborted) {
      if (this.pending.length === 0) await this.readAvailable();
      const record = this.pending.shift();
      if (record) yield record;
      else await sleep(this.bus.pollIntervalMs, undefined, { signal: stop }).catch(() => {});
    }
  }

  /** What has been written to each partition since the last read, up to a chunk per partition. */
  private async readAvailable(): Promise<void> {
    await this.openNewPartitions();
    for (const { topic, partition, reader } of this.open.values()) {
      for (const record of await reader.read()) this.pending.push({ topic, partition, ...record });
    }
  }

  async commit(records: ConsumedRecord | ConsumedRecord[]): Promise<void> {
    await this.offsets.commit(nextOffsets(Array.isArray(records) ? records : [records]).values());
  }

  async close(): Promise<void> {
    this.stopped.abort();
    await Promise.all([...this.open.values()].map(({ reader }) => reader.close()));
    this.open.clear();
    this.onClose();
  }

  /**
   * Opens a reader for each partition not yet read: at the group's committed offset, else at the
   * start or (partitions there when the consumer first looked, unless fromBeginning) at the end,
   * or at the first record of lookBackMs before.
   */
  private async openNewPartitions(): Promise<void> {
    for (const topic of this.options.topics) {
      const partitions = (await this.bus.partitionCount(topic)) ?? 0;
      for (let partition = 0; partition < partitions; partition++) {
        const id = `${topic}/${partition}`;
        if (this.open.has(id)) continue;
        const committed = await this.offsets.next(topic, partition);
        const start = committed ?? (this.options.fromBeginning || !this.firstLook ? 0 : 'end');
        const path = this.bus.partitionPath(topic, partition);
        const { commitStart } = this.options;
        const reader = start === 'end' && commitStart ? await PartitionReader.since(path, new Date(Date.now() - commitStart.lookBackMs)) : await PartitionReader.at(path, start);
        if (committed === undefined && commitStart) {
          await this.offsets.commit([{ topic, partition, offset: reader.offset }]).catch(async (error: unknown) => {
            await reader.close();
            throw error;
          });
        }
        this.open.set(id, { topic, partition, reader });
      }
    }
    if (this.firstLook) this.options.onJoin?.();
    this.firstLook = false;
  }
}
