import { open } from 'node:fs/promises';

/** Puts a folder's entries on disk: a file renamed or linked into it survives a power loss only once its folder is synced. */
export async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
