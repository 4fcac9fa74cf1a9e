import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type avro from 'avsc';
import { packageRoot } from '../../runtime/package-root.js';
import { defaultTopics, type TopicRole } from '../bus.js';
import { avroType } from './timestamp.js';

/** A topic's schemas: TOPIC.key.avsc and TOPIC.value.avsc. */
export interface TopicSchemas {
  key: avro.Schema;
  value: avro.Schema;
}

/** The schemas/ folder of the package, beside package.json. */
function schemasFolder(): string {
  return join(packageRoot(), 'schemas');
}

/** The current schemas of the topics, by role. */
export async function loadTopicSchemas(folder = schemasFolder()): Promise<Record<TopicRole, TopicSchemas>> {
  const entries = await Promise.all(
    (Object.entries(defaultTopics) as Array<[TopicRole, string]>).map(async ([role, name]) => {
      const [key, value] = await Promise.all([readSchema(join(folder, `${name}.key.avsc`)), readSchema(join(folder, `${name}.value.avsc`))]);
      return [role, { key, value }] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<TopicRole, TopicSchemas>;
}

/**
 * Schemas that records already written may have been written with, though they are no longer the
 * current ones: schemas/past/*.avsc. A schema is never deleted once records were written with it.
 */
export async function loadPastSchemas(folder = schemasFolder()): Promise<avro.Schema[]> {
  const past = join(folder, 'past');
  if (!existsSync(past)) return [];
  const files = (await readdir(past)).filter((name) => name.endsWith('.avsc')).sort();
  return Promise.all(files.map((name) => readSchema(join(past, name))));
}

async function readSchema(path: string): Promise<avro.Schema> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as avro.Schema;
  } catch (error) {
    throw new Error(`schema ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** One file of a topic's schema history: its current key or value schema, or an earlier one kept in schemas/past/. */
export interface SchemaFile {
  role: TopicRole;
  part: 'key' | 'value';
  /** From the package root: schemas/embeddings.value.avsc, schemas/past/embeddings.value.1.avsc. */
  file: string;
  current: boolean;
  /** SHA-256 (hex) of the schema's Parsing Canonical Form: what a record's avro.*.schema-sha256 header carries. */
  fingerprint: string;
  /** Its place among the released versions of schemas/released.json (1 the first), or null where it was never released. */
  version: number | null;
}

/** Every schema file of every topic, by topic, key before value, the past ones (oldest first) before the current one. */
export async function listSchemaFiles(folder = schemasFolder()): Promise<SchemaFile[]> {
  const past = existsSync(join(folder, 'past')) ? (await readdir(join(folder, 'past'))).filter((name) => name.endsWith('.avsc')) : [];
  const released = existsSync(join(folder, 'released.json')) ? await readReleased(join(folder, 'released.json')) : {};
  const listed: SchemaFile[] = [];
  for (const [role, name] of Object.entries(defaultTopics) as Array<[TopicRole, string]>) {
    for (const part of ['key', 'value'] as const) {
      const versions = released[`${name}.${part}`] ?? [];
      const earlier = past.filter((file) => file.startsWith(`${name}.${part}.`) && /^\d+\.avsc$/.test(file.slice(`${name}.${part}.`.length))).sort((a, b) => pastNumber(a) - pastNumber(b));
      for (const [path, current] of [...earlier.map((file) => [join(folder, 'past', file), false] as const), [join(folder, `${name}.${part}.avsc`), true] as const]) {
        const fingerprint = avroType(await readSchema(path)).fingerprint('sha256').toString('hex');
        const index = versions.indexOf(fingerprint);
        listed.push({ role, part, file: relative(dirname(folder), path), current, fingerprint, version: index < 0 ? null : index + 1 });
      }
    }
  }
  return listed;
}

/** NAME.N.avsc's N. */
const pastNumber = (file: string) => Number(/\.(\d+)\.avsc$/.exec(file)![1]);

/** schemas/released.json: the fingerprints of each schema's released versions, oldest first, by TOPIC.key or TOPIC.value. */
async function readReleased(path: string): Promise<Record<string, string[]>> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Record<string, string[]>;
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`, { cause: error });
  }
}
