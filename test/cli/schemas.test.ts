import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SchemaRegistryClient } from '../../bus/avro/schema-registry.js';
import { FakeSchemaRegistry } from '../bus/fake-schema-registry.js';
import { repoRoot } from '../paths.js';
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
    ] as const) {
      const result = await runCommandProcess([...args], { env: { HRRR_EMBED_REGISTRY: '' } });
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, message);
      assert.match(result.stderr, /usage: hrrr-embed schemas register/);
    }
  });
});
