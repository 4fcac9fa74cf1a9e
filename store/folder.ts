import type { Stats } from 'node:fs';
import { link, open, readdir, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ObjectChangedError, ObjectExistsError, ObjectNotFoundError, StoreError, type StoreErrorKind } from './errors.js';
import { withFileLock } from './folder-lock.js';
import { makeDurableFolder } from './durable-folder.js';
import { syncFolder } from './sync-folder.js';
import { isTemporary, removeAbandonedIn, removeIfAbandoned } from './temporary-files.js';
import type { GetOptions, ListOptions, ObjectInfo, ObjectStore, PutOptions, RequestOptions } from './object-store.js';

/** The most one file read returns (Node's fs); asked for more, Node fails an assertion and aborts the whole process. */
const maxReadBytes = 2 ** 31 - 1;

/**
 * A local folder laid out like the bucket: the key "hrrr.20190920/conus/x.grib2" is the file
 * ROOT/hrrr.20190920/conus/x.grib2. Writes go to a temporary name, synced, and are renamed into
 * place, so a reader never sees a half-written object; the folder is synced then, so that the
 * rename survives a power loss (a put resolves once both are on disk), and so is the folder
 * holding each folder the put made. One a killed put left is removed by a later listing
 * of its folder, or the first put of this store into it (a folder no one lists: progress/), once
 * abandoned (temporary-files.ts).
 */
export class FolderStore implements ObjectStore {
  readonly url: string;
  private readonly root: string;
  /** The folders this store has put into, whose abandoned temporary files are removed already. */
  private readonly swept = new Set<string>();

  constructor(root: string) {
    this.root = resolve(root);
    // A comma separates store locations (openStore): escaped, the URL opens this folder again.
    this.url = pathToFileURL(this.root).href.replaceAll(',', '%2C');
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    const keys: string[] = [];
    // Only walk the folders the prefix can reach into.
    const slash = prefix.lastIndexOf('/');
    const base = slash < 0 ? '' : prefix.slice(0, slash + 1);
    await this.collect(this.path(base), keys);
    keys.sort();
    for (const key of keys) {
      if (!key.startsWith(prefix) || (options.startAfter !== undefined && key <= options.startAfter)) continue;
      options.signal?.throwIfAborted();
      const info = await this.head(key);
      if (info) yield info;
    }
  }

