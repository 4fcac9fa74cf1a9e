import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AvroCodec } from '../../bus/avro/codec.js';
import { topicNames, type ConsumedRecord } from '../../bus/bus.js';
import { KafkaBus } from '../../bus/kafka/kafka-bus.js';
import type { DeadLetter } from '../../bus/records.js';
import { writeIdx } from '../../grib2/index.js';
import { startBroker, testConsumerTiming, type TestBroker } from '../../infra/kafka/broker.js';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { runEventConsumer, type EventOutcome } from '../../pipelines/consume-events.js';
import type { StageInstrument } from '../../pipelines/ingest.js';
import { silentLogger } from '../../stages/stage.js';
import { StoreError } from '../../store/errors.js';
import { FolderStore } from '../../store/folder.js';
import { S3Store } from '../../store/s3.js';
import { S3Server, testCredentials } from '../../infra/s3-server.js';
import type { PutOptions } from '../../store/object-store.js';
import { putAnalysis, smallAnalysisOfHour } from '../support/analyses.js';
import { objectCreatedRecord, s3ObjectCreated } from '../support/object-events.js';
import { take } from '../bus/helpers.js';
import { SMALL_CONFIG } from '../model/fixtures.js';

// One real broker for the file; each case has its own topic prefix, events topic and group.
let broker: TestBroker;
let work: string;
before(async () => {
  [broker, work] = await Promise.all([startBroker(), mkdtemp(join(tmpdir(), 'hrrr-embed-bad-events-'))]);
  await selectBackend('cpu', 'inference', silentLogger);
});
after(async () => {
  await broker.stop();
  await rm(work, { recursive: true, force: true });
});

const kafka = () => new KafkaBus({ brokers: [broker.address], log: silentLogger, consumerTiming: testConsumerTiming });
const smallModel = (alertThreshold: number | null) => ({ autoencoder: createAutoencoder({ config: SMALL_CONFIG }), id: 'test-models', alertThreshold, backend: 'cpu' });
const keyOf = (n: number) => smallAnalysisOfHour(n).key;
const isoHour = (n: number) => smallAnalysisOfHour(n).time.toISOString();

async function validHours(codec: AvroCodec, records: ConsumedRecord[]): Promise<string[]> {
  return Promise.all(records.map(async (record) => ((await codec.decode(record)).value as { validTime: Date }).validTime.toISOString()));
}

/** Runs one event consumer until `until` holds of its outcomes, then stops it; rejects if it ends first. */
async function consumeUntil(config: Omit<Parameters<typeof runEventConsumer>[0], 'bus' | 'stop'>, until: (outcomes: EventOutcome[]) => boolean, log = silentLogger): Promise<EventOutcome[]> {
  const bus = kafka();
  const stop = new AbortController();
  const outcomes: EventOutcome[] = [];
  const running = runEventConsumer({ ...config, bus, stop: stop.signal }, (outcome) => outcomes.push(outcome), { log, signal: AbortSignal.timeout(60_000) });
  let ended = false;
  running.then(() => (ended = true), () => (ended = true));
  try {
    while (!until(outcomes) && !ended) await new Promise((resolve) => setTimeout(resolve, 50));
    stop.abort();
    await running;
  } finally {
    await bus.close();
  }
  assert.ok(until(outcomes), `the consumer stopped before it was done: ${JSON.stringify(outcomes)}`);
  return outcomes;
}

/** The analysis of hour n with section 3 naming a grid template no decoder knows. */
function withUnknownGridTemplate(n: number) {
  const sample = smallAnalysisOfHour(n);
  const grib2 = new Uint8Array(sample.grib2);
  const view = new DataView(grib2.buffer);
  let at = 16;
  while (grib2[at + 4] !== 3) at += view.getUint32(at);
  view.setUint16(at + 12, 0xffff);
  return { ...sample, grib2 };
}

