import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot } from '../paths.js';

const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-read-only-'));
after(() => rmSync(work, { recursive: true, force: true }));
const child = join(repoRoot, 'dist', 'test', 'store', 'read-only-child.js');

/** `command` in a mount namespace where `folder` is read-only, as root there (a user namespace where the kernel allows one). */
function inReadOnly(folder: string, command: string[]) {
  return spawnSync('unshare', ['--map-root-user', '--mount', 'sh', '-c', 'mount --bind -o ro "$0" "$0" && exec "$@"', folder, ...command], { encoding: 'utf8' });
}
const probe = inReadOnly(work, ['true']);
const skip = probe.error || probe.status !== 0 ? `no mount namespace here to make a folder read-only in (${probe.error?.message ?? probe.stderr.trim()})` : false;

describe('a folder on a read-only file system (a container\'s read-only root)', { skip }, () => {
  it('is named read-only (EROFS) by the folder store, the embedded bus and output files, not "no such file or directory" as Node 20\'s recursive mkdir says', () => {
    const result = inReadOnly(work, [process.execPath, child, work]);
    assert.equal(result.status, 0, result.stderr);
    const failures = JSON.parse(result.stdout) as Record<string, string>;
    assert.equal(Object.keys(failures).length, 3);
    for (const [writer, message] of Object.entries(failures)) {
      assert.match(message, /EROFS: read-only file system/, writer);
      assert.ok(message.includes(work), `${writer}: ${message} names the folder`);
    }
  });
});
