import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Writes `value` as JSON to FOLDER/NAME and returns the file's path. */
export async function writeJsonFile(folder: string, name: string, value: unknown): Promise<string> {
  const file = join(folder, name);
  await writeFile(file, JSON.stringify(value));
  return file;
}
