import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { makeDurableFolder } from '../../store/durable-folder.js';
import { syncFolder } from '../../store/sync-folder.js';

/** Replaces a small file whole: written beside it and synced, renamed over it, the folder synced. */
export async function writeDurably(path: string, text: string): Promise<void> {
  const folder = dirname(path);
  await makeDurableFolder(folder);
  // Unique per write: two writers, even in one process, never share a temporary file.
  const temporary = `${path}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(temporary, text, { flush: true });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => {});
    throw error;
  }
  await syncFolder(folder);
}
