import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type avro from 'avsc';
import { defaultTopics, type TopicRole } from '../bus.js';

/** A topic's schemas: TOPIC.key.avsc and TOPIC.value.avsc. */
export interface TopicSchemas {
  key: avro.Schema;
  value: avro.Schema;
}

/**
 * The schemas/ folder of the package: beside package.json, above this file both in the sources
 * (bus/avro/) and compiled (dist/bus/avro/).
 */
function schemasFolder(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(folder, 'package.json'))) {
    const parent = dirname(folder);
    if (parent === folder) throw new Error('no package.json above bus/avro: where is schemas/?');
    folder = parent;
  }
  return join(folder, 'schemas');
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
