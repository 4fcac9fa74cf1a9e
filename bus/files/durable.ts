import { mkdir, open, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Replaces a small file whole: written beside it and synced, renamed over it, the folder synced. */
export async function writeDurably(path: string, text: string): Promise<void> {
  const folder = dirname(path);
  await mkdir(folder, { recursive: true });
  const temporary = `${path}.partial-${process.pid}`;
  await writeFile(temporary, text, { flush: true });
  await rename(temporary, path);
  // The rename itself is durable only once the folder's entry is on disk.
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
