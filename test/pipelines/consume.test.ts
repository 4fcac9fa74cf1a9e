import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import avro from 'avsc';
import { AvroCodec } from '../../bus/avro/codec.js';
import type { TopicBus } from '../../bus/bus.js';
import { FileBus } from '../../bus/files/file-bus.js';
import { KafkaBus } from '../../bus/kafka/kafka-bus.js';
import { startBroker, testConsumerTiming, type TestBroker } from '../../infra/kafka/broker.js';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { CONSUMER_PROGRESS_KEY, runConsumer } from '../../pipelines/consume.js';
import { Progress } from '../../pipelines/progress.js';
import { silentLogger, StageUnavailableError } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { hour, putAnalysis, smallAnalysisOfHour } from '../support/analyses.js';
import { take } from '../bus/helpers.js';
import { SMALL_CONFIG } from '../model/fixtures.js';
import { repoRoot } from '../paths.js';

let broker: TestBroker;
let work: string;
let codec: AvroCodec;
before(async () => {
  [broker, work, codec] = await Promise.all([startBroker(), mkdtemp(join(tmpdir(), 'hrrr-embed-consume-')), AvroCodec.create()]);
  await selectBackend('cpu', 'inference', silentLogger);
});
after(async () => {
  await broker.stop();
  await rm(work, { recursive: true, force: true });
});

/** The .avsc file as a reader with nothing of this project's code would load it. */
async function plainReader(file: string): Promise<avro.Type> {
  return avro.Type.forSchema(JSON.parse(await readFile(join(repoRoot, 'schemas', file), 'utf8')));
}

const model = { autoencoder: createAutoencoder({ config: SMALL_CONFIG }), id: 'test-models', alertThreshold: 0.1, backend: 'cpu' };
let runs = 0;

/** Source with hours 0 and 1 as usual, 2 corrupt, 3 unusual weather; then runs the consumer over 0..3, four analyses in flight sharing encoder batches. */
async function consumeOnce(bus: TopicBus) {
  const folder = join(work, `run-${++runs}`);
  const source = new FolderStore(join(folder, 'source'));
  const state = new FolderStore(join(folder, 'state'));
  for (const n of [0, 1]) await putAnalysis(source, smallAnalysisOfHour(n));
  const corrupt = smallAnalysisOfHour(2);
  await putAnalysis(source, { ...corrupt, grib2: corrupt.grib2.map((byte, i) => (i >= 30 && i < 60 ? 0xff : byte)) });
  await putAnalysis(source, smallAnalysisOfHour(3, true));
  const batchSizes: number[] = [];
  const batching = { maxBatch: 4, maxWaitMs: 20, onBatch: (size: number) => batchSizes.push(size) };
  const config = { source, state, bus, codec, model, match: /:REFC:/, from: hour(0), to: hour(3), once: true, concurrency: 4, batching };
  const summary = await runConsumer(config, undefined, { log: silentLogger, signal: new AbortController().signal });
  return { summary, state, config, batchSizes };
}

const buses: Array<[string, () => TopicBus]> = [
  ['the embedded file bus', () => new FileBus(join(work, `bus-${runs}`))],
  ['a real Kafka broker', () => new KafkaBus({ brokers: [broker.address], log: silentLogger, consumerTiming: testConsumerTiming })],
];

