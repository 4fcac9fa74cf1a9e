import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BusConsumer } from '../../bus/bus.js';
import { KafkaBus } from '../../bus/kafka/kafka-bus.js';
import { startBroker, testConsumerTiming, type TestBroker } from '../../infra/kafka/broker.js';
import type { StageLogger } from '../../stages/stage.js';

let broker: TestBroker;
before(async () => (broker = await startBroker()));
after(() => broker.stop());

/** A logger that keeps each line's level, message and fields. */
function capturingLogger(): { log: StageLogger; lines: Array<{ level: string; message: string; fields: unknown }> } {
  const lines: Array<{ level: string; message: string; fields: unknown }> = [];
  const at = (level: string) => (fields: unknown, message?: string) => void lines.push({ level, message: message ?? '', fields });
  return { log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

/** Reads `consumer` until `signal` aborts, as a consumer waiting for events does. */
async function drain(consumer: BusConsumer, signal: AbortSignal): Promise<void> {
  try {
    for await (const record of consumer.records(signal)) await consumer.commit(record);
  } catch (error) {
    if (!signal.aborted) throw error;
  }
}

describe("the Kafka client's log", () => {
  it('a rebalance (a member joins the group, as when KEDA adds a replica) is no error in the log of the member already there', { timeout: 120_000 }, async () => {
    const admin = new KafkaBus({ brokers: [broker.address], consumerTiming: testConsumerTiming });
    await admin.createTopic('scaled', { partitions: 2 });
    const first = capturingLogger();
    const firstBus = new KafkaBus({ brokers: [broker.address], log: first.log, consumerTiming: testConsumerTiming });
    const secondBus = new KafkaBus({ brokers: [broker.address], log: capturingLogger().log, consumerTiming: testConsumerTiming });
    const stop = new AbortController();
    let joins = 0;
    let joined!: () => void;
    const rejoined = new Promise<void>((resolve) => (joined = resolve));
    const firstConsumer = firstBus.consumer({ group: 'scaled-group', topics: ['scaled'], onJoin: () => ++joins === 2 && joined() });
    const reading = [drain(firstConsumer, stop.signal)];
    // Once the first is a member, a second joins: the group rebalances, and the first joins again.
    while (joins === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    reading.push(drain(secondBus.consumer({ group: 'scaled-group', topics: ['scaled'] }), stop.signal));
    await rejoined;
    stop.abort();
    await Promise.all(reading);
    await Promise.all([firstBus.close(), secondBus.close(), admin.close()]);
    assert.deepEqual(first.lines.filter((line) => line.level === 'error'), [], 'no error lines');
    const heard = first.lines.find((line) => (line.fields as { kafka?: { error?: string } }).kafka?.error === 'The group is rebalancing, so a rejoin is needed');
    assert.equal(heard?.level, 'info', 'the rebalance is in the log, at info');
  });

  it('says at info each time a member joins its group, with the partitions it was given: which replica reads what', { timeout: 120_000 }, async () => {
    const admin = new KafkaBus({ brokers: [broker.address], consumerTiming: testConsumerTiming });
    await admin.createTopic('joined', { partitions: 2 });
    const member = capturingLogger();
    const bus = new KafkaBus({ brokers: [broker.address], log: member.log, consumerTiming: testConsumerTiming });
    const stop = new AbortController();
    let joined!: () => void;
    const reading = drain(bus.consumer({ group: 'joined-group', topics: ['joined'], onJoin: () => joined() }), stop.signal);
    await new Promise<void>((resolve) => (joined = resolve));
    stop.abort();
    await reading;
    await Promise.all([bus.close(), admin.close()]);
    const joins = member.lines.filter((line) => line.message === 'joined consumer group joined-group');
    assert.deepEqual(
      joins.map(({ level, fields }) => ({ level, assignment: (fields as { assignment: unknown }).assignment })),
      [{ level: 'info', assignment: { joined: [0, 1] } }],
    );
  });
});
