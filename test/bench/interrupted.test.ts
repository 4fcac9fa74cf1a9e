import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { repoRoot } from '../paths.js';

const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-bench-interrupted-'));
after(() => rmSync(work, { recursive: true, force: true }));

/**
 * Runs a benchmark with a temporary folder of its own, sends it one SIGTERM once `ready` holds of
 * that folder's entries, and gives back how it ended and what it left there.
 */
async function interrupted(args: string[], ready: (folder: string, entries: string[]) => boolean) {
  const folder = mkdtempSync(join(work, 'tmp-'));
  const child = spawn(process.execPath, [join(repoRoot, 'dist', 'bench', 'main.js'), ...args], { stdio: 'ignore', env: { ...process.env, TMPDIR: folder, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let exited = false;
  void ended.then(() => (exited = true));
  while (!exited && !ready(folder, readdirSync(folder))) await delay(50);
  assert.equal(exited, false, 'the benchmark ended before it could be interrupted');
  child.kill('SIGTERM');
  const end = await ended;
  // A JVM sent SIGKILL at the benchmark's exit takes a moment to go (over 0.5 s on a loaded
  // machine), writing into its folder until then; one never killed is still there after 15 s.
  const runningIn = () => spawnSync('pgrep', ['-f', folder], { encoding: 'utf8' }).stdout.trim();
  for (const giveUp = Date.now() + 15_000; runningIn() !== '' && Date.now() < giveUp; ) await delay(100);
  return { ...end, left: readdirSync(folder), running: runningIn() };
}

describe('a benchmark stopped by SIGTERM', () => {
  it('bus: exits 143 and leaves no broker and no folder behind, even while its broker runs', async () => {
    const result = await interrupted(['bus', '--records', '20000', '--single', '5'], (folder, entries) => entries.some((name) => name.startsWith('hrrr-embed-kafka-') && existsSync(join(folder, name, 'data'))));
    assert.deepEqual(result, { code: 143, signal: null, left: [], running: '' });
  });

  it('backfill: exits 143 and leaves no folder behind while it seeds its S3 server', async () => {
    const result = await interrupted(['backfill', '--hours', '48'], (_, entries) => entries.some((name) => name.startsWith('hrrr-embed-bench-')));
    assert.deepEqual(result, { code: 143, signal: null, left: [], running: '' });
  });
});
