import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ScratchFolder {
  readonly path: string;
  remove(): Promise<void>;
}

/**
 * A temporary folder for a benchmark's files: remove() takes it away, or the process's exit does
 * if it comes first (bench/main.ts turns SIGINT and SIGTERM into one, skipping every finally).
 */
export async function scratchFolder(name: string): Promise<ScratchFolder> {
  const path = await mkdtemp(join(tmpdir(), `hrrr-embed-bench-${name}-`));
  const removeOnExit = () => rmSync(path, { recursive: true, force: true });
  process.once('exit', removeOnExit);
  return {
    path,
    async remove() {
      process.off('exit', removeOnExit);
      await rm(path, { recursive: true, force: true });
    },
  };
}
