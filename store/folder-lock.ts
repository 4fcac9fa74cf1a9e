/**
 * An exclusive lock of one file of a folder store, across processes, for a compare-and-swap: held
 * for the moment of a read, a comparison and a rename. The lock is the file PATH.partial-lock, made
 * with a hard link (which fails when the name is taken) of a file holding a random token, so it
 * is never seen empty. A process killed holding it (SIGKILL runs no cleanup) leaves it behind: a
 * lock older than `abandonedAfterMs` is broken by the one waiter that first links it to
 * PATH.partial-lock-HASH (of its token), so that two waiters never both break it, nor one break a
 * lock taken since. Its age is judged on the file system's clock, never a host's: on a folder
 * shared over NFS the file server sets both times compared (the lock's, and that of a file the
 * waiter has just written), so a host whose clock is off breaks no lock that is held.
 */
import { createHash, randomBytes } from 'node:crypto';
import { link, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** Far longer than the few milliseconds a holder needs: one held this long was left by a killed process. */
const abandonedAfterMs = 30_000;

/** Runs `work` while this process holds the lock of `path`, waiting for it as long as another holds it. */
export async function withFileLock<T>(path: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  const lock = `${path}.partial-lock`;
  const token = randomBytes(8).toString('hex');
  // Named as a put's temporary file: a listing removes it if this process is killed right here.
  const mine = `${path}.partial-${process.pid}-${token}`;
  try {
    for (let waitMs = 1; ; waitMs = Math.min(waitMs * 2, 50)) {
      signal?.throwIfAborted();
      // Written anew before each try, its time set by the file system: the lock's age is its
      // file's, so a lock taken after a long wait (out a killed holder's) is not at once old
      // enough to break; and it is the file system's now that a lock's age is judged against.
      await writeFile(mine, token);
      try {
        await link(mine, lock);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        // The link made, its reply lost (NFS retransmits it, and the retry finds the name taken):
        // the lock is this waiter's file, which its rewrites would keep young for ever.
        if ((await stat(mine)).nlink > 1) break;
      }
      await breakIfAbandoned(lock, mine);
      await sleep(waitMs);
    }
  } finally {
    await rm(mine, { force: true });
  }
  try {
    return await work();
  } finally {
    // Only our own: a lock broken while this process stalled is another's by now.
    if ((await readFile(lock, 'utf8').catch(() => undefined)) === token) await rm(lock, { force: true });
  }
}

/** `written` is the waiter's file, written just before: its time is the file system's now, or a little before (the age is never overestimated). */
async function breakIfAbandoned(lock: string, written: string): Promise<void> {
  const now = (await stat(written)).mtimeMs;
  let holder: string;
  try {
    // Both from one open file: the age and the holder of one lock, not the age of a killed
    // holder's and the token of one that another waiter took after breaking it.
    const file = await open(lock, 'r');
    try {
      if (now - (await file.stat()).mtimeMs < abandonedAfterMs) return;
      holder = await file.readFile('utf8');
    } finally {
      await file.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // let go meanwhile
    throw error;
  }
  // A link of whatever the lock is now: only the waiter that makes it may break this holder's lock.
  // Hex whatever the lock holds (one written by hand too): a name a listing knows for no object.
  const breaker = `${lock}-${createHash('sha256').update(holder).digest('hex').slice(0, 16)}`;
  try {
    await link(lock, breaker);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOENT') return; // another waiter breaks it, or it was let go
    throw error;
  }
  if ((await readFile(breaker, 'utf8')) === holder) {
    // Nothing but this waiter removes the holder's lock now: the name still leads to it.
    await rm(lock, { force: true });
  }
  // Kept when it broke a lock, so that no waiter that read the same holder breaks the lock taken next; a listing removes it later.
  else await rm(breaker, { force: true });
}
