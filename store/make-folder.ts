import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * `mkdir -p`, whose failure says why, giving the folders it made, outermost first (none when the
 * folder was there). Node 20's recursive mkdir reports a read-only file system (EROFS: a
 * container's read-only root) as ENOENT, "no such file or directory", of a folder whose parent is
 * there: made one level at a time, the folder that cannot be made gives the true cause.
 */
export async function makeFolder(path: string): Promise<string[]> {
  try {
    const first = await mkdir(path, { recursive: true });
    return first === undefined ? [] : [first, ...foldersBetween(first, path)];
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const made: string[] = [];
    await makeEachLevel(path, made);
    return made;
  }
}

/** The folders below `outer` down to `inner`, outermost first. */
function foldersBetween(outer: string, inner: string): string[] {
  const folders: string[] = [];
  for (let folder = inner; folder !== outer && dirname(folder) !== folder; folder = dirname(folder)) folders.unshift(folder);
  return folders;
}

async function makeEachLevel(path: string, made: string[]): Promise<void> {
  const parent = dirname(path);
  try {
    await mkdir(path);
    made.push(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT' || parent === path) throw error;
    await makeEachLevel(parent, made);
    try {
      await mkdir(path);
      made.push(path);
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code !== 'EEXIST') throw again;
    }
  }
}
