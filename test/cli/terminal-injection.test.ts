import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AvroCodec } from '../../bus/avro/codec.js';
import { FileBus } from '../../bus/files/file-bus.js';
import { requestRetraining } from '../../training/requests.js';
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

describe('a record printed by tail', () => {
  it('shows DEL and the C1 controls of its text (CSI is U+009B) as JSON escapes, and reads back the same', async () => {
    const data = join(work, 'bus');
    const bus = new FileBus(data);
    const codec = await AvroCodec.create();
    // Anyone who can write the topic writes the reason: JSON.stringify escapes ESC, not the C1 CSI that does the same.
    const reason = 'retrain \u009b2J\u009b31m please\u007f';
    await requestRetraining(bus, codec, 's3://models', { requestedAt: new Date('2026-11-24T12:00:00Z'), reason, force: false });
    await bus.close();

    const result = spawnSync(process.execPath, [cli, 'tail', codec.topics.retrainRequests, '--data', data, '--from-beginning', '--max', '1'], { encoding: 'utf8', timeout: 60_000 });

    assert.equal(result.status, 0, result.stderr);
    assert.doesNotMatch(result.stdout, TERMINAL_CONTROLS, JSON.stringify(result.stdout));
    assert.equal((JSON.parse(result.stdout) as { value: { reason: string } }).value.reason, reason);
  });
});
