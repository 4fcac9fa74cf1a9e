import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startBroker } from '../../infra/kafka/broker.js';

const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-broker-test-'));
after(() => rmSync(work, { recursive: true, force: true }));

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

describe('startBroker (infra/kafka/broker.ts)', () => {
  it('without java on the PATH: an error that names Java 17 and how to install it, and no data folder left', async () => {
    const [path, temporary] = [process.env.PATH, process.env.TMPDIR];
    const folders = mkdtempSync(join(work, 'tmp-'));
    process.env.PATH = mkdtempSync(join(work, 'empty-bin-'));
    process.env.TMPDIR = folders;
    try {
      await assert.rejects(startBroker(), (error: Error) => {
        assert.match(error.message, /java/);
        assert.match(error.message, /Java 17/);
        assert.match(error.message, /install-test-deps\.sh/);
        return true;
      });
    } finally {
      restore('PATH', path);
      restore('TMPDIR', temporary);
    }
    assert.deepEqual(readdirSync(folders), []);
  });
});
