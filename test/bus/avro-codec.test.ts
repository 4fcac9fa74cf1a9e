import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import avro from 'avsc';
import { AvroCodec, fingerprintHeaders, UnknownSchemaError, UnreadableRecordError } from '../../bus/avro/codec.js';
import { loadTopicSchemas, type TopicSchemas } from '../../bus/avro/schema-files.js';
import { SchemaRegistryClient, SchemaRegistryError } from '../../bus/avro/schema-registry.js';
import { topicNames, type TopicRole } from '../../bus/bus.js';
import { repoRoot } from '../paths.js';
import { FakeSchemaRegistry } from './fake-schema-registry.js';
import { embeddingKey, sampleAlert, sampleDeadLetter, sampleEmbedding, sampleModelVersion } from './sample-records.js';

type RecordSchema = { type: 'record'; name: string; fields: object[] };
const schemaFile = (name: string) => JSON.parse(readFileSync(join(repoRoot, 'schemas', name), 'utf8')) as RecordSchema;
/** A consumer that knows nothing of this project: avsc and the .avsc file alone. */
const plainType = (name: string) => avro.Type.forSchema(schemaFile(name) as avro.Schema);

/** The current schemas with one field added to the embedding: the next version of the schema. */
function withEmbeddingField(current: Record<TopicRole, TopicSchemas>, field: object): Record<TopicRole, TopicSchemas> {
  const value = structuredClone(current.embeddings.value) as RecordSchema;
  value.fields.push(field);
  return { ...current, embeddings: { key: current.embeddings.key, value: value as avro.Schema } };
}

