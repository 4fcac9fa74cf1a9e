import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A file is replaced whole by writing a temporary file beside it, NAME.partial-PID-RANDOM, and
 * renaming it into place (the folder store's put, the file bus's small files). The writing is
 * without pause, so one untouched this long was left by a process killed mid-write (or a write
 * that failed and could not remove it), and nothing else would ever remove it. Age, not the pid,
 * tells: a folder on a shared disk holds the files of other hosts' processes too.
 */
const abandonedAfterMs = 60 * 60 * 1000;

/**
 * Whether a file is such a temporary file, or a folder store's lock (store/folder-lock.ts): named
 * as writers name them, not merely holding ".partial-" (a mirror's "storm.partial-review.txt" is
 * an object, which a listing would hide, then remove).
 */
export function isTemporary(name: string): boolean {
  return /\.partial-(\d+-[0-9a-z]*|lock(-[0-9a-f]+)?)$/.test(name);
}

/** Removes a temporary file that was abandoned; a folder it cannot write in keeps it. Not a lock: only its waiters may break it. */
export async function removeIfAbandoned(path: string): Promise<void> {
  if (path.endsWith('.partial-lock')) return;
  try {
    if (Date.now() - (await stat(path)).mtimeMs >= abandonedAfterMs) await rm(path, { force: true });
  } catch {
    // Gone already, or a read-only folder: nothing to do.
  }
}

/** Removes the abandoned temporary files of a folder (not of the folders in it); a folder not there has none. */
export async function removeAbandonedIn(folder: string): Promise<void> {
  const names = await readdir(folder).catch(() => []);
  for (const name of names) if (isTemporary(name)) await removeIfAbandoned(join(folder, name));
}
