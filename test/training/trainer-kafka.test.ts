import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AvroCodec } from '../../bus/avro/codec.js';
import { topicNames } from '../../bus/bus.js';
import { KafkaBus } from '../../bus/kafka/kafka-bus.js';
import type { ModelVersion } from '../../bus/records.js';
import { startBroker, testConsumerTiming, type TestBroker } from '../../infra/kafka/broker.js';
import { selectBackend } from '../../model/backends.js';
import { promotedVersion } from '../../model/versions.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { announcePromotion } from '../../training/announce.js';
import { requestRetraining, retrainRequests } from '../../training/requests.js';
import { retrain } from '../../training/retrain.js';
import { Schedule } from '../../training/schedule.js';
import { runTrainer } from '../../training/trainer.js';
import { take } from '../bus/helpers.js';
import { smallFresh, smallRun } from './fixtures.js';
import { smallShards } from './memory-shards.js';

const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-trainer-kafka-'));
let broker: TestBroker;
let bus: KafkaBus;
before(async () => {
  await selectBackend('cpu', 'training', silentLogger);
  broker = await startBroker();
  bus = new KafkaBus({ brokers: [broker.address], log: silentLogger, consumerTiming: testConsumerTiming });
});
after(async () => {
  await bus?.close();
  await broker?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('the trainer on a real Kafka broker', () => {
  it('a request on retrain-requests starts a retraining, whose promotion comes back on model-versions in Avro; a malformed request before it is passed over', async () => {
    const codec = await AvroCodec.create({ topics: topicNames('kafka-test.') });
    const models = new FolderStore(join(work, 'models'));
    const shards = smallShards(8, 6);
    const stop = new AbortController();
    let asked = false;
    const trainer = runTrainer({
      schedule: Schedule.parse('0 0 1 1 *'),
      log: silentLogger,
      stop: stop.signal,
      requests: retrainRequests(bus, codec, models.url, 'trainer', silentLogger),
      retrain: async (trigger, signal) => {
        asked = true;
        await retrain(smallRun(models, shards, { runId: 'asked', fresh: smallFresh(), steps: 10, stepsPerCheckpoint: 5, force: trigger.force, signal, announce: (version) => announcePromotion(bus, codec, version) }));
        stop.abort();
      },
    });
    // The trainer's group reads requests from now on, once it has joined: ask until it hears,
    // each time after a record that is no request.
    await bus.createTopic(codec.topics.retrainRequests);
    const deadline = Date.now() + 60_000;
    while (!asked) {
      if (Date.now() > deadline) throw new Error('the trainer heard no request within 60 s');
      await bus.produce(codec.topics.retrainRequests, [{ key: null, value: new TextEncoder().encode('retrain please') }]);
      await requestRetraining(bus, codec, models.url, { requestedAt: new Date(), reason: 'test', force: false });
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await trainer;

    const consumer = bus.consumer({ group: 'reader', topics: [codec.topics.modelVersions], fromBeginning: true });
    const [record] = await take(consumer, 1);
    await consumer.close();
    const { key, value } = (await codec.decode(record!)) as { key: string; value: ModelVersion };
    assert.equal(key, models.url);
    assert.equal(value.version, await promotedVersion(models));
    assert.ok(value.alertThreshold > 0 && value.validationLoss! > 0);
  });

  it('a request still waiting behind a run when its trainer stops is heard by the next trainer of the group; the request whose run ended is not', async () => {
    const codec = await AvroCodec.create({ topics: topicNames('kafka-test-waiting.') });
    const group = 'trainer-waiting';
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const until = async (done: () => boolean, what: string) => {
      for (const deadline = Date.now() + 60_000; !done(); await sleep(100)) if (Date.now() > deadline) throw new Error(`${what} within 60 s`);
    };
    /** A trainer whose runs last until it stops; what it queued and what it ran, by reason. */
    const trainer = () => {
      const stop = new AbortController();
      const queued: string[] = [];
      const ran: string[] = [];
      const done = runTrainer({
        schedule: Schedule.parse('0 0 1 1 *'),
        log: silentLogger,
        stop: stop.signal,
        requests: (signal, push) => retrainRequests(bus, codec, 'models', group, silentLogger)(signal, (trigger) => (queued.push(trigger.reason), push(trigger))),
        retrain: async (trigger, signal) => {
          ran.push(trigger.reason);
          if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        },
      });
      return { stop: () => stop.abort(), done, queued, ran };
    };
    const ask = (reason: string) => requestRetraining(bus, codec, 'models', { requestedAt: new Date(), reason, force: false });

    const first = trainer();
    await bus.createTopic(codec.topics.retrainRequests);
    // The group reads from when it has joined: ask until the first trainer runs one.
    for (let n = 0; first.ran.length === 0; n++) {
      if (n > 120) throw new Error('the first trainer heard no request within 60 s');
      await ask(`running ${n}`);
      await sleep(500);
    }
    await ask('waiting');
    await until(() => first.queued.includes('waiting'), 'the first trainer did not queue the second request');
    first.stop();
    await first.done;
    assert.equal(first.ran.length, 1);
    assert.match(first.ran[0]!, /^running \d+$/);

    const next = trainer();
    try {
      await until(() => next.ran.length > 0, 'the next trainer heard nothing');
    } finally {
      next.stop();
      await next.done;
    }
    assert.deepEqual(next.ran, ['waiting']);
  });
});
