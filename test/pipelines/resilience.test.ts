import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AvroCodec } from '../../bus/avro/codec.js';
import { KafkaBus } from '../../bus/kafka/kafka-bus.js';
import { startBroker, testConsumerTiming, type TestBroker } from '../../infra/kafka/broker.js';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { promoteVersion, saveVersion } from '../../model/versions.js';
import { runConsumer } from '../../pipelines/consume.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { hour, putAnalysis, smallAnalysisOfHour } from '../support/analyses.js';
import { s3ObjectCreated } from '../support/object-events.js';
import { runCommandProcess } from '../support/cli-process.js';
import { take } from '../bus/helpers.js';
import { SMALL_CONFIG } from '../model/fixtures.js';

let broker: TestBroker;
let work: string;
let codec: AvroCodec;
before(async () => {
  [broker, work, codec] = await Promise.all([startBroker(), mkdtemp(join(tmpdir(), 'hrrr-embed-resilience-')), AvroCodec.create()]);
  await selectBackend('cpu', 'inference', silentLogger);
});
after(async () => {
  await broker.stop();
  await rm(work, { recursive: true, force: true });
});

const kafka = () => new KafkaBus({ brokers: [broker.address], log: silentLogger, consumerTiming: testConsumerTiming });
const until = async (condition: () => boolean, what: string, timeoutMs = 90_000) => {
  for (const deadline = Date.now() + timeoutMs; !condition(); await new Promise((resolve) => setTimeout(resolve, 50))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
  }
};

/** The valid times of the embeddings on the topic, read committed, decoded. */
async function embeddedHours(bus: KafkaBus, topic: string, count: number): Promise<string[]> {
  const reader = bus.consumer({ group: `check-${Math.random()}`, topics: [topic], fromBeginning: true });
  const records = await take(reader, count);
  await reader.close();
  return Promise.all(records.map(async (record) => ((await codec.decode({ ...record, topic: codec.topics.embeddings })).value as { validTime: Date }).validTime.toISOString()));
}

describe('the consumer through failures of its infrastructure (real Kafka broker)', () => {
  it('the broker stopped and restarted mid-stream: restarted as a supervisor would, the consumer gives every analysis its embedding', async () => {
    const source = new FolderStore(join(work, 'restart-source'));
    const state = new FolderStore(join(work, 'restart-state'));
    const model = { autoencoder: createAutoencoder({ config: SMALL_CONFIG }), id: 'test-models', alertThreshold: null, backend: 'cpu' };
    const done: string[] = [];
    let failures = 0;
    const stop = new AbortController();
    // The supervisor: whenever the consumer ends with an error, start it again (it resumes from its progress record).
    const supervised = (async () => {
      while (!stop.signal.aborted) {
        const bus = kafka();
        try {
          await runConsumer(
            { source, state, bus, codec, model, match: /:REFC:/, from: hour(0), to: hour(3), stop: stop.signal, discovery: { pollIntervalMs: 20, gapAfterMs: Infinity } },
            (event) => void (event.kind === 'done' && done.push(event.analysis.time.toISOString())),
            { log: silentLogger, signal: new AbortController().signal },
          );
          return;
        } catch {
          failures++;
        } finally {
          await bus.close().catch(() => {});
        }
      }
    })();
    for (const n of [0, 1]) await putAnalysis(source, smallAnalysisOfHour(n));
    await until(() => done.length >= 2, 'hours 0 and 1 are done');

    await broker.pause();
    for (const n of [2, 3]) await putAnalysis(source, smallAnalysisOfHour(n));
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // the consumer meets the stopped broker
    await broker.resume();
    await supervised;

    const check = kafka();
    const hours = new Set(await embeddedHours(check, codec.topics.embeddings, 4));
    await check.close();
    assert.deepEqual([...hours].sort(), [0, 1, 2, 3].map((n) => hour(n).toISOString()), `every analysis has its embedding (${failures} restarts)`);
  });

  it('run --events killed with SIGKILL mid-stream and started again: every analysis has exactly one embedding', async () => {
    const source = new FolderStore(join(work, 'kill-source'));
    const hours = [0, 1, 2, 3, 4, 5];
    for (const n of hours) await putAnalysis(source, smallAnalysisOfHour(n));
    const models = new FolderStore(join(work, 'kill-models'));
    await saveVersion(models, createAutoencoder({ config: SMALL_CONFIG }), { modelId: 'small-1' });
    await promoteVersion(models, 'small-1');
    const admin = kafka();
    await admin.createTopic('kill-objects');
    await admin.produce('kill-objects', hours.map((n) => ({ key: null, value: Buffer.from(s3ObjectCreated(smallAnalysisOfHour(n).key, 'b')) })));
    const args = ['run', '--kafka', broker.address, '--events', 'kill-objects', '--group', 'kill', '--topic-prefix', 'kill.', '--source', join(work, 'kill-source'), '--state', join(work, 'kill-state'), '--model', join(work, 'kill-models'), '--device', 'cpu'];

    let seen = 0;
    const killed = await runCommandProcess(args, { onLine: (line, child) => void (line.includes('"status":"done"') && ++seen === 2 && child.kill('SIGKILL')) });
    assert.equal(killed.status, null, 'killed, not exited');

    // One SIGTERM: a second one, from a done line while it drains, would stop it at once (exit 1).
    let finished = 0;
    let signalled = false;
    const restarted = await runCommandProcess(args, { onLine: (line, child) => void (!signalled && line.includes('"status":"done"') && ++finished + 2 >= hours.length && (signalled = child.kill('SIGTERM'))) });
    assert.equal(restarted.status, 0, restarted.stderr);

    const embedded = await embeddedHours(admin, 'kill.embeddings', hours.length);
    await admin.close();
    assert.deepEqual(embedded.sort(), hours.map((n) => hour(n).toISOString()), 'each analysis once: nothing lost, nothing twice');
  });
});
