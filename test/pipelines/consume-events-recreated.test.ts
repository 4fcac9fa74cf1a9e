import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { AvroCodec } from '../../bus/avro/codec.js';
import { topicNames } from '../../bus/bus.js';
import { KafkaBus } from '../../bus/kafka/kafka-bus.js';
import { startBroker, testConsumerTiming, type TestBroker } from '../../infra/kafka/broker.js';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { runEventConsumer, type EventOutcome } from '../../pipelines/consume-events.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { putAnalysis, smallAnalysisOfHour } from '../support/analyses.js';
import { objectCreatedRecord } from '../support/object-events.js';
import { SMALL_CONFIG } from '../model/fixtures.js';

let broker: TestBroker;
let work: string;
before(async () => {
  [broker, work] = await Promise.all([startBroker(), mkdtemp(join(tmpdir(), 'hrrr-embed-events-recreated-'))]);
  await selectBackend('cpu', 'inference', silentLogger);
});
after(async () => {
  await broker.stop();
  await rm(work, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('run --events when its events topic is deleted and created again', () => {
  it('a running consumer, whose place is past the new topic\'s first events, ends with an error saying so instead of skipping them; started again, it reads the new topic from its start', async () => {
    const source = new FolderStore(join(work, 'source'));
    for (let n = 0; n < 6; n++) await putAnalysis(source, smallAnalysisOfHour(n));
    const bus = new KafkaBus({ brokers: [broker.address], log: silentLogger, consumerTiming: testConsumerTiming });
    const admin = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await bus.createTopic('objects');
    const model = { autoencoder: createAutoencoder({ config: SMALL_CONFIG }), id: 'test-models', alertThreshold: null, backend: 'cpu' };
    const config = { source, state: new FolderStore(join(work, 'state')), bus, codec: await AvroCodec.create({ topics: topicNames('recreated.') }), model, events: { topic: 'objects', group: 'embedders' }, match: /:REFC:/ };
    const done: string[] = [];
    const run = (stop: AbortSignal) => runEventConsumer({ ...config, stop }, (outcome: EventOutcome) => void (outcome.kind === 'done' && done.push(outcome.hour)), { log: silentLogger, signal: AbortSignal.timeout(120_000) });
    const until = async (count: number, what: string) => {
      for (const deadline = Date.now() + 60_000; done.length < count; await sleep(100)) if (Date.now() > deadline) throw new Error(`${what}: done ${done.join(', ')}`);
    };
    const events = (hours: number[]) => bus.produce('objects', hours.map((n) => objectCreatedRecord(smallAnalysisOfHour(n).key)));
    const stop = new AbortController();
    try {
      const first = run(stop.signal);
      await events([0, 1]);
      await until(2, 'the first topic\'s events were not all handled');
      await admin.deleteTopics({ topics: ['objects'] });
      // Created again once the deletion is through (until then the broker refuses).
      for (let tries = 1; !(await admin.createTopics({ topics: [{ topic: 'objects' }], waitForLeaders: true }).catch(() => false)); tries++) {
        if (tries === 50) throw new Error('the topic could not be created again');
        await sleep(200);
      }
      // The consumer's place, 2, is the new topic's third event: the two before it come first.
      await events([2, 3, 4, 5]);
      const ended = first.then(() => 'ended without error', (error: Error) => error.message);
      const skipped = until(4, 'nothing more handled').then(() => `handled ${done.join(', ')}`, (error: Error) => error.message);
      assert.match(await Promise.race([ended, skipped]), /deleted and created again/);
      assert.deepEqual(done, ['2019-09-20T00Z', '2019-09-20T01Z']);

      const again = run(stop.signal);
      await until(6, 'the new topic\'s events were not all handled');
      stop.abort();
      await again;
    } finally {
      stop.abort();
      await admin.disconnect();
      await bus.close();
    }
    assert.deepEqual(done, [0, 1, 2, 3, 4, 5].map((n) => `2019-09-20T0${n}Z`));
  });
  it('a new group whose first event follows an aborted transaction (an events producer with exactly-once, its markers taking offsets) handles it: no topic was created again', async () => {
    const source = new FolderStore(join(work, 'source-aborted'));
    await putAnalysis(source, smallAnalysisOfHour(1));
    const bus = new KafkaBus({ brokers: [broker.address], log: silentLogger, consumerTiming: testConsumerTiming });
    const kafka = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING });
    await bus.createTopic('objects-aborted');
    const bridge = kafka.producer({ transactionalId: 'events-bridge', idempotent: true, maxInFlightRequests: 1 });
    await bridge.connect();
    const model = { autoencoder: createAutoencoder({ config: SMALL_CONFIG }), id: 'test-models', alertThreshold: null, backend: 'cpu' };
    const config = { source, state: new FolderStore(join(work, 'state-aborted')), bus, codec: await AvroCodec.create({ topics: topicNames('aborted.') }), model, events: { topic: 'objects-aborted', group: 'new-embedders' }, match: /:REFC:/ };
    const done: string[] = [];
    const stop = new AbortController();
    try {
      // Offset 0 an aborted event, 1 its abort marker: the first event a reader sees is at 2.
      const aborted = await bridge.transaction();
      const { key, value } = objectCreatedRecord(smallAnalysisOfHour(0).key);
      await aborted.send({ topic: 'objects-aborted', messages: [{ key: Buffer.from(key!), value: Buffer.from(value) }] });
      await aborted.abort();
      await bus.produce('objects-aborted', [objectCreatedRecord(smallAnalysisOfHour(1).key)]);
      const running = runEventConsumer({ ...config, stop: stop.signal }, (outcome: EventOutcome) => void (outcome.kind === 'done' && done.push(outcome.hour)), { log: silentLogger, signal: AbortSignal.timeout(120_000) });
      const ended = running.then(() => 'ended without error', (error: Error) => error.message);
      for (const deadline = Date.now() + 60_000; done.length < 1 && Date.now() < deadline; ) {
        const result = await Promise.race([ended, sleep(100).then(() => undefined)]);
        if (result !== undefined) assert.fail(`the consumer ended before handling the event: ${result}`);
      }
      assert.deepEqual(done, ['2019-09-20T01Z']);
      stop.abort();
      await running;
    } finally {
      stop.abort();
      await bridge.disconnect();
      await bus.close();
    }
  });
});
