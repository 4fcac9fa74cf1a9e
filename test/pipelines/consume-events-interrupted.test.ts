import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AvroCodec } from '../../bus/avro/codec.js';
import { topicNames, type TopicBus } from '../../bus/bus.js';
import { FileBus } from '../../bus/files/file-bus.js';
import { KafkaBus } from '../../bus/kafka/kafka-bus.js';
import type { KafkaConsumer } from '../../bus/kafka/kafka-consumer.js';
import { Kafka, logLevel } from 'kafkajs';
import { startBroker, testConsumerTiming, type TestBroker } from '../../infra/kafka/broker.js';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { runEventConsumer, type EventConsumerConfig, type EventOutcome } from '../../pipelines/consume-events.js';
import type { StageInstrument } from '../../pipelines/ingest.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import type { GetOptions } from '../../store/object-store.js';
import { putAnalysis, smallAnalysisOfHour } from '../support/analyses.js';
import { objectCreatedRecord } from '../support/object-events.js';
import { take } from '../bus/helpers.js';
import { SMALL_CONFIG } from '../model/fixtures.js';

// One real broker for the file; each case has its own topic prefix, events topic and group.
let broker: TestBroker;
let work: string;
before(async () => {
  [broker, work] = await Promise.all([startBroker(), mkdtemp(join(tmpdir(), 'hrrr-embed-interrupted-'))]);
  await selectBackend('cpu', 'inference', silentLogger);
});
after(async () => {
  await broker.stop();
  await rm(work, { recursive: true, force: true });
});

const kafka = () => new KafkaBus({ brokers: [broker.address], log: silentLogger, consumerTiming: testConsumerTiming });
const smallModel = () => ({ autoencoder: createAutoencoder({ config: SMALL_CONFIG }), id: 'test-models', alertThreshold: null, backend: 'cpu' });
const keyOf = (n: number) => smallAnalysisOfHour(n).key;
const isoHour = (n: number) => smallAnalysisOfHour(n).time.toISOString();
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !condition(); await pause(50)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
  }
}

/** Runs `before(key, context)` ahead of each fetch: to stop, abort or slow the consumer in the middle of an analysis. */
const beforeFetch =
  (before: (key: string) => void | Promise<void>): StageInstrument =>
  (stage) =>
    stage.name !== 'fetch'
      ? stage
      : {
          name: stage.name,
          async *process(input, context) {
            await before((input as { key: string }).key);
            yield* stage.process(input, context);
          },
        };

/** A folder store that, as S3 does, gives up a read whose signal has aborted. */
class AbortableFolder extends FolderStore {
  override async get(key: string, options: GetOptions = {}): Promise<Uint8Array> {
    options.signal?.throwIfAborted();
    return super.get(key, options);
  }
}

/** A case's sources, codec and consumer config (less its bus), with analyses of these hours in the source. */
async function setUp(name: string, hours: number[], bus: TopicBus): Promise<{ codec: AvroCodec; config: Omit<EventConsumerConfig, 'bus'> }> {
  const codec = await AvroCodec.create({ topics: topicNames(`${name}.`) });
  const source = new AbortableFolder(join(work, `${name}-source`));
  for (const n of hours) await putAnalysis(source, smallAnalysisOfHour(n));
  await bus.createTopic(`${name}-objects`, { partitions: 2 });
  return { codec, config: { source, state: new FolderStore(join(work, `${name}-state`)), codec, model: smallModel(), events: { topic: `${name}-objects`, group: name }, match: /:REFC:/ } };
}

/** The valid times of the first `count` embeddings on the topic, in the order read. */
async function embeddedHours(bus: TopicBus, codec: AvroCodec, count: number): Promise<string[]> {
  const reader = bus.consumer({ group: `check-${Math.random()}`, topics: [codec.topics.embeddings], fromBeginning: true });
  const records = await take(reader, count);
  await reader.close();
  return Promise.all(records.map(async (record) => ((await codec.decode(record)).value as { validTime: Date }).validTime.toISOString()));
}