describe('the event consumer on Kafka, given bad input', () => {
  it('malformed events and bad analyses between good ones become dead letters naming what was wrong; the good ones are published once', async () => {
    const codec = await AvroCodec.create({ topics: topicNames('poison.') });
    const source = new FolderStore(join(work, 'poison-source'));
    for (const n of [0, 1, 4, 7]) await putAnalysis(source, smallAnalysisOfHour(n));
    const truncated = smallAnalysisOfHour(2);
    await putAnalysis(source, { ...truncated, grib2: truncated.grib2.subarray(0, truncated.grib2.length / 2) });
    await putAnalysis(source, { ...smallAnalysisOfHour(3), idx: writeIdx([{ offset: 0, referenceTime: smallAnalysisOfHour(3).time, variable: 'TMP', level: '2 m above ground', forecast: 'anl' }]) });
    await putAnalysis(source, withUnknownGridTemplate(5));
    // Hour 7's object is removed between its discovery and its fetch.
    const deleteBeforeFetch: StageInstrument = (stage) =>
      stage.name !== 'fetch'
        ? stage
        : {
            name: stage.name,
            async *process(input, context) {
              if ((input as { key: string }).key === keyOf(7)) await source.delete(keyOf(7));
              yield* stage.process(input, context);
            },
          };

    const admin = kafka();
    await admin.createTopic('poison-objects');
    await admin.produce('poison-objects', [
      objectCreatedRecord(keyOf(0)),
      { key: null, value: Buffer.from('{not json') },
      { key: null, value: Buffer.from('{"hello":1}') },
      { key: null, value: Buffer.from(s3ObjectCreated('hrrr.20190920/conus/hrrr.t00z.wrfsfcf00.grib2%E0%A4%A')) },
      objectCreatedRecord(keyOf(1)),
      ...[2, 3, 5, 7].map((n) => objectCreatedRecord(keyOf(n))),
      objectCreatedRecord(keyOf(4)),
    ]);
    const outcomes = await consumeUntil(
      { source, state: new FolderStore(join(work, 'poison-state')), codec, model: smallModel(null), events: { topic: 'poison-objects', group: 'poison' }, match: /:REFC:/, instrument: deleteBeforeFetch },
      (seen) => seen.some((outcome) => outcome.kind === 'done' && outcome.key === keyOf(4)),
    );

    assert.deepEqual(outcomes.filter((outcome) => outcome.kind === 'done').map((outcome) => outcome.key), [0, 1, 4].map(keyOf));
    const deadLetters = outcomes.filter((outcome) => outcome.kind === 'dead-letter');
    assert.deepEqual(deadLetters.map((outcome) => [outcome.stage, outcome.hour]), [
      ['object-events', null],
      ['object-events', null],
      ['object-events', null],
      ['fetch', '2019-09-20T02Z'],
      ['fetch', '2019-09-20T03Z'],
      ['decode', '2019-09-20T05Z'],
      ['fetch', '2019-09-20T07Z'],
    ]);

    const reader = admin.consumer({ group: 'poison-check', topics: [codec.topics.embeddings, codec.topics.deadLetters], fromBeginning: true });
    const records = await take(reader, 3 + deadLetters.length);
    await reader.close();
    const embeddings = records.filter((record) => record.topic === codec.topics.embeddings);
    assert.deepEqual(await validHours(codec, embeddings), [0, 1, 4].map(isoHour), 'each good analysis once');
    const letters = await Promise.all(records.filter((record) => record.topic === codec.topics.deadLetters).map(async (record) => (await codec.decode(record)).value as DeadLetter));
    const messages = letters.map((letter) => `${letter.stage}: ${letter.message}`);
    for (const expected of [/object-events: .*not JSON/, /object-events: .*no "Records" array/, /object-events: .*key .* is not URL-encoded/, /fetch: .*shorter|fetch: .*declares/, /fetch: .*no line of its \.idx matches/, /decode: .*grid template/, /fetch: .*no such object/]) {
      assert.ok(messages.some((message) => expected.test(message)), `a dead letter matches ${expected}: ${JSON.stringify(messages, null, 1)}`);
    }
    await admin.close();
  });

  it('an event for an object the source does not have, or holds only part of, is a dead letter, not passed over', async () => {
    const codec = await AvroCodec.create({ topics: topicNames('absent.') });
    const source = new FolderStore(join(work, 'absent-source'));
    await putAnalysis(source, smallAnalysisOfHour(0));
    const short = smallAnalysisOfHour(2);
    const idx = writeIdx([
      { offset: 0, referenceTime: short.time, variable: 'REFC', level: 'entire atmosphere', forecast: 'anl' },
      { offset: short.grib2.length + 100, referenceTime: short.time, variable: 'TMP', level: '2 m above ground', forecast: 'anl' },
    ]);
    await putAnalysis(source, { ...short, idx });
    const admin = kafka();
    await admin.createTopic('absent-objects');
    await admin.produce('absent-objects', [1, 2, 0].map((n) => objectCreatedRecord(keyOf(n))));
    const warnings: string[] = [];
    const outcomes = await consumeUntil(
      { source, state: new FolderStore(join(work, 'absent-state')), codec, model: smallModel(null), events: { topic: 'absent-objects', group: 'absent' }, match: /:REFC:/ },
      (seen) => seen.some((outcome) => outcome.key === keyOf(0)),
      { ...silentLogger, warn: (_: object, message?: string) => void warnings.push(message ?? '') },
    );
    // An event says its object was written: a missing one is a dead letter, not an hour that 'never appeared: a gap'.
    assert.deepEqual(warnings.filter((message) => /gap/.test(message)), []);
    assert.deepEqual(outcomes.map((outcome) => [outcome.kind, outcome.key, outcome.kind === 'dead-letter' && outcome.stage]), [
      ['dead-letter', keyOf(1), 'discover'],
      ['dead-letter', keyOf(2), 'fetch'],
      ['done', keyOf(0), false],
    ]);
    const reader = admin.consumer({ group: 'absent-check', topics: [codec.topics.deadLetters], fromBeginning: true });
    const letters = await Promise.all((await take(reader, 2)).map(async (record) => ({ key: (await codec.decode(record)).key, ...((await codec.decode(record)).value as DeadLetter) })));
    await reader.close();
    assert.deepEqual(letters.map(({ key, stage, source: object }) => [key, stage, object?.key]), [
      [`${source.url}/${keyOf(1)}`, 'discover', keyOf(1)],
      [`${source.url}/${keyOf(2)}`, 'fetch', keyOf(2)],
    ]);
    assert.match(letters[0]!.message, /no such object/);
    assert.match(letters[1]!.message, /shorter than its \.idx says/);
    await admin.close();
  });

  it('a --source bucket that does not exist ends the consumer naming the bucket, instead of making each event a dead letter', async () => {
    // A HEAD of a missing bucket's key gets a bare 404: taken for a missing object, every event was set aside and committed.
    const server = await S3Server.start();
    try {
      const codec = await AvroCodec.create({ topics: topicNames('nobucket.') });
      const source = new S3Store({ bucket: 'no-such-source-bucket', endpoint: server.endpoint, forcePathStyle: true, credentials: testCredentials });
      const admin = kafka();
      await admin.createTopic('nobucket-objects');
      await admin.produce('nobucket-objects', [objectCreatedRecord(keyOf(0))]);
      await admin.close();
      await assert.rejects(
        consumeUntil({ source, state: new FolderStore(join(work, 'nobucket-state')), codec, model: smallModel(null), events: { topic: 'nobucket-objects', group: 'nobucket' }, match: /:REFC:/ }, (seen) => seen.length > 0),
        /no such bucket "no-such-source-bucket"/,
      );
    } finally {
      await server.stop();
    }
  });

  it('the alert picture store failing ends the run with nothing published or committed; the next run publishes the embedding and the alert once', async () => {
    const codec = await AvroCodec.create({ topics: topicNames('pictures.') });
    const source = new FolderStore(join(work, 'pictures-source'));
    for (const n of [0, 1]) await putAnalysis(source, smallAnalysisOfHour(n));
    let failures = 1;
    class FailingPictures extends FolderStore {
      override async put(key: string, body: Uint8Array, options?: PutOptions): Promise<void> {
        if (key.startsWith('alerts/') && failures-- > 0) throw new StoreError('server', `${this.url}/${key}`, 'injected failure');
        return super.put(key, body, options);
      }
    }
    const config = { source, state: new FailingPictures(join(work, 'pictures-state')), codec, model: smallModel(0), events: { topic: 'pictures-objects', group: 'pictures' }, match: /:REFC:/ };
    const admin = kafka();
    await admin.createTopic('pictures-objects');
    await admin.produce('pictures-objects', [objectCreatedRecord(keyOf(0))]);

    const failing = kafka();
    await assert.rejects(runEventConsumer({ ...config, bus: failing }, undefined, { log: silentLogger, signal: AbortSignal.timeout(60_000) }), /injected failure/);
    await failing.close();

    await admin.produce('pictures-objects', [objectCreatedRecord(keyOf(1))]);
    const outcomes = await consumeUntil(config, (seen) => seen.length === 2);
    assert.deepEqual(outcomes.map((outcome) => [outcome.kind, outcome.key]), [['done', keyOf(0)], ['done', keyOf(1)]]);
    const reader = admin.consumer({ group: 'pictures-check', topics: [codec.topics.embeddings, codec.topics.alerts], fromBeginning: true });
    const records = await take(reader, 4);
    await reader.close();
    for (const topic of [codec.topics.embeddings, codec.topics.alerts]) {
      assert.deepEqual(await validHours(codec, records.filter((record) => record.topic === topic)), [0, 1].map(isoHour), `${topic}: each analysis once`);
    }
    await admin.close();
  });
});
