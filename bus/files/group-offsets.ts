import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { removeAbandonedIn } from '../../store/temporary-files.js';
import { writeDurably } from './durable.js';

/** Committed offsets of one consumer group: topic -> partition -> the next offset to read. */
export type CommittedOffsets = Record<string, Record<string, number>>;

/**
 * A consumer group's committed offsets in one small JSON file. A commit writes a new file and
 * renames it over the old one after syncing both, so a crash leaves the old commit or the new one.
 */
export class GroupOffsets {
  private committed: CommittedOffsets | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly path: string) {}

  async load(): Promise<CommittedOffsets> {
    if (this.committed) return this.committed;
    // Commits a killed process left half-written, once per group opened.
    await removeAbandonedIn(dirname(this.path));
    try {
      this.committed = JSON.parse(await readFile(this.path, 'utf8')) as CommittedOffsets;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.committed = {};
    }
    return this.committed;
  }

  /** The committed next offset of a partition, if the group committed one. */
  async next(topic: string, partition: number): Promise<number | undefined> {
    return (await this.load())[topic]?.[partition];
  }

  /** Records these next offsets durably; an offset lower than the one committed is ignored. */
  commit(offsets: Iterable<{ topic: string; partition: number; offset: number }>): Promise<void> {
    const done = this.queue.then(async () => {
      const committed = structuredClone(await this.load());
      for (const { topic, partition, offset } of offsets) {
        const partitions = (committed[topic] ??= {});
        partitions[partition] = Math.max(partitions[partition] ?? 0, offset);
      }
      await writeDurably(this.path, JSON.stringify(committed));
      this.committed = committed;
    });
    this.queue = done.catch(() => {});
    return done;
  }
}
