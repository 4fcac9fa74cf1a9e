import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import avro from 'avsc';
import { AvroCodec } from '../../bus/avro/codec.js';
import { topicNames, type ConsumedRecord } from '../../bus/bus.js';
import { KafkaBus } from '../../bus/kafka/kafka-bus.js';
import { startBroker, testConsumerTiming, type TestBroker } from '../../infra/kafka/broker.js';
import { silentLogger } from '../../stages/stage.js';
import { repoRoot } from '../paths.js';
import { numbered, take, text, textRecords } from './helpers.js';
import { embeddingKey, sampleEmbedding } from './sample-records.js';

// One real broker for this file: started by the project's infra, stopped and removed at the end.
let broker: TestBroker;
let bus: KafkaBus;
before(async () => {
  broker = await startBroker();
  bus = new KafkaBus({ brokers: [broker.address], log: silentLogger, consumerTiming: testConsumerTiming });
});
after(async () => {
  await bus?.close();
  await broker?.stop();
});

/** Waits for a condition that other parties make true (a group rebalance), asking every 50 ms. */
async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Collects what a consumer delivers in the background, each record once it is committed. */
function collect(consumer: ReturnType<KafkaBus['consumer']>, into: ConsumedRecord[]): Promise<void> {
  return (async () => {
    for await (const record of consumer.records()) {
      await consumer.commit(record);
      into.push(record);
    }
  })();
}

