import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { AvroCodec } from '../../bus/avro/codec.js';
import { topicNames, type TopicBus } from '../../bus/bus.js';
import { FileBus } from '../../bus/files/file-bus.js';
import { KafkaBus } from '../../bus/kafka/kafka-bus.js';
import type { RetrainRequest } from '../../bus/records.js';
import { startBroker, testConsumerTiming, type TestBroker } from '../../infra/kafka/broker.js';
import { silentLogger } from '../../stages/stage.js';
import { retrainRequests } from '../../training/requests.js';

let broker: TestBroker;
let bus: KafkaBus;
let admin: Admin;
let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'hrrr-embed-requests-positions-'));
  broker = await startBroker();
  bus = new KafkaBus({ brokers: [broker.address], log: silentLogger, consumerTiming: testConsumerTiming });
  admin = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
});
after(async () => {
  await admin?.disconnect();
  await bus?.close();
  await broker?.stop();
  await rm(work, { recursive: true, force: true });
});

/** Sends a request for the model store "models", as a sender at `sentAt` would have (record time and requestedAt). */
async function ask(bus: TopicBus, codec: AvroCodec, reason: string, sentAt = new Date()): Promise<void> {
  const request: RetrainRequest = { requestedAt: sentAt, reason, force: false };
  const { topic, record } = await codec.encode('retrainRequests', 'models', request);
  await bus.createTopic(topic);
  await bus.produce(topic, [{ ...record, timestamp: sentAt }]);
}

const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000);

/** The reasons of the requests a trainer of `group` hears (and handles) until it has heard `count`, or for 20 s. */
async function heard(bus: TopicBus, codec: AvroCodec, group: string, count: number): Promise<string[]> {
  const reasons: string[] = [];
  const stop = new AbortController();
  const timeout = setTimeout(() => stop.abort(), 20_000);
  await retrainRequests(bus, codec, 'models', group, silentLogger)(stop.signal, (trigger) => {
    reasons.push(trigger.reason);
    void trigger.handled?.();
    if (reasons.length === count) stop.abort();
  });
  clearTimeout(timeout);
  return reasons;
}

/** The reasons a trainer of `group` hears: once it has heard `count`, it listens 5 s more for any heard twice. */
async function heardOnly(bus: TopicBus, codec: AvroCodec, group: string, count: number): Promise<string[]> {
  const reasons: string[] = [];
  const stop = new AbortController();
  let timeout = setTimeout(() => stop.abort(), 20_000);
  await retrainRequests(bus, codec, 'models', group, silentLogger)(stop.signal, (trigger) => {
    reasons.push(trigger.reason);
    void trigger.handled?.();
    if (reasons.length === count) {
      clearTimeout(timeout);
      timeout = setTimeout(() => stop.abort(), 5_000);
    }
  });
  clearTimeout(timeout);
  return reasons;
}

describe("the trainer's place on retrain-requests where its group has none, or the log no longer has it", () => {
  it("a new group hears each request of the last day once, when they are the topic's first records and when older ones come before them", async () => {
    const codec = await AvroCodec.create({ topics: topicNames('once.') });
    await ask(bus, codec, 'first', hoursAgo(2));
    await ask(bus, codec, 'second', hoursAgo(1));
    assert.deepEqual(await heardOnly(bus, codec, 'trainer-once', 2), ['first', 'second']);
    await ask(bus, codec, 'later');
    assert.deepEqual(await heardOnly(bus, codec, 'trainer-once-later', 3), ['first', 'second', 'later'], 'another new group, the topic now longer');
    const after = await AvroCodec.create({ topics: topicNames('once-after-stale.') });
    await ask(bus, after, 'stale', hoursAgo(25));
    await ask(bus, after, 'recent', hoursAgo(1));
    await ask(bus, after, 'newest');
    assert.deepEqual(await heardOnly(bus, after, 'trainer-once-after-stale', 2), ['recent', 'newest']);
  });

  it("requests still retained are heard when retention deleted the group's place (its offset fell below the log start)", async () => {
    const codec = await AvroCodec.create({ topics: topicNames('retained.') });
    const topic = codec.topics.retrainRequests;
    for (const reason of ['done', 'deleted', 'retained']) await ask(bus, codec, reason);
    // The group had done the first; retention then deleted the second, sent while its trainers were down.
    await admin.setOffsets({ groupId: 'trainer-retained', topic, partitions: [{ partition: 0, offset: '1' }] });
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '2' }] });
    assert.deepEqual(await heard(bus, codec, 'trainer-retained', 1), ['retained']);
  });

  it('a request sent within the last day while no trainer ran is heard when the group has no offsets (they expired); an older one is not', async () => {
    const codec = await AvroCodec.create({ topics: topicNames('expired.') });
    const topic = codec.topics.retrainRequests;
    // The group's last trainer did a request 8 days ago; none ran since.
    await ask(bus, codec, 'done', hoursAgo(8 * 24));
    await admin.setOffsets({ groupId: 'trainer-expired', topic, partitions: [{ partition: 0, offset: '1' }] });
    await ask(bus, codec, 'stale', hoursAgo(25));
    await ask(bus, codec, 'recent', hoursAgo(1));
    // No member for offsets.retention.minutes: Kafka removed the group's offsets, as this does at once.
    await admin.deleteGroups(['trainer-expired']);
    assert.deepEqual(await heard(bus, codec, 'trainer-expired', 1), ['recent']);
  });

  it('on the file bus too, a new trainer group hears the requests of the last day, and not older ones', async () => {
    const files = new FileBus(join(work, 'bus'));
    const codec = await AvroCodec.create({ topics: topicNames('new-group.') });
    try {
      await ask(files, codec, 'stale', hoursAgo(25));
      await ask(files, codec, 'recent', hoursAgo(1));
      assert.deepEqual(await heard(files, codec, 'trainer-new', 1), ['recent']);
    } finally {
      await files.close();
    }
  });
});