for (const kind of ['kafka', 'files'] as const) {
  describe(`the event consumer interrupted, on the ${kind} bus`, () => {
    const openBus = (name: string) => (kind === 'kafka' ? kafka() : new FileBus(join(work, `${name}-bus`), 5));

    it('a shutdown with an event in hand finishes and commits it; the next run goes on after it, and each analysis is published once', async () => {
      const name = `${kind}-drain`;
      const admin = openBus(name);
      const { codec, config } = await setUp(name, [0, 1, 2], admin);
      await admin.produce(config.events.topic, [0, 1, 2].map((n) => objectCreatedRecord(keyOf(n))));

      const stop = new AbortController();
      const first: EventOutcome[] = [];
      const firstBus = openBus(name);
      await runEventConsumer({ ...config, bus: firstBus, stop: stop.signal, instrument: beforeFetch((key) => void (key === keyOf(1) && stop.abort())) }, (outcome) => first.push(outcome), {
        log: silentLogger,
        signal: AbortSignal.timeout(60_000),
      });
      await firstBus.close();
      const firstKeys = first.map((outcome) => outcome.kind === 'done' && outcome.key);
      assert.ok(firstKeys.includes(keyOf(1)), `the event in hand was finished: ${JSON.stringify(first)}`);

      const stopAgain = new AbortController();
      const second: EventOutcome[] = [];
      const secondBus = openBus(name);
      const running = runEventConsumer({ ...config, bus: secondBus, stop: stopAgain.signal }, (outcome) => second.push(outcome), { log: silentLogger, signal: AbortSignal.timeout(60_000) });
      await until(() => first.length + second.length >= 3, 'every event is done');
      stopAgain.abort();
      await running;
      await secondBus.close();
      assert.deepEqual([...first, ...second].map((outcome) => outcome.kind === 'done' && outcome.key).sort(), [0, 1, 2].map(keyOf), 'each event done once');
      assert.deepEqual((await embeddedHours(admin, codec, 3)).sort(), [0, 1, 2].map(isoHour));
      await admin.close();
    });

    it('a shutdown whose drain time ran out with an event in hand commits nothing for it and makes no dead letter: the next run does it', async () => {
      const name = `${kind}-deadline`;
      const admin = openBus(name);
      const { codec, config } = await setUp(name, [0, 1], admin);
      await admin.produce(config.events.topic, [0, 1].map((n) => objectCreatedRecord(keyOf(n))));

      const abort = new AbortController();
      const first: EventOutcome[] = [];
      const firstBus = openBus(name);
      const cut = runEventConsumer({ ...config, bus: firstBus, instrument: beforeFetch((key) => void (key === keyOf(1) && abort.abort(new Error('analyses still in flight after 0 s')))) }, (outcome) => first.push(outcome), {
        log: silentLogger,
        signal: abort.signal,
      });
      await assert.rejects(cut, /still in flight/);
      await firstBus.close();
      assert.ok(first.every((outcome) => outcome.key !== keyOf(1)), `nothing was reported for the event cut short: ${JSON.stringify(first)}`);

      const stop = new AbortController();
      const second: EventOutcome[] = [];
      const secondBus = openBus(name);
      const running = runEventConsumer({ ...config, bus: secondBus, stop: stop.signal }, (outcome) => second.push(outcome), { log: silentLogger, signal: AbortSignal.timeout(60_000) });
      await until(() => second.some((outcome) => outcome.key === keyOf(1)), 'the next run handles the event cut short');
      stop.abort();
      await running;
      await secondBus.close();
      assert.deepEqual(
        [...first, ...second].map((outcome) => [outcome.kind, outcome.key]).sort(),
        [0, 1].map((n) => ['done', keyOf(n)]),
      );
      assert.deepEqual((await embeddedHours(admin, codec, 2)).sort(), [0, 1].map(isoHour));
      await admin.close();
    });
  });
}
describe('the event consumer on Kafka through a rebalance', () => {
  it('a member joins while the other is in the middle of an event: the partitions move, and each analysis is published once', async () => {
    const hours = [0, 1, 2, 3, 4, 5, 6, 7];
    const admin = kafka();
    const { codec, config } = await setUp('rebalance', hours, admin);
    const slow = beforeFetch(() => pause(400));
    const members = ['a', 'b'].map(() => {
      const bus = kafka();
      return { bus, consumer: bus.consumer({ group: config.events.group, topics: [config.events.topic], fromBeginning: true }) as KafkaConsumer, stop: new AbortController(), outcomes: [] as EventOutcome[] };
    });
    const start = (member: (typeof members)[number]) =>
      runEventConsumer({ ...config, bus: member.bus, consumer: member.consumer, stop: member.stop.signal, instrument: slow }, (outcome) => member.outcomes.push(outcome), { log: silentLogger, signal: AbortSignal.timeout(90_000) });
    const [a, b] = members as [(typeof members)[number], (typeof members)[number]];

    const running = [start(a)];
    await admin.produce(config.events.topic, hours.map((n) => objectCreatedRecord(keyOf(n))));
    await until(() => a.outcomes.length >= 1, 'the first member has done an event');
    running.push(start(b));
    const done = () => members.flatMap((member) => member.outcomes).filter((outcome) => outcome.kind === 'done');
    await until(() => new Set(done().map((outcome) => outcome.key)).size === hours.length, 'every event is done');
    for (const member of members) member.stop.abort();
    await Promise.all(running);
    await Promise.all(members.map((member) => member.bus.close()));

    assert.ok(b.consumer.assignment()[config.events.topic]?.length, 'the second member was given a partition');
    assert.equal(done().length, hours.length, `each event reported done once: ${JSON.stringify(members.map((member) => member.outcomes))}`);
    // One more event after all of them: read up to its embedding, nothing may come twice before it.
    await putAnalysis(config.source, smallAnalysisOfHour(8));
    const last = { bus: kafka(), stop: new AbortController(), outcomes: [] as EventOutcome[] };
    await admin.produce(config.events.topic, [objectCreatedRecord(keyOf(8))]);
    const tail = runEventConsumer({ ...config, bus: last.bus, stop: last.stop.signal }, (outcome) => last.outcomes.push(outcome), { log: silentLogger, signal: AbortSignal.timeout(60_000) });
    await until(() => last.outcomes.length > 0, 'the last event is done');
    last.stop.abort();
    await tail;
    await last.bus.close();
    assert.deepEqual((await embeddedHours(admin, codec, hours.length + 1)).sort(), [...hours, 8].map(isoHour), 'each analysis once');
    await admin.close();
  });
});

