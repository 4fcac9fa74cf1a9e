import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import avro from 'avsc';
import { AvroCodec } from '../../bus/avro/codec.js';
import { SchemaRegistryClient } from '../../bus/avro/schema-registry.js';
import { topicNames, type ConsumerOptions } from '../../bus/bus.js';
import { FileBus } from '../../bus/files/file-bus.js';
import { silentLogger } from '../../stages/stage.js';
import { requestRetraining, retrainRequests } from '../../training/requests.js';
import type { Trigger } from '../../training/trainer.js';
import { FakeSchemaRegistry } from '../bus/fake-schema-registry.js';

let work: string;
const registry = new FakeSchemaRegistry();
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'hrrr-embed-requests-'));
  await registry.start();
});
after(async () => {
  await registry.stop();
  await rm(work, { recursive: true, force: true });
});

/** The bus as a trainer's group that has committed nothing reads it: from the topic's first record. */
const fromBeginning = (bus: FileBus): FileBus => Object.assign(Object.create(bus) as FileBus, { consumer: (options: ConsumerOptions) => bus.consumer({ ...options, fromBeginning: true }) });

/** Reads requests as group `trainer` until one is heard, and handles (commits) it. */
async function readUntilHeard(bus: FileBus, codec: AvroCodec): Promise<Trigger> {
  const heard = new AbortController();
  let first: Trigger | undefined;
  await retrainRequests(bus, codec, 'models', 'trainer', silentLogger)(heard.signal, (trigger) => {
    first = trigger;
    void trigger.handled!().then(() => heard.abort());
  });
  return first!;
}

describe('the retrain-requests reader', () => {
  it('passes over a record that is no request, but leaves a request it cannot read for now (schema registry unreachable) for the next reader', { timeout: 30_000 }, async () => {
    const bus = new FileBus(join(work, 'bus'));
    const writer = await AvroCodec.create({ registry: new SchemaRegistryClient(registry.url) });
    const topic = writer.topics.retrainRequests;
    await bus.createTopic(topic);
    // The group's place on the topic, committed by the reader passing over what is no request.
    const placed = readUntilHeard(bus, writer);
    await bus.produce(topic, [{ key: null, value: new TextEncoder().encode('retrain please') }]);
    await requestRetraining(bus, writer, 'models', { requestedAt: new Date(), reason: 'first', force: false });
    assert.equal((await placed).reason, 'first');

    await requestRetraining(bus, writer, 'models', { requestedAt: new Date(), reason: 'second', force: false });
    const unreachable = new FakeSchemaRegistry();
    await unreachable.start();
    await unreachable.stop();
    const cut = await AvroCodec.create({ registry: new SchemaRegistryClient(unreachable.url) });
    const pushed: Trigger[] = [];
    await assert.rejects(retrainRequests(bus, cut, 'models', 'trainer', silentLogger)(new AbortController().signal, (trigger) => pushed.push(trigger)), /schema registry http:\/\/127\.0\.0\.1:\d+ cannot be reached \(GET \/schemas\/ids\/\d+\)/);
    assert.deepEqual(pushed, []);

    assert.equal((await readUntilHeard(bus, writer)).reason, 'second');
    await bus.close();
  });
});

describe('requests for another model store', () => {
  it('are passed over (committed, never trained on): a forced request for a staging store promoted a worse model in the production store of the same topic', { timeout: 30_000 }, async () => {
    const bus = new FileBus(join(work, 'stores'));
    const codec = await AvroCodec.create();
    await requestRetraining(bus, codec, 's3://staging-models', { requestedAt: new Date(), reason: 'staging, forced', force: true });
    await requestRetraining(bus, codec, 's3://models', { requestedAt: new Date(), reason: 'this store', force: false });
    const keyless = (await codec.encode('retrainRequests', 's3://models', { requestedAt: new Date(), reason: 'no store named', force: false })).record;
    await bus.produce(codec.topics.retrainRequests, [{ ...keyless, key: null }]);
    const heard: Trigger[] = [];
    const done = new AbortController();
    await retrainRequests(fromBeginning(bus), codec, 's3://models', 'trainer', silentLogger)(done.signal, (trigger) => {
      heard.push(trigger);
      void trigger.handled!().then(() => trigger.reason === 'no store named' && done.abort());
    });
    assert.deepEqual(heard.map((trigger) => [trigger.reason, trigger.force]), [['this store', false], ['no store named', false]]);
    await bus.close();
  });
});

describe('requests written by other stacks', () => {
  /** A producer of another stack: its own schema registered under the topic's subjects, the Confluent framing, avsc alone. */
  async function produceForeign(bus: FileBus, valueSchema: avro.Schema, values: object[]): Promise<void> {
    const client = new SchemaRegistryClient(registry.url);
    const topic = topicNames().retrainRequests;
    const framed = (id: number, body: Buffer) => {
      const header = Buffer.alloc(5);
      header.writeUInt32BE(id, 1);
      return Buffer.concat([header, body]);
    };
    const keyId = await client.register(`${topic}-key`, { type: 'string' });
    const valueId = await client.register(`${topic}-value`, valueSchema);
    const [keyType, valueType] = [avro.Type.forSchema({ type: 'string' }), avro.Type.forSchema(valueSchema)];
    await bus.createTopic(topic);
    await bus.produce(topic, values.map((value) => ({ key: framed(keyId, keyType.toBuffer('models')), value: framed(valueId, valueType.toBuffer(value)) })));
  }
  const requestSchema = (logicalType: string) => ({
    type: 'record',
    name: 'RetrainRequest',
    namespace: 'hrrr_embed',
    fields: [
      { name: 'requestedAt', type: { type: 'long', logicalType } },
      { name: 'reason', type: 'string', default: '' },
      { name: 'force', type: 'boolean', default: false },
    ],
  }) as avro.Schema;

  it('reads requestedAt written as timestamp-micros (Python, Java Instant) as the same instant, not 1000 times later', { timeout: 30_000 }, async () => {
    const bus = new FileBus(join(work, 'micros'));
    const at = new Date('2026-11-24T23:45:12.345Z');
    await produceForeign(bus, requestSchema('timestamp-micros'), [{ requestedAt: at.getTime() * 1000 + 678, reason: 'from python', force: false }]);
    const reader = await AvroCodec.create({ registry: new SchemaRegistryClient(registry.url) });
    const heard = await readUntilHeard(fromBeginning(bus), reader);
    assert.equal(heard.reason, 'from python');
    assert.equal(heard.at.toISOString(), at.toISOString());
    await bus.close();
  });

  it('passes over a request whose requestedAt no Date can hold (the trainer logged it with toISOString and exited 1, again at each restart)', { timeout: 30_000 }, async () => {
    const bus = new FileBus(join(work, 'far'));
    await produceForeign(bus, requestSchema('timestamp-millis'), [
      { requestedAt: 9e15, reason: 'never', force: false },
      { requestedAt: Date.UTC(2026, 10, 24), reason: 'after it', force: false },
    ]);
    const reader = await AvroCodec.create({ registry: new SchemaRegistryClient(registry.url) });
    const heard: Trigger[] = [];
    const done = new AbortController();
    await retrainRequests(fromBeginning(bus), reader, 'models', 'trainer', silentLogger)(done.signal, (trigger) => {
      heard.push(trigger);
      void trigger.handled!().then(() => trigger.reason === 'after it' && done.abort());
    });
    assert.deepEqual(heard.map((trigger) => [trigger.reason, trigger.at.toISOString()]), [['after it', '2026-11-24T00:00:00.000Z']]);
    await bus.close();
  });
});
