import { open } from 'node:fs/promises';

/**
 * What a file system answers that cannot sync a folder (some FUSE and network file systems,
 * VirtualBox's shared folders: EINVAL, ENOTSUP, EBADF) or open one to sync it (a folder others
 * may write into but not list, mode 1733: EACCES). Its entries are then as durable as it makes
 * them; failing every put for it would leave the store unusable there.
 */
const CANNOT_SYNC_FOLDERS = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EBADF', 'EISDIR', 'EACCES']);

/** Puts a folder's entries on disk: a file renamed or linked into it survives a power loss only once its folder is synced. */
export async function syncFolder(folder: string): Promise<void> {
  try {
    const handle = await open(folder, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (!CANNOT_SYNC_FOLDERS.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
  }
}
