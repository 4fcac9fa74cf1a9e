import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AvroCodec } from '../../bus/avro/codec.js';
import { topicNames, type BusConsumer } from '../../bus/bus.js';
import { KafkaBus } from '../../bus/kafka/kafka-bus.js';
import type { KafkaConsumer } from '../../bus/kafka/kafka-consumer.js';
import { startBroker, testConsumerTiming, type TestBroker } from '../../infra/kafka/broker.js';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { runEventConsumer, type EventOutcome } from '../../pipelines/consume-events.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { putAnalysis, smallAnalysisOfHour } from '../support/analyses.js';
import { objectCreatedRecord } from '../support/object-events.js';
import { take } from '../bus/helpers.js';
import { runCommandProcess } from '../support/cli-process.js';
import { promoteVersion, saveVersion } from '../../model/versions.js';
import { SMALL_CONFIG } from '../model/fixtures.js';

let broker: TestBroker;
let work: string;
before(async () => {
  [broker, work] = await Promise.all([startBroker(), mkdtemp(join(tmpdir(), 'hrrr-embed-events-'))]);
  await selectBackend('cpu', 'inference', silentLogger);
});
after(async () => {
  await broker.stop();
  await rm(work, { recursive: true, force: true });
});

const kafka = () => new KafkaBus({ brokers: [broker.address], log: silentLogger, consumerTiming: testConsumerTiming });

