import { readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { makeFolder } from '../store/make-folder.js';

/** The bytes of a file a command reads; a folder in its place is named (Node's EISDIR does not say which). */
export async function readInputFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EISDIR') throw new Error(`${path} is a folder, not a file`);
    throw error;
  }
}

/** Writes a command's output file (replacing one there), making its folder first: a store folder (--out, --dir) is made too. */
export async function writeOutputFile(path: string, bytes: Uint8Array): Promise<void> {
  await makeFolder(dirname(path));
  await writeFile(path, bytes);
}
