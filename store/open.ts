import { FolderStore } from './folder.js';
import type { ObjectStore } from './object-store.js';

/** The store a location names: a folder path or file:// URL. (s3:// joins with the S3 store.) */
export function openStore(location: string): ObjectStore {
  if (location.startsWith('file://')) return new FolderStore(new URL(location).pathname);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) throw new Error(`unsupported store location ${JSON.stringify(location)}`);
  return new FolderStore(location);
}
