import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AvroCodec } from '../../bus/avro/codec.js';
import { topicNames, type TopicBus } from '../../bus/bus.js';
import { FileBus } from '../../bus/files/file-bus.js';
import { KafkaBus } from '../../bus/kafka/kafka-bus.js';
import { startBroker, testConsumerTiming, type TestBroker } from '../../infra/kafka/broker.js';
import { silentLogger } from '../../stages/stage.js';
import { requestRetraining, retrainRequests } from '../../training/requests.js';
import type { Trigger } from '../../training/trainer.js';

let work: string;
let broker: TestBroker;
before(async () => {
  [work, broker] = await Promise.all([mkdtemp(join(tmpdir(), 'hrrr-embed-requests-first-life-')), startBroker()]);
});
after(async () => {
  await broker?.stop();
  await rm(work, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const buses: Array<[string, () => TopicBus]> = [
  ['the file bus', () => new FileBus(join(work, 'bus'))],
  ['a real Kafka broker', () => new KafkaBus({ brokers: [broker.address], log: silentLogger, consumerTiming: testConsumerTiming })],
];

for (const [name, openBus] of buses) {
  describe(`retrain requests on ${name}`, () => {
    it('a request heard by the first trainer of a group, which died before committing anything, is heard by the next trainer of the group', { timeout: 120_000 }, async () => {
      const bus = openBus();
      const codec = await AvroCodec.create({ topics: topicNames(`first-life-${name.length}.`) });
      const group = 'trainer-first-life';
      const ask = (reason: string) => requestRetraining(bus, codec, 'models', { requestedAt: new Date(), reason, force: false });
      try {
        await bus.createTopic(codec.topics.retrainRequests);
        // The first trainer hears a request and dies in its run: it handles (commits) nothing.
        const died = new AbortController();
        const heardFirst: Trigger[] = [];
        const first = retrainRequests(bus, codec, 'models', group, silentLogger)(died.signal, (trigger) => void heardFirst.push(trigger));
        // The group reads from when it has joined: ask until the first trainer hears one.
        for (let n = 0; heardFirst.length === 0; n++) {
          if (n > 120) throw new Error('the first trainer heard no request within 60 s');
          await ask(`request ${n}`);
          await sleep(500);
        }
        died.abort();
        await first;

        const heardNext: Trigger[] = [];
        const next = new AbortController();
        const timeout = setTimeout(() => next.abort(), 30_000);
        await retrainRequests(bus, codec, 'models', group, silentLogger)(next.signal, (trigger) => {
          heardNext.push(trigger);
          next.abort();
        });
        clearTimeout(timeout);
        assert.deepEqual(heardNext.map((trigger) => trigger.reason), [heardFirst[0]!.reason]);
      } finally {
        await bus.close();
      }
    });
  });
}