for (const [name, openTestBus] of buses) {
  describe(`the consumer publishing to ${name}`, () => {
    it('each analysis becomes one embedding that a plain Avro reader decodes, its field encoded once in a batch shared with the analyses in flight; unusual weather raises an alert with its picture; a corrupt object is a dead letter and the next one is processed', async () => {
      const bus = openTestBus();
      try {
        const { summary, state, config, batchSizes } = await consumeOnce(bus);
        assert.deepEqual({ done: summary.done, deadLetters: summary.deadLetters, gaps: summary.gaps, failed: summary.failed }, { done: 3, deadLetters: 1, gaps: 0, failed: 0 });
        assert.equal(batchSizes.reduce((sum, size) => sum + size, 0), 3, `each good field encoded once, in batches of ${batchSizes.join(', ')}`);

        const read = bus.consumer({ group: `check-${runs}`, topics: [codec.topics.embeddings, codec.topics.alerts, codec.topics.deadLetters], fromBeginning: true });
        const records = await take(read, 5);
        await read.close();
        const on = (topic: string) => records.filter((record) => record.topic === topic);

        const embeddingReader = await plainReader('embeddings.value.avsc');
        const embeddings = on(codec.topics.embeddings).map((record) => embeddingReader.fromBuffer(Buffer.from(record.value)));
        assert.deepEqual(embeddings.map((value) => value.validTime).sort(), [hour(0), hour(1), hour(3)].map((time) => time.getTime()));
        for (const value of embeddings) {
          assert.equal(value.embedding.length, SMALL_CONFIG.numdense);
          assert.equal(value.field, 'REFC:entire atmosphere:anl');
          assert.equal(value.modelVersion, 'untrained');
          assert.deepEqual({ ...value.crop }, { firstRow: 3, rows: 32, firstColumn: 3, columns: 64, downsample: 1 });
        }

        assert.equal(on(codec.topics.alerts).length, 1);
        const alert = (await codec.decode(on(codec.topics.alerts)[0]!)).value as { validTime: Date; picture: { key: string } };
        assert.equal(alert.validTime.getTime(), hour(3).getTime());
        const { picture } = alert;
        assert.deepEqual([...(await state.get(picture.key)).subarray(1, 4)], [...Buffer.from('PNG')]);

        assert.equal(on(codec.topics.deadLetters).length, 1);
        const deadLetter = (await codec.decode(on(codec.topics.deadLetters)[0]!)).value as { stage: string; message: string; source: { key: string } };
        assert.equal(deadLetter.stage, 'decode');
        assert.match(deadLetter.message, /GRIB2 section 1 at byte 28: reference time .* is not a date/);
        assert.equal(deadLetter.source.key, smallAnalysisOfHour(2).key);

        const again = await runConsumer(config, undefined, { log: silentLogger, signal: new AbortController().signal });
        assert.equal(again.done + again.deadLetters, 0, 'a restart repeats nothing');
      } finally {
        await bus.close();
      }
    });
  });
}

describe('the consumer when the encoder thread is down', () => {
  it('ends the run with the error and records no progress: a dead encoder never turns an analysis into a dead letter', async () => {
    const bus = new FileBus(join(work, 'encoder-down-bus'));
    const source = new FolderStore(join(work, 'encoder-down-source'));
    const state = new FolderStore(join(work, 'encoder-down-state'));
    await putAnalysis(source, smallAnalysisOfHour(0));
    const down = { ...model, encodeBatch: async () => Promise.reject(new StageUnavailableError('the encoder thread exited (code 1)')) };
    const outcomes: string[] = [];
    try {
      await assert.rejects(
        runConsumer({ source, state, bus, codec, model: down, match: /:REFC:/, from: hour(0), to: hour(0), once: true }, (event) => outcomes.push(event.kind), { log: silentLogger, signal: new AbortController().signal }),
        /the encoder thread exited/,
      );
      assert.deepEqual(outcomes, []);
      assert.equal((await Progress.load(state, CONSUMER_PROGRESS_KEY)).isDone(hour(0)), false);
    } finally {
      await bus.close();
    }
  });
});

/** A bus whose every produce fails; the topics it was asked to produce to go into `asked`. */
function failingBus(folder: string, asked: string[] = []): TopicBus {
  const inner = new FileBus(join(work, folder));
  return {
    url: inner.url,
    topics: () => inner.topics(),
    createTopic: (topic, options) => inner.createTopic(topic, options),
    produce: async (topic) => {
      asked.push(topic);
      throw new Error('broker unreachable');
    },
    consumer: (options) => inner.consumer(options),
    close: () => inner.close(),
  };
}

describe('the consumer when the bus fails', () => {
  it('ends the run with the error and records no progress: a failing bus never turns an analysis into a dead letter', async () => {
    const producedTo: string[] = [];
    const failing = failingBus('failing-bus', producedTo);
    const source = new FolderStore(join(work, 'failing-source'));
    const state = new FolderStore(join(work, 'failing-state'));
    await putAnalysis(source, smallAnalysisOfHour(0));
    await assert.rejects(runConsumer({ source, state, bus: failing, codec, model, match: /:REFC:/, from: hour(0), to: hour(0), once: true }, undefined, { log: silentLogger, signal: new AbortController().signal }), /broker unreachable/);
    assert.ok(!producedTo.includes(codec.topics.deadLetters), 'no dead letter was sent');
    assert.equal((await Progress.load(state, CONSUMER_PROGRESS_KEY)).isDone(hour(0)), false);
  });

  it('following new analyses, it ends without a discovery wait left behind to hold the process until the next poll', async () => {
    const source = new FolderStore(join(work, 'failing-follow-source'));
    const state = new FolderStore(join(work, 'failing-follow-state'));
    await putAnalysis(source, smallAnalysisOfHour(0));
    const timers = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
    const before = timers();
    const discovery = { pollIntervalMs: 3_600_000, clock: () => hour(1).getTime() };
    await assert.rejects(runConsumer({ source, state, bus: failingBus('failing-follow-bus'), codec, model, match: /:REFC:/, from: hour(0), discovery }, undefined, { log: silentLogger, signal: new AbortController().signal }), /broker unreachable/);
    assert.equal(timers(), before);
  });
});