describe('the event consumer on Kafka with a slow event', () => {
  it('a member busy with one event longer than its session timeout keeps its partition: the idle member does nothing twice', async () => {
    const admin = kafka();
    await admin.createTopic('slow-objects', { partitions: 1 });
    const { codec, config } = await setUp('slow', [0, 1], admin);
    // The event of hour 0 keeps its member longer than testConsumerTiming's 10 s session timeout.
    const slowFirst = beforeFetch((key) => (key === keyOf(0) ? pause(testConsumerTiming.sessionTimeout + 3_000) : undefined));
    const members = ['a', 'b'].map(() => {
      const bus = kafka();
      return { bus, consumer: bus.consumer({ group: config.events.group, topics: [config.events.topic], fromBeginning: true }) as KafkaConsumer, stop: new AbortController(), outcomes: [] as EventOutcome[] };
    });
    const running = members.map((member) =>
      runEventConsumer({ ...config, bus: member.bus, consumer: member.consumer, stop: member.stop.signal, instrument: slowFirst }, (outcome) => member.outcomes.push(outcome), { log: silentLogger, signal: AbortSignal.timeout(90_000) }),
    );
    // The group is settled, one member holding the one partition, before the events come.
    const groups = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING }).admin();
    await groups.connect();
    for (let settled = false, deadline = Date.now() + 30_000; !settled; await pause(100)) {
      const { groups: [group] } = await groups.describeGroups([config.events.group]);
      settled = group?.state === 'Stable' && group.members.length === 2;
      if (!settled && Date.now() > deadline) throw new Error(`the group did not settle: ${group?.state}, ${group?.members.length} members`);
    }
    await groups.disconnect();
    await until(() => members.some((member) => member.consumer.assignment()[config.events.topic]?.length === 1), 'a member holds the partition');
    const busy = members.find((member) => member.consumer.assignment()[config.events.topic]?.length === 1)!;
    const idle = members.find((member) => member !== busy)!;
    await admin.produce(config.events.topic, [0, 1].map((n) => objectCreatedRecord(keyOf(n))));
    await until(() => busy.outcomes.length + idle.outcomes.length >= 2, 'both events are handled', 60_000);
    for (const member of members) member.stop.abort();
    await Promise.all(running);
    await Promise.all(members.map((member) => member.bus.close()));
    assert.deepEqual(idle.outcomes, [], 'the idle member was given nothing of the busy one');
    assert.deepEqual(busy.outcomes.map((outcome) => [outcome.kind, outcome.key]), [0, 1].map((n) => ['done', keyOf(n)]));
    assert.deepEqual((await embeddedHours(admin, codec, 2)).sort(), [0, 1].map(isoHour));
    await admin.close();
  });
});

describe('the event consumer on Kafka through a broker restart', () => {
  it('the broker stops and starts again mid-stream: restarted as a supervisor would, the consumer publishes each analysis once', async () => {
    const hours = [0, 1, 2, 3, 4, 5, 6];
    const admin = kafka();
    const { codec, config } = await setUp('broker-restart', hours, admin);
    await admin.produce(config.events.topic, hours.slice(0, 6).map((n) => objectCreatedRecord(keyOf(n))));
    const outcomes: EventOutcome[] = [];
    const failures: string[] = [];
    const stop = new AbortController();
    const supervised = (async () => {
      while (!stop.signal.aborted) {
        const bus = kafka();
        try {
          await runEventConsumer({ ...config, bus, stop: stop.signal }, (outcome) => outcomes.push(outcome), { log: silentLogger, signal: new AbortController().signal });
        } catch (error) {
          failures.push((error as Error).message);
          await pause(200);
        } finally {
          await bus.close().catch(() => {});
        }
      }
    })();
    const done = () => new Set(outcomes.filter((outcome) => outcome.kind === 'done').map((outcome) => outcome.key));
    await until(() => done().size >= 2, 'two events are done');
    await broker.pause();
    await pause(1_000);
    await broker.resume();
    await until(() => done().size === 6, 'the six events are done', 90_000);
    // One more event after all of them: every embedding before its own is read with it.
    await admin.produce(config.events.topic, [objectCreatedRecord(keyOf(6))]);
    await until(() => done().size === 7, 'the last event is done');
    stop.abort();
    await supervised;
    const embedded = await embeddedHours(admin, codec, hours.length);
    await admin.close();
    assert.deepEqual(embedded.sort(), hours.map(isoHour), `each analysis once (runs that failed: ${JSON.stringify(failures)})`);
    assert.equal(outcomes.filter((outcome) => outcome.kind === 'done').length, hours.length, `each event reported done once: ${JSON.stringify(outcomes)}`);
  });
});
