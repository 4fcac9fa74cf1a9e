import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SchemaRegistryClient, SchemaRegistryError } from '../../bus/avro/schema-registry.js';
import { FakeSchemaRegistry } from './fake-schema-registry.js';

const schema = { type: 'record', name: 'Probe', fields: [{ name: 'x', type: 'int' }] };

describe('a schema registry that wants basic authentication (Confluent Cloud, a secured registry)', () => {
  const password = 'pa:ss@w/rd';
  const registry = new FakeSchemaRegistry({ user: 'api-key', password });
  before(() => registry.start());
  after(() => registry.stop());
  const withCredentials = (secret: string) => registry.url.replace('http://', `http://api-key:${encodeURIComponent(secret)}@`);

  it('is reached with the user and password of the URL, sent as an Authorization header, never as part of the URL', async () => {
    const client = new SchemaRegistryClient(withCredentials(password));
    const id = await client.register('probe-value', schema);
    assert.equal(await client.lookup('probe-value', schema), id);
    assert.equal(client.url, registry.url, 'the URL the client names has no credentials');
  });

  it('refuses a URL with credentials but no host without repeating the password', () => {
    assert.throws(() => new SchemaRegistryClient('http://key:s3cret@'), (error: unknown) => /is not an http:\/\/ or https:\/\/ URL/.test((error as Error).message) && !/s3cret/.test((error as Error).message));
  });

  it('refuses a URL whose secret was pasted without percent-encoding, a "/" in it (Confluent Cloud secrets have them), without repeating any of the secret', () => {
    assert.throws(
      () => new SchemaRegistryClient('https://API-KEY:s3cret/Tail+Part@psrc.example.com'),
      (error: unknown) => {
        const { message } = error as Error;
        assert.doesNotMatch(message, /s3cret|Tail|API-KEY/);
        assert.match(message, /percent-encoded/);
        return true;
      },
    );
  });

  it('names a refusal without the password', async () => {
    const client = new SchemaRegistryClient(withCredentials('wrong-secret'));
    await assert.rejects(client.register('probe-value', schema), (error: unknown) => {
      assert.ok(error instanceof SchemaRegistryError, String(error));
      assert.equal(error.status, 401);
      assert.doesNotMatch(`${error.message} ${String(error.stack)}`, /wrong-secret/);
      return true;
    });
  });
});
