import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AvroCodec } from '../../bus/avro/codec.js';
import { SchemaRegistryClient } from '../../bus/avro/schema-registry.js';
import { topicNames } from '../../bus/bus.js';
import { KafkaBus } from '../../bus/kafka/kafka-bus.js';
import type { RetrainRequest } from '../../bus/records.js';
import { startBroker, testConsumerTiming, type TestBroker } from '../../infra/kafka/broker.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { FakeSchemaRegistry } from '../bus/fake-schema-registry.js';
import { runCommandProcess } from '../support/cli-process.js';

let work: string;
let broker: TestBroker;
const registry = new FakeSchemaRegistry();
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'hrrr-embed-request-retrain-kafka-'));
  broker = await startBroker();
  await registry.start();
});
after(async () => {
  await registry.stop();
  await broker.stop();
  await rm(work, { recursive: true, force: true });
});

describe('hrrr-embed request-retrain on Kafka', () => {
  it('writes the request, keyed by the model store as the trainer names it, to the prefixed retrain-requests topic, at the offset it prints', { timeout: 60_000 }, async () => {
    const models = join(work, 'models');
    const result = await runCommandProcess(['request-retrain', '--models', models, '--reason', 'storm season: retrain on the new shards', '--force', '--kafka', broker.address, '--topic-prefix', 'staging.']);
    assert.equal(result.status, 0, result.stderr);
    const written = result.lines[0] as { key: string; topic: string; partition: number; offset: number; bus: string };
    const topic = topicNames('staging.').retrainRequests;
    assert.deepEqual({ key: written.key, topic: written.topic, bus: written.bus }, { key: new FolderStore(models).url, topic, bus: `kafka://${broker.address}` });

    const found = await firstRecord(topic, await AvroCodec.create({ topics: topicNames('staging.') }));
    assert.deepEqual({ partition: found.partition, offset: found.offset }, { partition: written.partition, offset: written.offset });
    assert.equal(found.key, new FolderStore(models).url);
    assert.equal(found.value.reason, 'storm season: retrain on the new shards');
    assert.equal(found.value.force, true);
    assert.ok(found.value.requestedAt instanceof Date);
  });

  it('with --registry, writes the request in the registry\'s framing, its schemas registered; lookup only, a registry without them refuses it (exit 1)', { timeout: 60_000 }, async () => {
    const models = join(work, 'registry-models');
    const refused = await runCommandProcess(['request-retrain', '--models', models, '--reason', 'r', '--kafka', broker.address, '--registry', registry.url, '--registry-lookup-only', '--topic-prefix', 'framed.']);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /framed\.retrain-requests-(key|value)/, 'names the subject the registry lacks');

    const result = await runCommandProcess(['request-retrain', '--models', models, '--reason', 'framed', '--kafka', broker.address, '--registry', registry.url, '--topic-prefix', 'framed.']);
    assert.equal(result.status, 0, result.stderr);
    const found = await firstRecord(topicNames('framed.').retrainRequests, await AvroCodec.create({ topics: topicNames('framed.'), registry: new SchemaRegistryClient(registry.url) }));
    assert.equal(found.bytes[0], 0, "the registry's magic byte");
    assert.equal(found.key, new FolderStore(models).url);
    assert.equal(found.value.reason, 'framed');
  });
});

/** The first record of `topic` on the broker, decoded. */
async function firstRecord(topic: string, codec: AvroCodec): Promise<{ partition: number; offset: number; key: unknown; value: RetrainRequest; bytes: Uint8Array }> {
  const bus = new KafkaBus({ brokers: [broker.address], log: silentLogger, consumerTiming: testConsumerTiming });
  const consumer = bus.consumer({ group: `check-${topic}`, topics: [topic], fromBeginning: true });
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), 30_000);
  try {
    for await (const record of consumer.records(stop.signal)) {
      const { key, value } = await codec.decode(record);
      return { partition: record.partition, offset: record.offset, key, value: value as RetrainRequest, bytes: record.value };
    }
    throw new Error(`nothing on ${topic} within 30 s`);
  } finally {
    clearTimeout(timer);
    await consumer.close();
    await bus.close();
  }
}
