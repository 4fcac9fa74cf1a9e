import { randomBytes } from 'node:crypto';
import { open, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { makeFolder } from '../../store/make-folder.js';

/** Replaces a small file whole: written beside it and synced, renamed over it, the folder synced. */
export async function writeDurably(path: string, text: string): Promise<void> {
  const folder = dirname(path);
  await makeFolder(folder);
  // Unique per write: two writers, even in one process, never share a temporary file.
  const temporary = `${path}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(temporary, text, { flush: true });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => {});
    throw error;
  }
  // The rename itself is durable only once the folder's entry is on disk.
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
