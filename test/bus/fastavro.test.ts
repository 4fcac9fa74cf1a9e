import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { AvroCodec } from '../../bus/avro/codec.js';
import { avroType } from '../../bus/avro/timestamp.js';
import { defaultTopics, type TopicRole } from '../../bus/bus.js';
import { repoRoot } from '../paths.js';
import { embeddingKey, sampleAlert, sampleDeadLetter, sampleEmbedding, sampleModelVersion } from './sample-records.js';

/** fastavro, installed by infra/install-fastavro.sh (npm test's pretest). */
const PYTHON = join(repoRoot, '.work', 'avro-venv', 'bin', 'python');
const SCRIPT = join(repoRoot, 'test', 'reference', 'fastavro_records.py');
const schemaPath = (name: string) => join(repoRoot, 'schemas', name);

type Read = { value: unknown; unread: number } | { error: string };

const folder = await mkdtemp(join(tmpdir(), 'hrrr-embed-fastavro-'));
after(() => rm(folder, { recursive: true, force: true }));

/** Reads each Avro body with fastavro: with its writer schema, resolved to the reader schema when one is given. */
async function readWithFastavro(bodies: Array<{ bytes: Uint8Array; writer: string; reader?: string }>): Promise<Read[]> {
  const items = await Promise.all(
    bodies.map(async ({ bytes, writer, reader }, index) => {
      const path = join(folder, `${index}.avro`);
      await writeFile(path, bytes);
      return { path, writer, reader: reader ?? null };
    }),
  );
  const { stdout } = await promisify(execFile)(PYTHON, [SCRIPT, JSON.stringify(items)], { maxBuffer: 1 << 24 });
  return JSON.parse(stdout) as Read[];
}

/** A record as fastavro gives it, printed as JSON: timestamps in milliseconds. */
function plain(value: unknown): unknown {
  if (value instanceof Date) return value.getTime();
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, plain(item)]));
  return value;
}

/** Each topic's key and value, encoded by the codec (no registry: plain Avro bodies), with the .avsc files that describe them. */
async function encodedTopics(records: Array<[TopicRole, unknown, unknown]>) {
  const codec = await AvroCodec.create();
  const bodies = [];
  for (const [role, key, value] of records) {
    const { record } = await codec.encode(role, key as never, value as never);
    bodies.push({ bytes: record.key!, writer: schemaPath(`${defaultTopics[role]}.key.avsc`), expected: plain(key) });
    bodies.push({ bytes: record.value, writer: schemaPath(`${defaultTopics[role]}.value.avsc`), expected: plain(value) });
  }
  return bodies;
}

describe('the records read by fastavro, with the .avsc files alone', () => {
  it("every topic's keys and values read back whole, logical types and all", async () => {
    const bodies = await encodedTopics([
      ['embeddings', embeddingKey, sampleEmbedding()],
      ['alerts', embeddingKey, sampleAlert],
      ['deadLetters', 's3://noaa-hrrr-bdp-pds/hrrr.20190920/conus/hrrr.t05z.wrfsfcf00.grib2', sampleDeadLetter],
      ['modelVersions', 'file:///data/models', { ...sampleModelVersion, validationLoss: 0.25 }],
      ['retrainRequests', 'file:///data/models', { requestedAt: new Date('1969-12-31T23:59:59.999Z'), reason: 'ré-entraîner 気象', force: true }],
    ]);
    const read = await readWithFastavro(bodies);
    for (const [index, { expected, writer }] of bodies.entries()) assert.deepEqual(read[index], { value: expected, unread: 0 }, writer);
  });

  it('strings are well-formed UTF-8 whatever the JavaScript string holds: a lone surrogate is written as U+FFFD, not as bytes a strict decoder refuses', async () => {
    // avsc writes a short string's lone surrogate as the three bytes of a UTF-16 code unit (ED A0 80), which no UTF-8 decoder accepts.
    const bodies = await encodedTopics([['deadLetters', 'kafka:events/0/\udc01', { ...sampleDeadLetter, message: 'bad \ud83d event' }]]);
    const read = await readWithFastavro(bodies);
    assert.deepEqual(read[0], { value: 'kafka:events/0/\ufffd', unread: 0 });
    assert.deepEqual((read[1] as { value: { message: string } }).value.message, 'bad \ufffd event');
  });

  it("each record's fingerprint header is the SHA-256 of its .avsc's Parsing Canonical Form as fastavro computes it, and released.json lists those of schemas/ and past/", async () => {
    const files = [...readdirSync(schemaPath('.')).filter((name) => name.endsWith('.avsc')), ...readdirSync(schemaPath('past')).map((name) => `past/${name}`)].map(schemaPath);
    const { stdout } = await promisify(execFile)(PYTHON, [join(repoRoot, 'test', 'reference', 'fastavro_fingerprints.py'), ...files]);
    const byFastavro = JSON.parse(stdout) as Record<string, string>;
    const codec = await AvroCodec.create();
    const { record } = await codec.encode('embeddings', embeddingKey, sampleEmbedding());
    assert.equal(Buffer.from(record.headers!['avro.key.schema-sha256']!).toString('hex'), byFastavro[schemaPath('embeddings.key.avsc')]);
    assert.equal(Buffer.from(record.headers!['avro.value.schema-sha256']!).toString('hex'), byFastavro[schemaPath('embeddings.value.avsc')]);
    const released = JSON.parse(readFileSync(schemaPath('released.json'), 'utf8')) as Record<string, string[]>;
    const known = new Set(Object.values(byFastavro));
    for (const [schema, fingerprints] of Object.entries(released)) for (const fingerprint of fingerprints) assert.ok(known.has(fingerprint), `${schema}: ${fingerprint} is no file's`);
  });

  it('a record written with each past schema reads with the current one, as fastavro resolves them', async () => {
    const { crop, ...embedding } = sampleEmbedding();
    const { downsample: _, ...oldCrop } = crop;
    const { event: __, ...deadLetter } = sampleDeadLetter;
    const written = [
      { file: 'embeddings.value.1.avsc', current: 'embeddings.value.avsc', old: { ...embedding, crop: oldCrop }, expected: sampleEmbedding() },
      { file: 'dead-letters.value.1.avsc', current: 'dead-letters.value.avsc', old: deadLetter, expected: sampleDeadLetter },
    ];
    const read = await readWithFastavro(
      written.map(({ file, current, old }) => ({ bytes: avroType(JSON.parse(readFileSync(schemaPath(`past/${file}`), 'utf8'))).toBuffer(old), writer: schemaPath(`past/${file}`), reader: schemaPath(current) })),
    );
    for (const [index, { file, expected }] of written.entries()) assert.deepEqual(read[index], { value: plain(expected), unread: 0 }, `${file}: the added field at its default`);
  });
});