describe('Avro codec', () => {
  it('every topic record round-trips, keys and values, with its schema fingerprint in the headers', async () => {
    const codec = await AvroCodec.create();
    const cases = [
      ['embeddings', embeddingKey, sampleEmbedding()],
      ['alerts', embeddingKey, sampleAlert],
      ['deadLetters', 's3://noaa-hrrr-bdp-pds/hrrr.20190920/conus/hrrr.t05z.wrfsfcf00.grib2', sampleDeadLetter],
      ['modelVersions', 'refc-autoencoder', sampleModelVersion],
      ['retrainRequests', 'file:///data/models', { requestedAt: new Date('2019-09-21T00:00:00Z'), reason: 'new storms season', force: false }],
    ] as const;
    for (const [role, key, value] of cases) {
      const { topic, record } = await codec.encode(role, key as never, value as never);
      assert.equal(topic, topicNames()[role]);
      assert.equal(record.headers![fingerprintHeaders.value]!.length, 32);
      const decoded = await codec.decode({ topic, key: record.key, value: record.value, headers: record.headers! });
      assert.deepEqual(JSON.parse(JSON.stringify(decoded)), JSON.parse(JSON.stringify({ key, value })), role);
    }
  });

  it('an embedding record is plain Avro that a consumer decodes with schemas/embeddings.value.avsc alone', async () => {
    const codec = await AvroCodec.create({ topics: topicNames('prod.') });
    const embedding = sampleEmbedding(3);
    const { topic, record } = await codec.encode('embeddings', embeddingKey, embedding);
    assert.equal(topic, 'prod.embeddings');
    const value = plainType('embeddings.value.avsc').fromBuffer(Buffer.from(record.value));
    assert.equal(value.validTime, embedding.validTime.getTime(), 'timestamp-millis is a long to a plain consumer');
    assert.deepEqual(value.embedding, embedding.embedding);
    assert.deepEqual({ ...value.crop }, embedding.crop);
    assert.deepEqual({ ...plainType('embeddings.key.avsc').fromBuffer(Buffer.from(record.key!)) }, { field: embeddingKey.field, validTime: embeddingKey.validTime.getTime() });
  });

  it('schema evolution: a record written with the old schema reads with the new one, the added field at its default', async () => {
    const current = await loadTopicSchemas();
    const oldCodec = await AvroCodec.create({ schemas: current });
    const { topic, record } = await oldCodec.encode('embeddings', embeddingKey, sampleEmbedding());
    const added = { name: 'landFraction', type: ['null', 'float'], default: null };
    const newCodec = await AvroCodec.create({ schemas: withEmbeddingField(current, added), pastSchemas: [current.embeddings.value] });
    const { value } = await newCodec.decode({ topic, key: record.key, value: record.value, headers: record.headers! });
    assert.equal((value as { landFraction: unknown }).landFraction, null);
    assert.deepEqual((value as { embedding: number[] }).embedding, sampleEmbedding().embedding);

    // The rule's other side: a field added without a default cannot read what was written before.
    const breaking = await AvroCodec.create({ schemas: withEmbeddingField(current, { name: 'landFraction', type: 'float' }), pastSchemas: [current.embeddings.value] });
    await assert.rejects(breaking.decode({ topic, key: record.key, value: record.value, headers: record.headers! }), UnknownSchemaError);
  });

  it('a record written with a schema the codec was never given is refused with a clear error, not misread', async () => {
    const current = await loadTopicSchemas();
    const writer = await AvroCodec.create({ schemas: withEmbeddingField(current, { name: 'extra', type: 'int', default: 0 }) });
    const { topic, record } = await writer.encode('embeddings', embeddingKey, { ...sampleEmbedding(), extra: 7 } as never);
    const reader = await AvroCodec.create();
    // As an earlier build meets what a later one wrote, after a rollback or while both run: not a schema to look for in past/.
    await assert.rejects(
      reader.decode({ topic, key: record.key, value: record.value, headers: record.headers! }),
      /embeddings value: written with a schema this build does not know \(SHA-256 [0-9a-f]{64}\), neither schemas\/embeddings\.value\.avsc nor one of schemas\/past\/: written by a later build of hrrr-embed \(read it with that build\) or by another writer/,
    );
  });

  describe('with a schema registry (a loopback server speaking the documented Confluent API)', () => {
    const registry = new FakeSchemaRegistry();
    before(() => registry.start());
    after(() => registry.stop());

    it('writes the Confluent wire format: magic byte 0, the id registered under TOPIC-value, then the Avro body', async () => {
      const client = new SchemaRegistryClient(registry.url);
      const codec = await AvroCodec.create({ registry: client });
      const { record } = await codec.encode('embeddings', embeddingKey, sampleEmbedding());
      const id = await client.lookup('embeddings-value', schemaFile('embeddings.value.avsc'));
      const value = Buffer.from(record.value);
      assert.deepEqual([value[0], value.readUInt32BE(1)], [0, id]);
      assert.deepEqual(plainType('embeddings.value.avsc').fromBuffer(value.subarray(5)).embedding, sampleEmbedding().embedding);
      assert.equal(Buffer.from(record.key!).readUInt32BE(1), await client.lookup('embeddings-key', schemaFile('embeddings.key.avsc')));
      assert.deepEqual(record.headers, {}, 'no fingerprint headers in registry mode');
    });

    it('a reader with its own client fetches the writer schema by id once, and reads an older version through it', async () => {
      const current = await loadTopicSchemas();
      const writer = await AvroCodec.create({ registry: new SchemaRegistryClient(registry.url), topics: topicNames('evolve.') });
      const written = await Promise.all([1, 2, 3].map((seed) => writer.encode('embeddings', embeddingKey, sampleEmbedding(seed))));
      const added = { name: 'landFraction', type: ['null', 'float'], default: null };
      const reader = await AvroCodec.create({ registry: new SchemaRegistryClient(registry.url), topics: topicNames('evolve.'), schemas: withEmbeddingField(current, added), pastSchemas: [] });
      const before = registry.requests.filter((request) => request.startsWith('GET /schemas/ids/')).length;
      for (const [index, { topic, record }] of written.entries()) {
        const { value } = await reader.decode({ topic, key: record.key, value: record.value, headers: {} });
        assert.deepEqual((value as { embedding: number[] }).embedding, sampleEmbedding(index + 1).embedding);
        assert.equal((value as { landFraction: unknown }).landFraction, null);
      }
      assert.equal(registry.requests.filter((request) => request.startsWith('GET /schemas/ids/')).length - before, 2, 'one fetch for the key schema, one for the value schema');
    });

    it('a writer schema the registry could not be reached for is asked for again at the next record, not remembered as a failure', async () => {
      const writer = await AvroCodec.create({ registry: new SchemaRegistryClient(registry.url) });
      const { topic, record } = await writer.encode('embeddings', embeddingKey, sampleEmbedding());
      let reachable = false;
      class CutUntilReachable extends SchemaRegistryClient {
        override schemaById(id: number) {
          return reachable ? super.schemaById(id) : Promise.reject(new Error(`schema registry ${registry.url} cannot be reached (GET /schemas/ids/${id}): connect ECONNREFUSED`));
        }
      }
      const reader = await AvroCodec.create({ registry: new CutUntilReachable(registry.url) });
      const read = () => reader.decode({ topic, key: null, value: record.value, headers: {} });
      await assert.rejects(read(), /cannot be reached/);
      reachable = true;
      assert.deepEqual(((await read()).value as { embedding: number[] }).embedding, sampleEmbedding().embedding);
    });

    it('the registry enforces the rule: a compatible next version registers, one that breaks old records is refused', async () => {
      const client = new SchemaRegistryClient(registry.url);
      const current = schemaFile('embeddings.value.avsc');
      await client.register('rule-value', current);
      await client.setCompatibility('rule-value', 'BACKWARD');
      const compatible = { ...current, fields: [...current.fields, { name: 'landFraction', type: ['null', 'float'], default: null }] };
      const breaking = { ...current, fields: [...current.fields, { name: 'landFraction', type: 'float' }] };
      assert.equal(await client.isCompatible('rule-value', breaking), false);
      assert.equal(await client.isCompatible('rule-value', compatible), true);
      await assert.rejects(client.register('rule-value', breaking), (error: unknown) => error instanceof SchemaRegistryError && error.status === 409);
      assert.ok((await client.register('rule-value', compatible)) > 0);
    });

    it('lookup only (a registry where writers may not register): frames records with the ids registered beforehand, and fails at the start naming a subject that lacks its schema, registering nothing', async () => {
      const topics = topicNames('governed.');
      await (await AvroCodec.create({ registry: new SchemaRegistryClient(registry.url), topics })).registerSchemas(['embeddings']);
      const registered = registry.requests.filter((request) => request.startsWith('POST /subjects/governed.') && request.endsWith('/versions')).length;
      const client = new SchemaRegistryClient(registry.url);
      const codec = await AvroCodec.create({ registry: client, topics, lookupOnly: true });
      await codec.registerSchemas(['embeddings']);
      const { record } = await codec.encode('embeddings', embeddingKey, sampleEmbedding());
      assert.equal(Buffer.from(record.value).readUInt32BE(1), await client.lookup('governed.embeddings-value', schemaFile('embeddings.value.avsc')));
      await assert.rejects(codec.registerSchemas(['alerts']), /schema registry .* has no schemas\/alerts\.key\.avsc under subject "governed\.alerts-key" \(40401\), and lookup only registers nothing: register the topics' schemas first \(hrrr-embed schemas register\)/);
      await assert.rejects(codec.encode('alerts', embeddingKey, sampleAlert), /subject "governed\.alerts-key"/);
      assert.equal(registry.requests.filter((request) => request.startsWith('POST /subjects/governed.') && request.endsWith('/versions')).length, registered, 'nothing registered');
    });

    it('register is cached; an unknown subject is a SchemaRegistryError with the registry code 40401', async () => {
      const client = new SchemaRegistryClient(registry.url);
      const schema = schemaFile('alerts.value.avsc');
      const first = await client.register('cache-value', schema);
      const posts = registry.requests.length;
      assert.equal(await client.register('cache-value', schema), first);
      assert.equal(registry.requests.length, posts, 'no second request');
      await assert.rejects(client.lookup('no-such-subject', schema), (error: unknown) => error instanceof SchemaRegistryError && error.errorCode === 40401);
    });

    it('tells a record no retry will read (a schema id the registry lacks, a body that is not Avro) from one the registry cannot be reached for', async () => {
      const codec = await AvroCodec.create({ registry: new SchemaRegistryClient(registry.url) });
      const { topic, record } = await codec.encode('embeddings', embeddingKey, sampleEmbedding());
      const withValue = (value: Uint8Array) => codec.decode({ topic, key: null, value, headers: {} });
      const unknownId = Buffer.from(record.value);
      unknownId.writeUInt32BE(999_999, 1);
      await assert.rejects(withValue(unknownId), (error: unknown) => error instanceof UnknownSchemaError && /schema id 999999 is not in the registry/.test(error.message));
      const cutShort = Buffer.from(record.value).subarray(0, 20);
      await assert.rejects(withValue(cutShort), (error: unknown) => error instanceof UnreadableRecordError && /not Avro of its writer schema/.test(error.message));

      const unreachable = new FakeSchemaRegistry();
      await unreachable.start();
      await unreachable.stop();
      const reader = await AvroCodec.create({ registry: new SchemaRegistryClient(unreachable.url) });
      await assert.rejects(
        reader.decode({ topic, key: null, value: record.value, headers: {} }),
        (error: unknown) => !(error instanceof UnreadableRecordError) && /^schema registry http:\/\/127\.0\.0\.1:\d+ cannot be reached \(GET \/schemas\/ids\/\d+\): connect ECONNREFUSED/.test((error as Error).message),
      );
    });
  });
});
