import { randomBytes } from 'node:crypto';
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';

/** Who writes a partition file, in PATH.writer. */
interface WriterRecord {
  pid: number;
  host: string;
  since: string;
}

/**
 * Takes the one-writer lock of a partition file: PATH.writer names the process writing it, made
 * whole (written beside it, then hard-linked in its place, which fails when one is there). A
 * live process of this host holding it is refused, naming it: its appends would land among ours
 * at offsets neither knows, and a writer opening the file cuts off a record another is still
 * writing as if a crash had torn it. A lock left by a process that is gone (a crash, SIGKILL), by
 * this process (or an earlier one of its pid: a restarted container), or by another host, whose
 * processes cannot be seen from here, is taken over. Resolves with what lets it go.
 */
export async function lockPartitionWriter(path: string): Promise<() => Promise<void>> {
  const lock = `${path}.writer`;
  const mine: WriterRecord = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  const whole = `${lock}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(whole, `${JSON.stringify(mine)}\n`);
  try {
    for (;;) {
      try {
        await link(whole, lock);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = await readHolder(lock);
      if (holder && holder.pid !== process.pid && holder.host === mine.host && isAlive(holder.pid)) {
        throw new Error(`partition file ${path} is written by process ${holder.pid} on this host since ${holder.since} (${lock}): one process writes a partition of the file bus at a time; stop that process, or give this one another --data (if no process ${holder.pid} writes it, delete ${lock})`);
      }
      await removeIfThere(lock);
    }
  } finally {
    await removeIfThere(whole);
  }
  return async () => {
    const holder = await readHolder(lock);
    if (holder?.pid === mine.pid && holder.since === mine.since) await removeIfThere(lock);
  };
}

async function readHolder(lock: string): Promise<WriterRecord | undefined> {
  try {
    const holder = JSON.parse(await readFile(lock, 'utf8')) as WriterRecord;
    return Number.isInteger(holder.pid) && typeof holder.host === 'string' ? holder : undefined;
  } catch {
    return undefined; // gone, or not a lock this build wrote: taken over
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function removeIfThere(path: string): Promise<void> {
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}
