/**
 * `npm run bench -- folder-put [--puts N] [--sizes BYTES,...] [--new-folders]`
 *
 * What syncing the folder after the rename costs a folder store's put: for each size, puts
 * through FolderStore (the file synced, renamed into place, its folder synced) side by side with
 * the same steps less the folder's sync (a put before it synced the folder), alternating one of
 * each, on the disk of the system's temporary folder. Prints the median and p90 ms per put of each
 * and their ratio. With --new-folders each put goes into a folder it makes (as a new day's shard
 * does), whose parent the store's put syncs too.
 */
import { cpus, tmpdir } from 'node:os';
import { open, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FolderStore } from '../store/folder.js';
import { makeFolder } from '../store/make-folder.js';
import { scratchFolder } from './scratch-folder.js';
import { commandLine, parseBenchArgs, UsageError } from './usage.js';

export const FOLDER_PUT_USAGE = 'npm run bench -- folder-put [--puts N] [--sizes BYTES,...] [--new-folders]';

interface Figures {
  bytes: number;
  withFolderSync: { medianMs: number; p90Ms: number };
  fileSyncOnly: { medianMs: number; p90Ms: number };
  ratio: number;
}

export async function folderPutBench(args: string[]): Promise<number> {
  const { values } = parseBenchArgs({ args, options: { puts: { type: 'string', default: '100' }, sizes: { type: 'string', default: '1024,7340032' }, 'new-folders': { type: 'boolean', default: false } } });
  const puts = Number(values.puts);
  const sizes = values.sizes.split(',').map(Number);
  const newFolders = values['new-folders'];
  if (!Number.isInteger(puts) || puts < 1) throw new UsageError('--puts takes a whole number of at least 1');
  if (!sizes.every((size) => Number.isInteger(size) && size >= 1)) throw new UsageError('--sizes takes whole numbers of bytes of at least 1, comma-separated');

  const folder = await scratchFolder('folder-put');
  const results: Figures[] = [];
  try {
    const store = new FolderStore(join(folder.path, 'store'));
    const bare = join(folder.path, 'bare');
    for (const bytes of sizes) {
      const body = new Uint8Array(bytes).map((_, i) => i % 251);
      const [synced, unsynced]: [number[], number[]] = [[], []];
      // Untimed: the store's first put into a folder makes it and sweeps it.
      await store.put('objects/warm.bin', body);
      for (let i = 0; i < puts; i++) {
        const name = newFolders ? `${bytes}/${i}/object.bin` : `${i % 10}.bin`;
        let started = performance.now();
        await store.put(`objects/${name}`, body);
        synced.push(performance.now() - started);
        started = performance.now();
        await putSyncingFileOnly(join(bare, ...name.split('/')), body);
        unsynced.push(performance.now() - started);
      }
      const [withFolderSync, fileSyncOnly] = [spread(synced), spread(unsynced)];
      results.push({ bytes, withFolderSync, fileSyncOnly, ratio: withFolderSync.medianMs / fileSyncOnly.medianMs });
    }
  } finally {
    await folder.remove();
  }

  const lines = [`folder-put benchmark: ${puts} puts of each size, alternating, ${newFolders ? 'each into a new folder, ' : ''}in ${tmpdir()}`];
  for (const r of results) {
    lines.push(`${String(r.bytes).padStart(9)} bytes  file and folder synced: median ${r.withFolderSync.medianMs.toFixed(2)} ms (p90 ${r.withFolderSync.p90Ms.toFixed(2)})  file synced only: median ${r.fileSyncOnly.medianMs.toFixed(2)} ms (p90 ${r.fileSyncOnly.p90Ms.toFixed(2)})  ratio ${r.ratio.toFixed(2)}`);
  }
  const json = { benchmark: 'folder-put', command: commandLine(['folder-put', ...args]), puts, newFolders, node: process.version, cpu: cpus()[0]?.model ?? null, cores: cpus().length, results };
  process.stdout.write(`${lines.join('\n')}\nJSON ${JSON.stringify(json)}\n`);
  return 0;
}

/** A folder store's put as it was before it synced the folder: its folder made, the file written beside, synced, renamed into place. */
async function putSyncingFileOnly(path: string, body: Uint8Array): Promise<void> {
  await makeFolder(dirname(path));
  const temporary = `${path}.partial-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const file = await open(temporary, 'w');
  try {
    await file.writeFile(body);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporary, path);
}

function spread(milliseconds: number[]): { medianMs: number; p90Ms: number } {
  const sorted = [...milliseconds].sort((a, b) => a - b);
  return { medianMs: sorted[Math.floor(sorted.length / 2)]!, p90Ms: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.9))]! };
}
