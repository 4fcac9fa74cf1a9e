import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type avro from 'avsc';
import { avroType } from '../../bus/avro/timestamp.js';
import { repoRoot } from '../paths.js';

/** The SHA-256 of every version of each schema that was ever released, oldest first: schemas/released.json. */
type Released = Record<string, string[]>;

const readJson = async <T>(path: string) => JSON.parse(await readFile(path, 'utf8')) as T;
/** What the codec identifies a writer schema by: the SHA-256 of its Parsing Canonical Form. */
const fingerprint = (schema: avro.Schema) => avroType(schema).fingerprint('sha256').toString('hex');

/**
 * What is wrong with the history of the schemas in `folder`: a current schema that is not the last
 * one released (changed without its released version kept in past/), a released version with no
 * file in past/, or a current schema that cannot read what a past version wrote.
 */
async function historyProblems(folder: string, released: Released): Promise<string[]> {
  const problems: string[] = [];
  const names = (await readdir(folder)).filter((file) => file.endsWith('.avsc')).map((file) => file.slice(0, -'.avsc'.length));
  const pastFiles = (await readdir(join(folder, 'past'))).filter((file) => file.endsWith('.avsc'));
  for (const name of names) {
    const current = await readJson<avro.Schema>(join(folder, `${name}.avsc`));
    const versions = released[name] ?? [];
    const latest = fingerprint(current);
    if (versions.at(-1) !== latest) {
      problems.push(
        versions.length === 0
          ? `schemas/${name}.avsc was never released: add ${latest} to schemas/released.json`
          : `schemas/${name}.avsc changed (SHA-256 ${latest}, released ${versions.at(-1)}): put the released version in schemas/past/${name}.${versions.length}.avsc, then add ${latest} to schemas/released.json`,
      );
    }
    const past = await Promise.all(pastFiles.filter((file) => file.startsWith(`${name}.`)).map(async (file) => ({ file, schema: await readJson<avro.Schema>(join(folder, 'past', file)) })));
    const kept = new Set(past.map(({ schema }) => fingerprint(schema)));
    for (const version of versions.slice(0, -1)) if (!kept.has(version)) problems.push(`released version ${version} of ${name} has no file in schemas/past/: records written with it could not be read`);
    for (const { file, schema } of past) {
      if (!versions.includes(fingerprint(schema))) problems.push(`schemas/past/${file} is not a released version of ${name} (schemas/released.json)`);
      try {
        avroType(current).createResolver(avroType(schema));
      } catch (error) {
        problems.push(`schemas/${name}.avsc cannot read what schemas/past/${file} wrote: ${(error as Error).message}`);
      }
    }
  }
  return problems;
}

const folder = await mkdtemp(join(tmpdir(), 'hrrr-embed-schema-history-'));
after(() => rm(folder, { recursive: true, force: true }));

describe('the history of the schemas', () => {
  it('each current schema is the last released version, each earlier one is kept in schemas/past/, and the current one reads them all', async () => {
    const schemas = join(repoRoot, 'schemas');
    assert.deepEqual(await historyProblems(schemas, await readJson<Released>(join(schemas, 'released.json'))), []);
  });

  it('catches a schema changed without its released version kept, and one that cannot read its past', async () => {
    const schemas = join(folder, 'schemas');
    await cp(join(repoRoot, 'schemas'), schemas, { recursive: true });
    const released = await readJson<Released>(join(schemas, 'released.json'));
    const file = join(schemas, 'alerts.value.avsc');
    const before = await readJson<{ fields: object[] }>(file);
    const changed = { ...before, fields: [...before.fields, { name: 'landFraction', type: ['null', 'float'], default: null }] };
    await writeFile(file, JSON.stringify(changed));
    const [problem, ...rest] = await historyProblems(schemas, released);
    assert.match(problem ?? '', /^schemas\/alerts\.value\.avsc changed \(SHA-256 [0-9a-f]{64}, released 6f022081.*\): put the released version in schemas\/past\/alerts\.value\.1\.avsc, then add [0-9a-f]{64} to schemas\/released\.json$/);
    assert.deepEqual(rest, []);

    // Done as the README says: no problem left.
    await writeFile(join(schemas, 'past', 'alerts.value.1.avsc'), JSON.stringify(before));
    const next = { ...released, 'alerts.value': [...released['alerts.value']!, fingerprint(changed as avro.Schema)] };
    assert.deepEqual(await historyProblems(schemas, next), []);

    // A field added without a default cannot read what the past version wrote.
    await writeFile(file, JSON.stringify({ ...before, fields: [...before.fields, { name: 'landFraction', type: 'float' }] }));
    const problems = await historyProblems(schemas, next);
    assert.ok(problems.some((text) => /^schemas\/alerts\.value\.avsc cannot read what schemas\/past\/alerts\.value\.1\.avsc wrote: no matching field for default-less hrrr_embed\.Alert\.landFraction$/.test(text)), problems.join('\n'));
  });

  it('a key schema never changes, docs included: with a registry its id is in every key, and the key bytes choose the partition and are what compaction compares', async () => {
    // A new id (any edit makes one) would put a field and hour published again on another partition than before, beside its old record.
    const registeredText = async (name: string) => createHash('sha256').update(JSON.stringify(await readJson(join(repoRoot, 'schemas', `${name}.avsc`)))).digest('hex');
    const frozen = {
      'embeddings.key': '0d84f7785434f64ca7d3be9fec18aa7a24b78da36bdeeb4806a56d28a97d34fe',
      'alerts.key': '0d84f7785434f64ca7d3be9fec18aa7a24b78da36bdeeb4806a56d28a97d34fe',
      'dead-letters.key': 'b9c9171c17044015708c06c849d391ad3ab51119d00c85a081aeb842ac77543f',
      'model-versions.key': '2ff93b27480b353281d765eea4d0d1d1a47907716a0bd54070e5cc4b678f246c',
      'retrain-requests.key': 'adaae6bfc00969daa94344bf09eba37051983608a94c8302b1e6e9f6ff49d6d6',
    };
    for (const [name, hash] of Object.entries(frozen)) assert.equal(await registeredText(name), hash, `schemas/${name}.avsc changed`);
  });
});