describe('the consumer driven by object-created events on Kafka', () => {
  it('two consumers of one group share the work; when one leaves the other takes over; every analysis has exactly one embedding', async () => {
    const codec = await AvroCodec.create();
    const source = new FolderStore(join(work, 'source'));
    const state = new FolderStore(join(work, 'state'));
    for (let n = 0; n < 8; n++) await putAnalysis(source, smallAnalysisOfHour(n));
    const admin = kafka();
    await admin.createTopic('hrrr-objects', { partitions: 2 });
    const model = { autoencoder: createAutoencoder({ config: SMALL_CONFIG }), id: 'test-models', alertThreshold: null, backend: 'cpu' };
    const config = { source, state, codec, model, events: { topic: 'hrrr-objects', group: 'embedders' }, match: /:REFC:/ };

    const members = ['a', 'b'].map(() => {
      const bus = kafka();
      return { bus, consumer: bus.consumer({ group: 'embedders', topics: ['hrrr-objects'], fromBeginning: true }) as KafkaConsumer, stop: new AbortController(), outcomes: [] as EventOutcome[] };
    });
    const running = members.map((member) =>
      runEventConsumer({ ...config, bus: member.bus, consumer: member.consumer, stop: member.stop.signal }, (outcome) => member.outcomes.push(outcome), { log: silentLogger, signal: AbortSignal.timeout(120_000) }),
    );
    // The group has settled when each member holds one of the two partitions (as the broker assigned them).
    while (!members.every((member) => member.consumer.assignment()['hrrr-objects']?.length === 1)) await new Promise((resolve) => setTimeout(resolve, 50));
    const keys = Array.from({ length: 8 }, (_, n) => smallAnalysisOfHour(n).key);
    const produced = await admin.produce('hrrr-objects', [...keys.slice(0, 6).map((key) => objectCreatedRecord(key)), objectCreatedRecord(`${keys[0]}.idx`), { key: null, value: Buffer.from('not json') }]);
    assert.deepEqual(new Set(produced.slice(0, 6).map((record) => record.partition)), new Set([0, 1]), 'the analyses span both partitions');

    const reader = admin.consumer({ group: 'check', topics: [codec.topics.embeddings], fromBeginning: true });
    const first = await take(reader, 6);
    const doneBy = members.map((member) => member.outcomes.filter((outcome) => outcome.kind === 'done').length);
    assert.ok(doneBy.every((count) => count > 0), `both members did work: ${doneBy}`);

    // One member leaves; the events that follow all go to the other.
    members[0]!.stop.abort();
    await running[0];
    await members[0]!.bus.close();
    // The group has settled again when the other member holds both partitions.
    while (members[1]!.consumer.assignment()['hrrr-objects']?.length !== 2) await new Promise((resolve) => setTimeout(resolve, 50));
    await admin.produce('hrrr-objects', keys.slice(6).map((key) => objectCreatedRecord(key)));
    const later = await take(reader, 2);

    const hours = await Promise.all([...first, ...later].map(async (record) => ((await codec.decode(record)).value as { validTime: Date }).validTime.toISOString()));
    assert.deepEqual(hours.sort(), keys.map((_, n) => smallAnalysisOfHour(n).time.toISOString()), 'each analysis once');
    assert.equal(members.flatMap((member) => member.outcomes).filter((outcome) => outcome.kind === 'dead-letter').length, 1, 'the malformed event is a dead letter');
    assert.ok(members.flatMap((member) => member.outcomes).some((outcome) => outcome.kind === 'ignored' && outcome.key.endsWith('.idx')));

    members[1]!.stop.abort();
    await running[1];
    await reader.close();
    await Promise.all([members[1]!.bus.close(), admin.close()]);
  });

  it('a member that lost its partition while holding an event publishes nothing for it; the owner, fenced off meanwhile, goes on', async () => {
    const codec = await AvroCodec.create({ topics: topicNames('zombie.') });
    const source = new FolderStore(join(work, 'zombie-source'));
    for (let n = 0; n < 3; n++) await putAnalysis(source, smallAnalysisOfHour(n));
    const admin = kafka();
    await admin.createTopic('zombie-objects');
    await admin.produce('zombie-objects', [0, 1].map((n) => objectCreatedRecord(smallAnalysisOfHour(n).key)));
    const model = { autoencoder: createAutoencoder({ config: SMALL_CONFIG }), id: 'test-models', alertThreshold: null, backend: 'cpu' };
    const config = { source, state: new FolderStore(join(work, 'zombie-state')), codec, model, events: { topic: 'zombie-objects', group: 'zombies' }, match: /:REFC:/ };

    const owner = { bus: kafka(), stop: new AbortController(), outcomes: [] as EventOutcome[] };
    const running = runEventConsumer({ ...config, bus: owner.bus, stop: owner.stop.signal }, (outcome) => owner.outcomes.push(outcome), { log: silentLogger, signal: AbortSignal.timeout(120_000) });
    while (owner.outcomes.length < 2) await new Promise((resolve) => setTimeout(resolve, 50));

    // The other member still holds the first event, read before the group moved the partition away.
    const peek = admin.consumer({ group: 'zombie-peek', topics: ['zombie-objects'], fromBeginning: true });
    const [stale] = await take(peek, 1);
    await peek.close();
    const staleConsumer: BusConsumer = { records: async function* () { yield stale!; }, commit: async () => {}, close: async () => {} };
    const zombie = { bus: kafka(), outcomes: [] as EventOutcome[] };
    await runEventConsumer({ ...config, bus: zombie.bus, consumer: staleConsumer }, (outcome) => zombie.outcomes.push(outcome), { log: silentLogger, signal: AbortSignal.timeout(60_000) });
    assert.deepEqual(zombie.outcomes, [{ kind: 'ignored', key: 'kafka:zombie-objects/0/0', why: 'already handled by another member of the group' }]);

    // Its transactional producer fenced off the owner's; the owner's next event still goes through.
    await admin.produce('zombie-objects', [objectCreatedRecord(smallAnalysisOfHour(2).key)]);
    const reader = admin.consumer({ group: 'zombie-check', topics: [codec.topics.embeddings], fromBeginning: true });
    const ownerFailed = running.then(() => Promise.reject(new Error('the owner stopped')));
    const records = await Promise.race([take(reader, 3), ownerFailed]);
    const hours = await Promise.all(records.map(async (record) => ((await codec.decode(record)).value as { validTime: Date }).validTime.toISOString()));
    assert.deepEqual(hours, [0, 1, 2].map((n) => smallAnalysisOfHour(n).time.toISOString()), 'each analysis once, in order');

    owner.stop.abort();
    await running;
    await reader.close();
    await Promise.all([owner.bus.close(), zombie.bus.close(), admin.close()]);
  });

  it('hrrr-embed run --events publishes what the events announce, and exits 0 on SIGTERM', async () => {
    const source = new FolderStore(join(work, 'cli-source'));
    await putAnalysis(source, smallAnalysisOfHour(0));
    const models = new FolderStore(join(work, 'cli-models'));
    await saveVersion(models, createAutoencoder({ config: SMALL_CONFIG }), { modelId: 'small-1' });
    await promoteVersion(models, 'small-1');
    const admin = kafka();
    await admin.createTopic('cli-objects');
    await admin.produce('cli-objects', [objectCreatedRecord(smallAnalysisOfHour(0).key)]);
    let signalled = false;
    const result = await runCommandProcess(
      ['run', '--kafka', broker.address, '--events', 'cli-objects', '--group', 'cli', '--topic-prefix', 'cli.', '--source', join(work, 'cli-source'), '--state', join(work, 'cli-state'), '--model', join(work, 'cli-models'), '--device', 'cpu'],
      { onLine: (line, child) => void (!signalled && line.includes('"status":"done"') && (signalled = child.kill('SIGTERM'))) },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(result.lines, [{ status: 'done', hour: '2019-09-20T00Z', key: smallAnalysisOfHour(0).key, fields: 1, bytes: smallAnalysisOfHour(0).grib2.length }]);
    const reader = admin.consumer({ group: 'cli-check', topics: ['cli.embeddings'], fromBeginning: true });
    const [record] = await take(reader, 1);
    assert.equal(((await (await AvroCodec.create()).decode({ ...record!, topic: 'embeddings' })).value as { modelVersion: string }).modelVersion, 'small-1');
    await reader.close();
    await admin.close();
  });
});
