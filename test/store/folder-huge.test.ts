import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { StoreError } from '../../store/errors.js';
import { FolderStore } from '../../store/folder.js';

const root = mkdtempSync(join(tmpdir(), 'folder-huge-'));
after(() => rmSync(root, { recursive: true, force: true }));
const GiB = 2 ** 30;

/** A sparse file of 3 GiB: zeros that take no disk. */
writeFileSync(join(root, 'weights.bin'), '');
truncateSync(join(root, 'weights.bin'), 3 * GiB);

describe('a folder store object over the 2 GiB one file read can return', () => {
  it('read whole, is refused with an error naming the object and its size, where it aborted the process (a failed assertion in fs.read)', async () => {
    await assert.rejects(new FolderStore(root).get('weights.bin'), (error: unknown) => {
      assert.ok(error instanceof StoreError && error.kind === 'invalid' && !error.retriable, String(error));
      assert.match(error.message, /weights\.bin: bytes 0-3221225471: 3221225472 bytes to read at once, more than the 2147483647 a read may return/);
      return true;
    });
  });

  it('read by a range of 2.5 GiB, is refused the same way; a range of a few bytes of it is read', async () => {
    const store = new FolderStore(root);
    await assert.rejects(store.get('weights.bin', { range: { start: 0.5 * GiB, end: 3 * GiB - 1 } }), /2684354560 bytes to read at once/);
    assert.deepEqual(await store.get('weights.bin', { range: { start: 3 * GiB - 4 } }), new Uint8Array(4));
  });
});
