/**
 * The file bus on a file system that fills up mid-append: node file-bus-full-disk-child.js FOLDER,
 * FOLDER a small file system of its own (the test mounts one). Appends record "a", fills the disk
 * but for a few KiB, appends "b" (larger: it fails part way), frees the disk, appends "c", then
 * reads the partition back from its start and prints what was acknowledged and what was read.
 */
import { open, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { FileBus } from '../../bus/files/file-bus.js';

const folder = process.argv[2]!;
const bus = new FileBus(join(folder, 'data'));
await bus.createTopic('t');
const record = (name: string, bytes: number) => ({ key: null, value: new Uint8Array(bytes).fill(name.charCodeAt(0)) });
const acknowledged: string[] = [];
const produce = async (name: string, bytes: number) => {
  try {
    await bus.produce('t', [record(name, bytes)]);
    acknowledged.push(name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  }
};
await produce('a', 1024);

// Every block taken, then two given back: "b" fits in part.
const filler = join(folder, 'filler');
const file = await open(filler, 'w');
try {
  for (;;) await file.write(new Uint8Array(4096));
} catch (error) {
  if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
} finally {
  await file.close();
}
const { size } = await (await import('node:fs/promises')).stat(filler);
await truncate(filler, size - 8192);
await produce('b', 64 * 1024);
await rm(filler);
await produce('c', 1024);

const consumer = bus.consumer({ group: 'check', topics: ['t'], fromBeginning: true });
const read: string[] = [];
for await (const consumed of consumer.records(AbortSignal.timeout(500))) read.push(String.fromCharCode(consumed.value[0]!));
await bus.close();
process.stdout.write(`${JSON.stringify({ acknowledged, read })}\n`);
