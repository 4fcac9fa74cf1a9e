import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot } from '../paths.js';

const cli = join(repoRoot, 'dist', 'cli', 'main.js');
const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-terminal-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** What a terminal would act on: ESC (colours, the window title, OSC 52 writes the clipboard), BEL, CR, DEL and the C1 controls. */
const TERMINAL_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe('an error message on stderr made of what a store holds', () => {
  it('shows the control characters of a key and an object as escapes, not as terminal commands', () => {
    const store = join(work, 'shards');
    const month = join(store, 'shards', 'REFC_entire_atmosphere_anl', '2019', '09');
    mkdirSync(month, { recursive: true });
    // Anyone who can write the shard store names the manifest and writes its bytes: an OSC that sets the window title, a CSI that clears the screen.
    writeFileSync(join(month, 'part-\u001b]0;owned\u0007.manifest.json'), '\u001b[2J\u009b31m not JSON\r');

    const result = spawnSync(process.execPath, [cli, 'shards', 'list', '--store', store], { encoding: 'utf8' });

    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /^hrrr-embed shards: shard manifest .*not JSON/m);
    assert.doesNotMatch(result.stderr, TERMINAL_CONTROLS, JSON.stringify(result.stderr));
    assert.match(result.stderr, /part-\\u001b\]0;owned\\u0007\.manifest\.json/, 'the key is still shown, its controls escaped');
  });
});
