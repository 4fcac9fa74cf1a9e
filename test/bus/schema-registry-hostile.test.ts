import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { AvroCodec, UnknownSchemaError, UnreadableRecordError } from '../../bus/avro/codec.js';
import { SchemaRegistryClient } from '../../bus/avro/schema-registry.js';
import { embeddingKey, sampleEmbedding } from './sample-records.js';

type Answer = (request: IncomingMessage, response: ServerResponse) => void;

/** A loopback server answering every request as the test says: a registry that misbehaves. */
const routes = new Map<string, Answer>();
const server = createServer((request, response) => {
  request.resume();
  const answer = [...routes].find(([prefix]) => `${request.method} ${request.url}`.startsWith(prefix))?.[1];
  if (answer) answer(request, response);
  else response.writeHead(404).end(JSON.stringify({ error_code: 40401, message: 'not here' }));
});
let url = '';
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const json = (answer: unknown): Answer => (_request, response) => response.writeHead(200, { 'content-type': 'application/vnd.schemaregistry.v1+json' }).end(JSON.stringify(answer));

/** A value framed as Confluent's serializers frame it: magic byte 0, schema id `id`, a body. */
function framed(id: number): Buffer {
  const bytes = Buffer.from([0, 0, 0, 0, 0, 2, 4, 6]);
  bytes.writeUInt32BE(id, 1);
  return bytes;
}

describe('a record whose schema id names a schema that is not Avro (a Protobuf or JSON Schema serializer sharing the registry)', () => {
  it('is an UnknownSchemaError naming the id and the schema type, which readers pass over, not an error that stops them', async () => {
    routes.set('GET /schemas/ids/41', json({ schemaType: 'PROTOBUF', schema: 'syntax = "proto3";\nmessage Probe { int32 x = 1; }\n' }));
    routes.set('GET /schemas/ids/42', json({ schemaType: 'JSON', schema: '{"type":"object","properties":{"x":{"type":"integer"}}}' }));
    const codec = await AvroCodec.create({ registry: new SchemaRegistryClient(url) });
    const topic = codec.topics.retrainRequests;
    for (const [id, type] of [[41, 'PROTOBUF'], [42, 'JSON']] as const) {
      await assert.rejects(codec.decode({ topic, key: null, value: framed(id), headers: {} }), (error: unknown) => {
        assert.ok(error instanceof UnknownSchemaError, String(error));
        assert.match(error.message, new RegExp(`retrain-requests value: schema id ${id} is a ${type} schema, not Avro`));
        return true;
      });
    }
  });

  it('an AVRO schema id whose text is no Avro schema is an UnknownSchemaError too, naming the id', async () => {
    routes.set('GET /schemas/ids/43', json({ schema: '{"type":"no-such-type"}' }));
    const codec = await AvroCodec.create({ registry: new SchemaRegistryClient(url) });
    await assert.rejects(codec.decode({ topic: codec.topics.embeddings, key: null, value: framed(43), headers: {} }), (error: unknown) => {
      assert.ok(error instanceof UnknownSchemaError, String(error));
      assert.match(error.message, /embeddings value: schema id 43 is not an Avro schema this codec can read \(.*no-such-type/);
      return true;
    });
  });
});

describe('a registry that answers 200 with something else than the API (a proxy page, a wrong URL)', () => {
  it('refuses to frame records with an id the registry never gave: an answer with no integer id is an error naming the request', async () => {
    for (const [name, answer] of [['html', (_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<html>Sign in</html>')], ['no id', json({ id: 'seven' })]] as Array<[string, Answer]>) {
      routes.set('POST /subjects/embeddings-', answer);
      const codec = await AvroCodec.create({ registry: new SchemaRegistryClient(url) });
      await assert.rejects(codec.encode('embeddings', embeddingKey, sampleEmbedding()), (error: unknown) => {
        assert.ok(!(error instanceof UnreadableRecordError), name);
        assert.match((error as Error).message, /^schema registry http:\/\/127\.0\.0\.1:\d+ POST \/subjects\/embeddings-(key|value)\/versions: answered 200 with no schema id: /, name);
        return true;
      });
    }
  });

  it('a schema by id answered with no schema text is an error naming the id, not a record to pass over', async () => {
    routes.set('GET /schemas/ids/44', (_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<html>Sign in</html>'));
    const codec = await AvroCodec.create({ registry: new SchemaRegistryClient(url) });
    await assert.rejects(codec.decode({ topic: codec.topics.embeddings, key: null, value: framed(44), headers: {} }), (error: unknown) => {
      assert.ok(!(error instanceof UnreadableRecordError), String(error));
      assert.match((error as Error).message, /GET \/schemas\/ids\/44: answered 200 with no schema: <html>Sign in<\/html>/);
      return true;
    });
  });
});

describe('a registry that answers slowly, never, or without end', () => {
  it('one that takes the request and never answers: an error naming the request once the client waited its timeout', { timeout: 20_000 }, async () => {
    routes.set('GET /schemas/ids/45', () => {});
    const client = new SchemaRegistryClient(url, { timeoutMs: 500 });
    await assert.rejects(client.schemaById(45), /^Error: schema registry http:\/\/127\.0\.0\.1:\d+ did not answer GET \/schemas\/ids\/45 within 0\.5 s/);
  });

  it('one that sends its headers, then a byte now and then: the timeout covers the body too', { timeout: 20_000 }, async () => {
    routes.set('GET /schemas/ids/46', (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const drip = setInterval(() => response.write(' '), 100);
      response.on('close', () => clearInterval(drip));
    });
    const client = new SchemaRegistryClient(url, { timeoutMs: 1000 });
    await assert.rejects(client.schemaById(46), /did not answer GET \/schemas\/ids\/46 within 1 s/);
  });

  it('one whose answer has no end: refused once it passes the most an answer may have (4 MiB), not read into memory whole', { timeout: 20_000 }, async () => {
    let sent = 0;
    routes.set('GET /schemas/ids/47', (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(1 << 20, 0x20);
      const more = () => {
        while (sent < 256 << 20 && !response.destroyed) {
          sent += chunk.length;
          if (!response.write(chunk)) return void response.once('drain', more);
        }
        response.end('{}');
      };
      more();
    });
    await assert.rejects(new SchemaRegistryClient(url).schemaById(47), /GET \/schemas\/ids\/47: answered more than 4194304 bytes/);
    assert.ok(sent < 256 << 20, `the registry sent ${sent} bytes before the client hung up`);
  });
});