describe('Kafka bus against a real broker', () => {
  it('records come back as produced: key, value, headers, timestamp, acknowledged partition and offset', async () => {
    await bus.createTopic('round-trip', { partitions: 3 });
    const timestamp = new Date('2019-09-20T05:00:00Z');
    const produced = await bus.produce('round-trip', [
      { key: Buffer.from('REFC@05'), value: Buffer.from('first'), headers: { kind: Buffer.from('a') }, timestamp },
      { key: Buffer.from('REFC@05'), value: Buffer.from('second'), timestamp },
      { key: Buffer.from('REFC@06'), value: Buffer.from('third'), timestamp },
    ]);
    assert.equal(produced[0]!.partition, produced[1]!.partition, 'equal keys share a partition');
    assert.equal(produced[1]!.offset, produced[0]!.offset + 1);

    const consumer = bus.consumer({ group: 'round-trip', topics: ['round-trip'], fromBeginning: true });
    const records = await take(consumer, 3);
    await consumer.close();
    const byValue = new Map(records.map((record) => [text(record.value), record]));
    const first = byValue.get('first')!;
    assert.deepEqual([text(first.key), text(first.headers.kind!), first.timestamp.toISOString()], ['REFC@05', 'a', timestamp.toISOString()]);
    for (const [index, value] of ['first', 'second', 'third'].entries()) {
      const { partition, offset } = byValue.get(value)!;
      assert.deepEqual({ partition, offset }, { partition: produced[index]!.partition, offset: produced[index]!.offset });
    }
  });

  it('an embedding published in Avro comes back and decodes with the .avsc file alone', async () => {
    const codec = await AvroCodec.create({ topics: topicNames('test.') });
    await bus.createTopic('test.embeddings', { partitions: 2 });
    const embeddings = [1, 2, 3].map((seed) => sampleEmbedding(seed));
    const encoded = await Promise.all(embeddings.map((embedding, i) => codec.encode('embeddings', { ...embeddingKey, validTime: new Date(embeddingKey.validTime.getTime() + i * 3_600_000) }, embedding)));
    await bus.produce('test.embeddings', encoded.map(({ record }) => record));

    const consumer = bus.consumer({ group: 'avro', topics: ['test.embeddings'], fromBeginning: true });
    const records = await take(consumer, 3);
    await consumer.close();
    const plain = avro.Type.forSchema(JSON.parse(readFileSync(join(repoRoot, 'schemas', 'embeddings.value.avsc'), 'utf8')));
    const decoded = records.map((record) => plain.fromBuffer(Buffer.from(record.value))).sort((a, b) => a.embedding[1] - b.embedding[1]);
    assert.deepEqual(decoded.map((value) => value.embedding), embeddings.map((embedding) => embedding.embedding).sort((a, b) => a[1]! - b[1]!));
    const { key, value } = await codec.decode(records[0]!);
    assert.ok((key as { validTime: unknown }).validTime instanceof Date);
    assert.equal((value as { modelId: string }).modelId, 'refc-autoencoder');
  });

  it('hrrr-embed tail --kafka prints the Avro records produced to the broker', async () => {
    const codec = await AvroCodec.create();
    await bus.createTopic('alerts');
    const alert = { validTime: embeddingKey.validTime, field: embeddingKey.field, reconstructionError: 0.25, threshold: 0.05, modelId: 'refc-autoencoder', modelVersion: '1', picture: { store: 'file:///alerts', key: 'a.png' } };
    const { topic, record } = await codec.encode('alerts', embeddingKey, alert);
    await bus.produce(topic, [record, record]);
    const { stdout } = await promisify(execFile)(process.execPath, [join(repoRoot, 'dist', 'cli', 'main.js'), 'tail', 'alerts', '--kafka', broker.address, '--from-beginning', '--max', '2'], { timeout: 60_000 });
    const lines = stdout.trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(lines.map((line) => [line.offset, line.key.validTime, line.value.reconstructionError, line.value.picture.key]), [
      [0, '2019-09-20T05:00:00.000Z', 0.25, 'a.png'],
      [1, '2019-09-20T05:00:00.000Z', 0.25, 'a.png'],
    ]);
  });

  it('committed offsets survive a consumer restart: the next member of the group resumes after them', async () => {
    await bus.createTopic('resume');
    await bus.produce('resume', textRecords(numbered('r', 10)));
    const first = bus.consumer({ group: 'resume', topics: ['resume'], fromBeginning: true });
    const records = await take(first, 10);
    await first.commit(records.slice(0, 4));
    await first.close();

    const restarted = bus.consumer({ group: 'resume', topics: ['resume'], fromBeginning: true });
    const resumed = await take(restarted, 6);
    await restarted.close();
    assert.deepEqual(resumed.map((record) => text(record.value)), numbered('r', 6, 4));
  });

  it('two consumers in one group split the partitions, and one takes over when the other leaves', async () => {
    await bus.createTopic('split', { partitions: 4 });
    const [a, b] = [bus.consumer({ group: 'split', topics: ['split'], fromBeginning: true }), bus.consumer({ group: 'split', topics: ['split'], fromBeginning: true })];
    const [fromA, fromB]: ConsumedRecord[][] = [[], []];
    const running = [collect(a, fromA), collect(b, fromB)];
    const partitionsOf = (consumer: typeof a) => consumer.assignment().split ?? [];
    await until(() => partitionsOf(a).length > 0 && partitionsOf(b).length > 0 && partitionsOf(a).length + partitionsOf(b).length === 4, 'both members hold partitions');
    assert.deepEqual([...partitionsOf(a), ...partitionsOf(b)].sort(), [0, 1, 2, 3]);

    await bus.produce('split', textRecords(numbered('first', 40), (value) => value));
    await until(() => fromA.length + fromB.length === 40, 'all 40 records are consumed');
    assert.ok(fromA.length > 0 && fromB.length > 0, `both members consumed (${fromA.length} and ${fromB.length})`);
    assert.equal(new Set([...fromA, ...fromB].map((record) => text(record.value))).size, 40, 'no record twice');
    assert.deepEqual(new Set(fromA.map((record) => record.partition)), new Set(partitionsOf(a)));

    await b.close();
    await until(() => partitionsOf(a).length === 4, 'the remaining member holds every partition');
    await bus.produce('split', textRecords(numbered('second', 40), (value) => value));
    await until(() => fromA.filter((record) => text(record.value)!.startsWith('second')).length === 40, 'the remaining member consumes all 40 new records');
    await a.close();
    await Promise.all(running);
  });

  it('a transaction makes its records and its consumed offsets visible together; an aborted one shows nothing', async () => {
    await bus.createTopic('tx-in');
    await bus.createTopic('tx-out');
    await bus.produce('tx-in', textRecords(['in0', 'in1']));
    const worker = bus.consumer({ group: 'tx-worker', topics: ['tx-in'], fromBeginning: true });
    const [in0, in1] = await take(worker, 2);
    await worker.close();

    await bus.inTransaction('tx-worker-0', async (transaction) => {
      await transaction.produce('tx-out', textRecords(['out0']));
      await transaction.commitConsumed('tx-worker', [in0!]);
    });
    await assert.rejects(
      bus.inTransaction('tx-worker-0', async (transaction) => {
        await transaction.produce('tx-out', textRecords(['aborted']));
        await transaction.commitConsumed('tx-worker', [in1!]);
        throw new Error('the stage failed');
      }),
      /the stage failed/,
    );
    await bus.inTransaction('tx-worker-0', async (transaction) => {
      await transaction.produce('tx-out', textRecords(['out1']));
    });

    const reader = bus.consumer({ group: 'tx-reader', topics: ['tx-out'], fromBeginning: true });
    assert.deepEqual((await take(reader, 2)).map((record) => text(record.value)), ['out0', 'out1']);
    await reader.close();
    // The committed transaction moved the worker's group past in0; the aborted one did not move it past in1.
    const restarted = bus.consumer({ group: 'tx-worker', topics: ['tx-in'], fromBeginning: true });
    assert.deepEqual((await take(restarted, 1)).map((record) => text(record.value)), ['in1']);
    await restarted.close();
  });

  it('a transaction whose abort failed leaves its id usable: the next transaction of the id runs on a new producer', async () => {
    await bus.createTopic('tx-stuck');
    await assert.rejects(
      bus.inTransaction('tx-stuck-0', async (transaction) => {
        await transaction.produce('tx-stuck', textRecords(['aborted']));
        // Meanwhile another producer of the id begins (another member took the partition): ours is fenced off, and its abort fails.
        const other = new KafkaBus({ brokers: [broker.address], log: silentLogger });
        await other.inTransaction('tx-stuck-0', (theirs) => theirs.produce('tx-stuck', textRecords(['theirs'])));
        await other.close();
        throw Object.assign(new Error('a retriable failure'), { retriable: true });
      }),
      /a retriable failure/,
    );
    await bus.inTransaction('tx-stuck-0', (transaction) => transaction.produce('tx-stuck', textRecords(['after'])));
    const reader = bus.consumer({ group: 'tx-stuck-reader', topics: ['tx-stuck'], fromBeginning: true });
    assert.deepEqual((await take(reader, 2)).map((record) => text(record.value)), ['theirs', 'after']);
    await reader.close();
  });

  it('the broker stops and restarts mid-stream: the producer retries and every record arrives once, in order', async () => {
    await bus.createTopic('restart');
    const consumer = bus.consumer({ group: 'restart', topics: ['restart'], fromBeginning: true });
    const received: ConsumedRecord[] = [];
    const running = collect(consumer, received);
    await bus.produce('restart', textRecords(numbered('r', 20)));
    await until(() => received.length === 20, 'the first 20 records are consumed');

    await broker.pause();
    const sending = (async () => {
      for (const value of numbered('r', 20, 20)) await bus.produce('restart', textRecords([value]));
    })();
    await broker.resume();
    await sending;
    await until(() => received.length >= 40, 'the last 20 records are consumed');
    await consumer.close();
    await running;
    assert.deepEqual(received.map((record) => text(record.value)), numbered('r', 40));
  });
});
