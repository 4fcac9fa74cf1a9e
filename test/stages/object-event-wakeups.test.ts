import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AvroCodec } from '../../bus/avro/codec.js';
import { KafkaBus } from '../../bus/kafka/kafka-bus.js';
import type { DeadLetter } from '../../bus/records.js';
import { startBroker, testConsumerTiming, type TestBroker } from '../../infra/kafka/broker.js';
import { createDiscoverySource } from '../../stages/sources/discover.js';
import { formatHour, HOUR_MS } from '../../stages/sources/hrrr-archive.js';
import { followObjectEvents } from '../../stages/sources/object-event-wakeups.js';
import { Wakeup } from '../../stages/sources/wakeup.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { analysisOfHour, hour, seedAnalyses } from '../support/analyses.js';
import { take } from '../bus/helpers.js';

let broker: TestBroker;
let bus: KafkaBus;
let folder: string;
before(async () => {
  broker = await startBroker();
  bus = new KafkaBus({ brokers: [broker.address], log: silentLogger, consumerTiming: testConsumerTiming });
  folder = await mkdtemp(join(tmpdir(), 'hrrr-embed-events-'));
});
after(async () => {
  await bus.close();
  await broker.stop();
  await rm(folder, { recursive: true, force: true });
});

const snsNotification = (key: string) =>
  JSON.stringify({
    Type: 'Notification',
    TopicArn: 'arn:aws:sns:us-east-1:123901341784:NewHRRRObject',
    Message: JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'noaa-hrrr-bdp-pds' }, object: { key, size: 1 } } }] }),
  });

describe('discovery driven by object-created events on a real Kafka topic', () => {
  it('an event for a new analysis makes discovery find it at once; a malformed event goes to dead letters without blocking it', async () => {
    const events = 'hrrr-object-events';
    await bus.createTopic(events);
    const codec = await AvroCodec.create();
    await bus.createTopic(codec.topics.deadLetters);
    const store = new FolderStore(folder);
    const wakeup = new Wakeup();
    const stop = new AbortController();
    const context = { log: silentLogger, signal: stop.signal };

    const consumer = bus.consumer({ group: 'discovery', topics: [events], fromBeginning: true });
    const following = followObjectEvents(
      {
        consumer,
        wakeup,
        deadLetter: async (record, error) => {
          const letter: DeadLetter = { failedAt: new Date(), stage: 'object-events', errorClass: error.name, message: error.message, source: null };
          const { topic, record: out } = await codec.encode('deadLetters', `kafka://${record.topic}/${record.partition}/${record.offset}`, letter);
          await bus.produce(topic, [out]);
        },
      },
      context,
    ).catch((error) => (stop.signal.aborted ? undefined : Promise.reject(error)));

    // Polling once an hour: only an event can make discovery look again in time.
    const discovery = createDiscoverySource({ store, from: hour(1), clock: () => hour(1).getTime() + HOUR_MS, pollIntervalMs: 3_600_000, wakeup });
    const found = (async () => {
      for await (const analysis of discovery.run({ log: silentLogger, signal: AbortSignal.any([stop.signal, AbortSignal.timeout(60_000)]) })) return analysis;
    })();

    await new Promise((resolve) => setTimeout(resolve, 200));
    await seedAnalyses(store, [1]);
    await bus.produce(events, [{ key: null, value: Buffer.from('{"Records": "not a list"}') }, { key: null, value: Buffer.from(snsNotification(analysisOfHour(1).key)) }]);

    assert.equal(formatHour((await found)!.time), '2019-09-20T01Z');
    const deadLetters = bus.consumer({ group: 'check', topics: [codec.topics.deadLetters], fromBeginning: true });
    const [letter] = await take(deadLetters, 1);
    const { key, value } = await codec.decode(letter!);
    assert.equal(key, `kafka://${events}/0/0`);
    assert.match((value as DeadLetter).message, /no "Records" array/);
    await deadLetters.close();

    stop.abort();
    await following;
    await consumer.close();
  });
});
