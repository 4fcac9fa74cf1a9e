import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { AvroCodec } from '../../bus/avro/codec.js';
import { topicNames } from '../../bus/bus.js';
import { KafkaBus } from '../../bus/kafka/kafka-bus.js';
import type { DeadLetter } from '../../bus/records.js';
import { startBroker, testConsumerTiming, type TestBroker } from '../../infra/kafka/broker.js';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { runConsumer } from '../../pipelines/consume.js';
import { runEventConsumer, type EventOutcome } from '../../pipelines/consume-events.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { putAnalysis, smallAnalysisOfHour } from '../support/analyses.js';
import { objectCreatedRecord } from '../support/object-events.js';
import { take } from '../bus/helpers.js';
import { SMALL_CONFIG } from '../model/fixtures.js';

// Topics made by an administrator who set max.message.bytes below what a record of them needs.
let broker: TestBroker;
let work: string;
before(async () => {
  [broker, work] = await Promise.all([startBroker(), mkdtemp(join(tmpdir(), 'hrrr-embed-too-large-'))]);
  await selectBackend('cpu', 'inference', silentLogger);
});
after(async () => {
  await broker.stop();
  await rm(work, { recursive: true, force: true });
});

const kafka = () => new KafkaBus({ brokers: [broker.address], log: silentLogger, consumerTiming: testConsumerTiming });
const model = () => ({ autoencoder: createAutoencoder({ config: SMALL_CONFIG }), id: 'test-models', alertThreshold: null, backend: 'cpu' });

async function createTopicWithLimit(topic: string, maxMessageBytes: number): Promise<void> {
  const admin = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, configEntries: [{ name: 'max.message.bytes', value: String(maxMessageBytes) }] }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

describe('records larger than their topic takes (max.message.bytes)', () => {
  it('run --events makes the event a dead letter and goes on to the next one, instead of failing on it at every start', async () => {
    const codec = await AvroCodec.create({ topics: topicNames('big.') });
    await createTopicWithLimit('big.dead-letters', 4096);
    const source = new FolderStore(join(work, 'events-source'));
    await putAnalysis(source, smallAnalysisOfHour(0));
    const bus = kafka();
    await bus.createTopic('big-objects');
    // Not an S3 notification, and kept whole in its dead letter (up to 64 KiB): over the topic's 4096 bytes.
    await bus.produce('big-objects', [{ key: null, value: Buffer.alloc(20_000, 'x') }, objectCreatedRecord(smallAnalysisOfHour(0).key)]);

    const stop = new AbortController();
    const outcomes: EventOutcome[] = [];
    const running = runEventConsumer(
      { source, state: new FolderStore(join(work, 'events-state')), bus, codec, model: model(), events: { topic: 'big-objects', group: 'big' }, match: /:REFC:/, stop: stop.signal },
      (outcome) => {
        outcomes.push(outcome);
        if (outcomes.length === 2) stop.abort();
      },
      { log: silentLogger, signal: AbortSignal.timeout(60_000) },
    );
    await running;
    assert.deepEqual(outcomes.map(({ kind }) => kind), ['dead-letter', 'done'], JSON.stringify(outcomes));
    assert.deepEqual(outcomes[0], { kind: 'dead-letter', hour: null, key: 'kafka:big-objects/0/0', stage: 'publish', errorClass: 'RecordTooLargeError', error: outcomes[0]!.kind === 'dead-letter' ? outcomes[0].error : '' });
    assert.match((outcomes[0] as { error: string }).error, /big\.dead-letters: a record of \d+ bytes is larger than the topic takes \(its max\.message\.bytes\)/);

    const reader = bus.consumer({ group: 'big-check', topics: ['big.dead-letters'], fromBeginning: true });
    const [record] = await take(reader, 1);
    await reader.close();
    const deadLetter = (await codec.decode(record!)).value as DeadLetter;
    assert.deepEqual([deadLetter.stage, deadLetter.errorClass, deadLetter.event], ['publish', 'RecordTooLargeError', null]);
    await bus.close();
  });

  it('the polling run makes the analysis whose embedding the topic refuses a dead letter and marks it done, instead of ending there at every start', async () => {
    const codec = await AvroCodec.create({ topics: topicNames('tiny.') });
    await createTopicWithLimit('tiny.embeddings', 64);
    const source = new FolderStore(join(work, 'polling-source'));
    for (const n of [0, 1]) await putAnalysis(source, smallAnalysisOfHour(n));
    const bus = kafka();
    try {
      const config = { source, state: new FolderStore(join(work, 'polling-state')), bus, codec, model: model(), match: /:REFC:/, from: smallAnalysisOfHour(0).time, to: smallAnalysisOfHour(1).time, once: true };
      const summary = await runConsumer(config, undefined, { log: silentLogger, signal: AbortSignal.timeout(60_000) });
      assert.deepEqual({ done: summary.done, deadLetters: summary.deadLetters }, { done: 0, deadLetters: 2 });
      const again = await runConsumer(config, undefined, { log: silentLogger, signal: AbortSignal.timeout(60_000) });
      assert.equal(again.done + again.deadLetters, 0, 'a restart repeats nothing');
    } finally {
      await bus.close();
    }
  });
});
