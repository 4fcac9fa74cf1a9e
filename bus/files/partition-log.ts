import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { declaredFrameBytes, decodeFrame, encodeFrame, type StoredRecord } from './frame.js';
import { removeAbandonedIn } from '../../store/temporary-files.js';
import { lockPartitionWriter } from './writer-lock.js';

/** A place in a partition file: the byte where the record with this offset starts. */
export interface LogPosition {
  offset: number;
  byte: number;
}

const readChunkBytes = 1024 * 1024;

/**
 * The writing end of one partition file. Appends go one at a time, each synced to disk before it
 * is acknowledged. On first use the file is scanned: a record whose write was cut short (a crash
 * mid-append) is cut off the end, so that the next record follows the last whole one; so is what
 * an append that failed part way (a full disk) wrote.
 * One process writes a partition at a time: another one's writer is refused (writer-lock.ts).
 */
export class PartitionWriter {
  private file: FileHandle | undefined;
  private unlock: (() => Promise<void>) | undefined;
  private end: LogPosition = { offset: 0, byte: 0 };
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly path: string) {}

  /** Appends the records; resolves with the offset of the first once they are on disk. */
  append(records: StoredRecord[]): Promise<number> {
    const appended = this.queue.then(() => this.write(records));
    this.queue = appended.catch(() => {});
    return appended;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.file?.close();
    this.file = undefined;
    await this.unlock?.();
    this.unlock = undefined;
  }

  private async write(records: StoredRecord[]): Promise<number> {
    const file = await this.opened();
    const frames = Buffer.concat(records.map(encodeFrame));
    const first = this.end.offset;
    try {
      let written = 0;
      while (written < frames.length) written += (await file.write(frames, written, frames.length - written, this.end.byte + written)).bytesWritten;
      await file.datasync();
    } catch (error) {
      // What it wrote goes (a disk that filled up part way): the next append would follow those bytes, which no reader gets past.
      await file.truncate(this.end.byte).catch(async () => {
        // Opened and scanned again at the next append, which cuts them off as after a crash.
        this.file = undefined;
        await file.close().catch(() => {});
      });
      throw error;
    }
    this.end = { offset: first + records.length, byte: this.end.byte + frames.length };
    return first;
  }

  private async opened(): Promise<FileHandle> {
    if (this.file) return this.file;
    const unlock = await lockPartitionWriter(this.path);
    let file: FileHandle | undefined;
    try {
      // The topic's temporary files a killed process left (partitions, a writer lock's): its writer is the one to remove them.
      await removeAbandonedIn(dirname(this.path));
      file = await open(this.path, 'a+');
      const size = (await file.stat()).size;
      this.end = await scan(file, { offset: 0, byte: 0 }, Infinity);
      if (this.end.byte < size) await file.truncate(this.end.byte);
    } catch (error) {
      await file?.close();
      await unlock();
      throw error;
    }
    this.file = file;
    this.unlock = unlock;
    return file;
  }
}

/**
 * Reads whole records from a partition file, from a position on, while another process may be
 * appending to it: a record not yet wholly written is left for the next read.
 */
export class PartitionReader {
  private constructor(
    private readonly file: FileHandle,
    private position: LogPosition,
  ) {}

  /** A reader at the record with this offset (or the end, if the file holds fewer records). */
  static async at(path: string, offset: number | 'end'): Promise<PartitionReader> {
    const file = await open(path, 'r');
    try {
      return new PartitionReader(file, await scan(file, { offset: 0, byte: 0 }, offset === 'end' ? Infinity : offset));
    } catch (error) {
      await file.close();
      throw error;
    }
  }

  /** A reader at the first record written (by its timestamp) at `since` or later, or at the end if none was. */
  static async since(path: string, since: Date): Promise<PartitionReader> {
    const scanning = await PartitionReader.at(path, 0);
    try {
      for (let records = await scanning.read(); records.length > 0; records = await scanning.read()) {
        const first = records.find(({ timestamp }) => timestamp >= since);
        if (first) return await PartitionReader.at(path, first.offset);
      }
      return await PartitionReader.at(path, scanning.offset);
    } finally {
      await scanning.close();
    }
  }

  get offset(): number {
    return this.position.offset;
  }

  /** The whole records written after the reader's position so far (possibly none), and moves past them. */
  async read(maxBytes = readChunkBytes): Promise<Array<StoredRecord & { offset: number }>> {
    const records: Array<StoredRecord & { offset: number }> = [];
    let chunk = await readAt(this.file, this.position.byte, maxBytes);
    let at = 0;
    for (;;) {
      const rest = chunk.subarray(at);
      const frame = decodeFrame(rest);
      if (frame) {
        records.push({ ...frame.record, offset: this.position.offset });
        this.position = { offset: this.position.offset + 1, byte: this.position.byte + frame.bytes };
        at += frame.bytes;
        continue;
      }
      // A record larger than the chunk: read it whole, if it is all there.
      const needed = declaredFrameBytes(rest);
      if (records.length === 0 && needed !== undefined && needed > rest.length && rest.length === chunk.length && chunk.length === maxBytes) {
        chunk = await readAt(this.file, this.position.byte, needed);
        at = 0;
        if (chunk.length === needed && decodeFrame(chunk)) continue;
      }
      return records;
    }
  }

  async close(): Promise<void> {
    await this.file.close();
  }
}

/** Walks whole records from `from` until `offset` records are behind or no whole record follows. */
async function scan(file: FileHandle, from: LogPosition, offset: number): Promise<LogPosition> {
  let position = from;
  while (position.offset < offset) {
    const chunk = await readAt(file, position.byte, readChunkBytes);
    let at = 0;
    let moved = false;
    while (position.offset < offset) {
      const rest = chunk.subarray(at);
      const needed = declaredFrameBytes(rest);
      if (needed === undefined || needed > rest.length) break;
      if (!decodeFrame(rest)) return position;
      position = { offset: position.offset + 1, byte: position.byte + needed };
      at += needed;
      moved = true;
    }
    if (!moved) {
      // Either the end, or a single record larger than the chunk.
      const needed = declaredFrameBytes(chunk);
      if (needed === undefined || needed <= chunk.length) return position;
      const whole = await readAt(file, position.byte, needed);
      if (whole.length < needed || !decodeFrame(whole)) return position;
      position = { offset: position.offset + 1, byte: position.byte + needed };
    }
  }
  return position;
}

async function readAt(file: FileHandle, byte: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  const { bytesRead } = await file.read(buffer, 0, length, byte);
  return buffer.subarray(0, bytesRead);
}
