import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AvroCodec } from '../../bus/avro/codec.js';
import { topicNames } from '../../bus/bus.js';
import { KafkaBus } from '../../bus/kafka/kafka-bus.js';
import type { Embedding } from '../../bus/records.js';
import { startBroker, testConsumerTiming, type TestBroker } from '../../infra/kafka/broker.js';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { promoteVersion, saveVersion } from '../../model/versions.js';
import { createOutputTopics } from '../../pipelines/consume.js';
import { announcePromotion } from '../../training/announce.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { take } from '../bus/helpers.js';
import { SMALL_CONFIG } from '../model/fixtures.js';
import { putAnalysis, smallAnalysisOfHour } from '../support/analyses.js';
import { runCommandProcess } from '../support/cli-process.js';

let broker: TestBroker;
let work: string;
before(async () => {
  [broker, work] = await Promise.all([startBroker(), mkdtemp(join(tmpdir(), 'hrrr-embed-swap-'))]);
  await selectBackend('cpu', 'inference', silentLogger);
});
after(async () => {
  await broker.stop();
  await rm(work, { recursive: true, force: true });
});

async function until(condition: () => boolean, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms / 1000} s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('hot swap of the model in a running consumer', () => {
  it('a version promoted and announced while the consumer runs takes over without a restart: later embeddings carry it, and no analysis is lost or repeated around the switch', async () => {
    const source = new FolderStore(join(work, 'source'));
    const models = new FolderStore(join(work, 'models'));
    await saveVersion(models, createAutoencoder({ config: SMALL_CONFIG }), { modelId: 'small-1' });
    await promoteVersion(models, 'small-1');
    for (const n of [0, 1]) await putAnalysis(source, smallAnalysisOfHour(n));

    const codec = await AvroCodec.create({ topics: topicNames('swap.') });
    const bus = new KafkaBus({ brokers: [broker.address], log: silentLogger, consumerTiming: testConsumerTiming });
    await createOutputTopics(bus, codec);
    let stderr = '';
    let child: ChildProcess | undefined;
    // The pointer is read every 10 minutes: only the announcement can make the swap happen in time.
    const consumer = runCommandProcess(
      ['run', '--kafka', broker.address, '--topic-prefix', 'swap.', '--source', join(work, 'source'), '--state', join(work, 'state'), '--model', join(work, 'models'), '--device', 'cpu', '--concurrency', '1', '--from', '2019-09-20T00Z', '--poll-seconds', '0.1', '--model-poll-seconds', '600'],
      { onStderr: (text, process) => ((stderr = text), (child = process)) },
    );
    const reader = bus.consumer({ group: 'swap-check', topics: [codec.topics.embeddings], fromBeginning: true });
    const decode = async (records: Awaited<ReturnType<typeof take>>) => Promise.all(records.map(async (record) => (await codec.decode(record)).value as Embedding));
    const before = await decode(await take(reader, 2));

    // A retrained version (other weights, same architecture) is promoted and announced, while analyses keep coming.
    await saveVersion(models, createAutoencoder({ config: { ...SMALL_CONFIG, seed: 7 } }), { modelId: 'small-2', alertThreshold: 0.2 });
    await promoteVersion(models, 'small-2');
    await announcePromotion(bus, codec, { modelId: models.url, version: 'small-2', promotedAt: new Date(), artifact: { store: models.url, key: 'versions/small-2/' }, embeddingSize: 16, alertThreshold: 0.2, validationLoss: null });
    for (const n of [2, 3]) await putAnalysis(source, smallAnalysisOfHour(n));
    await until(() => stderr.includes('model swapped'), 'the consumer swaps in the announced version');
    for (const n of [4, 5]) await putAnalysis(source, smallAnalysisOfHour(n));
    const after = await decode(await take(reader, 4));

    const all = [...before, ...after];
    assert.deepEqual(all.map((embedding) => embedding.validTime.getTime()), [0, 1, 2, 3, 4, 5].map((n) => smallAnalysisOfHour(n).time.getTime()), 'every analysis once, in order');
    const versions = all.map((embedding) => embedding.modelVersion);
    assert.deepEqual(versions.slice(0, 2), ['small-1', 'small-1']);
    assert.deepEqual(versions.slice(4), ['small-2', 'small-2'], 'analyses after the swap are embedded by the new version');
    assert.deepEqual(versions, [...versions].sort(), 'the switch happens once: no embedding by the old version after one by the new');

    child!.kill('SIGTERM');
    const result = await consumer;
    assert.equal(result.status, 0, result.stderr);
    await reader.close();
    await bus.close();
  });
});