  async head(key: string, _options?: RequestOptions): Promise<ObjectInfo | undefined> {
    try {
      const stats = await stat(this.objectPath(key));
      return stats.isFile() ? { key, size: stats.size, lastModified: stats.mtime } : undefined;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw this.failure(key, error);
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<Uint8Array> {
    let file;
    try {
      file = await open(this.objectPath(key), 'r');
    } catch (error) {
      throw isMissing(error) ? new ObjectNotFoundError(this.location(key), { cause: error }) : this.failure(key, error);
    }
    try {
      const stats = await file.stat();
      // A folder is where keys beginning with this one are; this key names no object.
      if (stats.isDirectory()) throw new ObjectNotFoundError(this.location(key));
      const size = stats.size;
      const start = options.range?.start ?? 0;
      const end = Math.min(options.range?.end ?? size - 1, size - 1);
      if (start > end && size > 0) {
        throw new StoreError('invalid', this.location(key), `range ${start}-${options.range?.end ?? ''} is outside the object (${size} bytes)`);
      }
      if (end - start + 1 > maxReadBytes) {
        throw new StoreError('invalid', this.location(key), `bytes ${start}-${end}: ${end - start + 1} bytes to read at once, more than the ${maxReadBytes} a read may return`);
      }
      const bytes = new Uint8Array(Math.max(0, end - start + 1));
      const { bytesRead } = await file.read(bytes, 0, bytes.length, start);
      if (bytesRead !== bytes.length) throw new StoreError('truncated', this.location(key), `read ${bytesRead} of ${bytes.length} bytes`);
      return bytes;
    } finally {
      await file.close();
    }
  }

  async put(key: string, body: Uint8Array, options: PutOptions = {}): Promise<void> {
    const path = this.objectPath(key);
    // Named as isTemporary recognizes it, for a listing to remove it if this process is killed.
    const temporary = `${path}.partial-${process.pid}-${Math.random().toString(36).slice(2)}`;
    try {
      await makeDurableFolder(dirname(path));
      if (!this.swept.has(dirname(path))) {
        this.swept.add(dirname(path));
        await removeAbandonedIn(dirname(path));
      }
      const file = await open(temporary, 'w');
      try {
        await file.writeFile(body);
        await file.sync();
      } finally {
        await file.close();
      }
      // A hard link fails when the name is taken, where a rename would replace it.
      if (options.ifAbsent) await link(temporary, path).finally(() => rm(temporary, { force: true }));
      else if (options.ifHolds) await withFileLock(path, () => this.renameIfHolds(key, path, temporary, options.ifHolds!), options.signal);
      else await rename(temporary, path);
      await syncFolder(dirname(path));
    } catch (error) {
      // Fails too (ENOTDIR) when a file stands where a folder of the key should be: the error to report is the first.
      await rm(temporary, { force: true }).catch(() => {});
      if (error instanceof ObjectChangedError) throw error;
      if (options.ifAbsent && (error as NodeJS.ErrnoException).code === 'EEXIST') throw new ObjectExistsError(this.location(key), { cause: error });
      throw this.failure(key, error);
    }
  }

  /**
   * Under the key's lock: every conditional write of it takes the lock, so none comes between the
   * comparison and the rename. A plain put takes none: an object written by compare-and-swap is
   * written so by every writer.
   */
  private async renameIfHolds(key: string, path: string, temporary: string, expected: Uint8Array): Promise<void> {
    const held = await readFile(path).catch((error: NodeJS.ErrnoException) => {
      if (isMissing(error) || error.code === 'EISDIR') return undefined;
      throw error;
    });
    if (held === undefined || Buffer.compare(held, expected) !== 0) throw new ObjectChangedError(this.location(key));
    await rename(temporary, path);
  }

  async delete(key: string, _options?: RequestOptions): Promise<void> {
    const path = this.objectPath(key);
    try {
      if ((await stat(path)).isDirectory()) return;
      await rm(path, { force: true });
    } catch (error) {
      if (!isMissing(error)) throw this.failure(key, error);
    }
  }

  /**
   * Adds the keys of the files under `folder`. A symbolic link counts as what it leads to, as
   * head and get read it (a day folder linked into a mirror is listed); a link to a folder already
   * being walked (one above it) is not walked again, and a link that leads nowhere is no object.
   */
  private async collect(folder: string, keys: string[], walking: readonly string[] = []): Promise<void> {
    let entries, real;
    try {
      real = await realpath(folder);
      if (walking.includes(real)) return;
      entries = await readdir(folder, { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return;
      throw this.failure(this.keyOf(folder, '/'), error);
    }
    for (const entry of entries) {
      const path = join(folder, entry.name);
      const kind = entry.isSymbolicLink() ? await this.followLink(path) : entry;
      const temporary = isTemporary(entry.name);
      if (kind?.isDirectory()) await this.collect(path, keys, [...walking, real]);
      else if (kind?.isFile() && !temporary) keys.push(this.keyOf(path));
      else if (temporary && entry.isFile()) await removeIfAbandoned(path);
    }
  }

  /** What a link leads to; undefined when nothing (dangling, or a loop of links). */
  private async followLink(path: string): Promise<Stats | undefined> {
    try {
      return await stat(path);
    } catch (error) {
      if (isMissing(error) || (error as NodeJS.ErrnoException).code === 'ELOOP') return undefined;
      throw this.failure(this.keyOf(path), error);
    }
  }

  private keyOf(path: string, folderEnd = ''): string {
    const key = relative(this.root, path).split(sep).join('/');
    return key === '' ? '' : key + folderEnd;
  }

  /**
   * The file of an object. A key the folder would rewrite ("a/../b", "a/./b", "a//b", "a/",
   * "/a") is refused: as a file it would be another key's, and list would give it back changed.
   */
  private objectPath(key: string): string {
    if (key.split('/').some((part) => part === '' || part === '.' || part === '..')) {
      throw new StoreError('invalid', this.location(key), 'a folder cannot hold a key with an empty, "." or ".." part between its slashes');
    }
    return this.path(key);
  }

  private path(key: string): string {
    const path = resolve(this.root, key);
    if (path !== this.root && !path.startsWith(this.root + sep)) throw new StoreError('invalid', this.location(key), 'key leaves the store folder');
    return path;
  }

  private location(key: string): string {
    return `${this.url}/${key}`;
  }

  private failure(key: string, error: unknown): StoreError {
    return new StoreError(classifyFileError(error), this.location(key), error instanceof Error ? error.message : String(error), { cause: error });
  }
}

/** Sorts a file system error by what the caller should do about it, as `classify` does an S3 one. */
export function classifyFileError(error: unknown): StoreErrorKind {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (code === 'EACCES' || code === 'EPERM') return 'denied';
  if (code === 'ETIMEDOUT') return 'timeout';
  // Out of file handles or a file busy: passes once others are given back.
  if (code === 'EMFILE' || code === 'ENFILE' || code === 'EAGAIN' || code === 'EBUSY' || code === 'EINTR') return 'throttled';
  // A disk or network mount (NFS: a stale handle) that failed this once: the object is not shown to be bad.
  if (code === 'EIO' || code === 'ESTALE') return 'network';
  return 'invalid';
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
