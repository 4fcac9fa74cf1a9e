import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot } from '../paths.js';

const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-full-disk-'));
after(() => rmSync(work, { recursive: true, force: true }));
const child = join(repoRoot, 'dist', 'test', 'bus', 'file-bus-full-disk-child.js');

/** `command` in a mount namespace where `folder` is a file system of 256 KiB (a user namespace where the kernel allows one). */
function onSmallDisk(folder: string, command: string[]) {
  return spawnSync('unshare', ['--map-root-user', '--mount', 'sh', '-c', 'mount -t tmpfs -o size=256k tmpfs "$0" && exec "$@"', folder, ...command], { encoding: 'utf8' });
}
const probe = onSmallDisk(work, ['true']);
const skip = probe.error || probe.status !== 0 ? `no mount namespace here to mount a small file system in (${probe.error?.message ?? probe.stderr.trim()})` : false;

describe('the file bus on a disk that fills up', { skip }, () => {
  it('an append that fails part way (no space left) leaves nothing of itself: the records acknowledged after it are read, not stuck behind its bytes', () => {
    const result = onSmallDisk(work, [process.execPath, child, work]);
    assert.equal(result.status, 0, result.stderr);
    const { acknowledged, read } = JSON.parse(result.stdout) as { acknowledged: string[]; read: string[] };
    assert.deepEqual(acknowledged, ['a', 'c'], 'the disk was not full when it should have been');
    assert.deepEqual(read, acknowledged);
  });
});
