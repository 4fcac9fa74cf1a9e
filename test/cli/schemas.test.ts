import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { AvroCodec } from '../../bus/avro/codec.js';
import { listSchemaFiles } from '../../bus/avro/schema-files.js';
import { SchemaRegistryClient } from '../../bus/avro/schema-registry.js';
import { FakeSchemaRegistry } from '../bus/fake-schema-registry.js';
import { repoRoot } from '../paths.js';
import { embeddingKey, sampleEmbedding } from '../bus/sample-records.js';
import { runCommandProcess } from '../support/cli-process.js';

const registry = new FakeSchemaRegistry();
before(() => registry.start());
after(() => registry.stop());

const subjects = ['embeddings', 'alerts', 'dead-letters', 'model-versions', 'retrain-requests'].flatMap((topic) => [`prod.${topic}-key`, `prod.${topic}-value`]);

describe('hrrr-embed schemas register', () => {
  it('registers every topic\'s key and value schema under TOPIC-key and TOPIC-value, sets the compatibility rule asked for, and prints one line per subject', async () => {
    const result = await runCommandProcess(['schemas', 'register', '--registry', registry.url, '--topic-prefix', 'prod.', '--compatibility', 'backward']);
    assert.equal(result.status, 0, result.stderr);
    const lines = result.lines as Array<{ subject: string; id: number; schema: string; compatibility: string }>;
    assert.deepEqual(lines.map(({ subject }) => subject), subjects);
    assert.deepEqual(lines.map(({ schema }) => schema), subjects.map((subject) => `schemas/${subject.replace(/^prod\./, '').replace(/-(key|value)$/, '.$1')}.avsc`));
    const client = new SchemaRegistryClient(registry.url);
    for (const { id, schema } of lines) assert.deepEqual(JSON.parse((await client.schemaById(id)).text), JSON.parse(readFileSync(join(repoRoot, schema), 'utf8')), schema);
    assert.ok(lines.every(({ compatibility }) => compatibility === 'BACKWARD'));
    for (const subject of subjects) assert.ok(registry.requests.includes(`PUT /config/${subject}`), subject);

    const again = await runCommandProcess(['schemas', 'register', '--registry', registry.url, '--topic-prefix', 'prod.']);
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual((again.lines as Array<{ id: number }>).map(({ id }) => id), lines.map(({ id }) => id), 'registered again: the same ids');
  });

  it('answers a wrong command line with its usage and exit status 2', async () => {
    for (const [args, message] of [
      [['schemas'], /schemas takes one subcommand: register/],
      [['schemas', 'register'], /--registry is required/],
      [['schemas', 'register', '--registry', 'registry:8081'], /--registry: schema registry URL "registry:8081" is not an http:\/\/ or https:\/\/ URL/],
      [['schemas', 'register', '--registry', registry.url, '--compatibility', 'LOOSE'], /--compatibility: "LOOSE" is not one of BACKWARD/],
      [['schemas', 'list', '--registry', registry.url], /--registry is for schemas register; schemas list reads only the files/],
      [['schemas', 'list', '--compatibility', 'BACKWARD'], /--compatibility is for schemas register/],
    ] as const) {
      const result = await runCommandProcess([...args], { env: { HRRR_EMBED_REGISTRY: '' } });
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, message);
      assert.match(result.stderr, /usage: hrrr-embed schemas register/);
    }
  });
});

describe('hrrr-embed schemas list', () => {
  it("prints every schema file, current and past, with the fingerprint fastavro computes for it, the one a record's header carries, and its released version", async () => {
    const result = await runCommandProcess(['schemas', 'list', '--topic-prefix', 'prod.']);
    assert.equal(result.status, 0, result.stderr);
    const lines = result.lines as Array<{ topic: string; part: string; file: string; current: boolean; fingerprint: string; version: number | null }>;
    const files = [...readdirSync(join(repoRoot, 'schemas')).filter((name) => name.endsWith('.avsc')).map((name) => `schemas/${name}`), ...readdirSync(join(repoRoot, 'schemas', 'past')).map((name) => `schemas/past/${name}`)];
    assert.deepEqual(lines.map(({ file }) => file).sort(), files.sort(), 'each file once');
    assert.deepEqual(
      lines.filter(({ topic }) => topic === 'prod.embeddings').map(({ part, file, current, version }) => ({ part, file, current, version })),
      [
        { part: 'key', file: 'schemas/embeddings.key.avsc', current: true, version: 1 },
        { part: 'value', file: 'schemas/past/embeddings.value.1.avsc', current: false, version: 1 },
        { part: 'value', file: 'schemas/embeddings.value.avsc', current: true, version: 2 },
      ],
    );

    // fastavro (installed by infra/install-fastavro.sh, npm test's pretest), as a Python reader would compute them.
    const { stdout } = await promisify(execFile)(join(repoRoot, '.work', 'avro-venv', 'bin', 'python'), [join(repoRoot, 'test', 'reference', 'fastavro_fingerprints.py'), ...lines.map(({ file }) => join(repoRoot, file))]);
    const byFastavro = JSON.parse(stdout) as Record<string, string>;
    for (const { file, fingerprint } of lines) assert.equal(fingerprint, byFastavro[join(repoRoot, file)], file);

    const { record } = await (await AvroCodec.create()).encode('embeddings', embeddingKey, sampleEmbedding());
    const current = (part: string) => lines.find((line) => line.topic === 'prod.embeddings' && line.part === part && line.current)!.fingerprint;
    assert.equal(Buffer.from(record.headers!['avro.key.schema-sha256']!).toString('hex'), current('key'));
    assert.equal(Buffer.from(record.headers!['avro.value.schema-sha256']!).toString('hex'), current('value'));

    const released = JSON.parse(readFileSync(join(repoRoot, 'schemas', 'released.json'), 'utf8')) as Record<string, string[]>;
    for (const { topic, part, file, fingerprint, version } of lines) assert.equal(released[`${topic.replace(/^prod\./, '')}.${part}`]![version! - 1], fingerprint, file);
  });

  it('gives a schema changed since its last release no version', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'hrrr-embed-schemas-list-'));
    try {
      await cp(join(repoRoot, 'schemas'), join(folder, 'schemas'), { recursive: true });
      const file = join(folder, 'schemas', 'alerts.value.avsc');
      const before = JSON.parse(readFileSync(file, 'utf8')) as { fields: object[] };
      await writeFile(file, JSON.stringify({ ...before, fields: [...before.fields, { name: 'landFraction', type: ['null', 'float'], default: null }] }));
      const listed = await listSchemaFiles(join(folder, 'schemas'));
      assert.deepEqual(listed.filter(({ role, part }) => role === 'alerts' && part === 'value').map(({ file, current, version }) => ({ file, current, version })), [{ file: 'schemas/alerts.value.avsc', current: true, version: null }]);
      assert.equal(listed.find(({ role, part }) => role === 'alerts' && part === 'key')!.version, 1);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
