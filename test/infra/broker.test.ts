import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { startBroker } from '../../infra/kafka/broker.js';
import { repoRoot } from '../paths.js';

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

  it('a broker that dies while starting: the error says so, and the process is free to end at once (no readiness polling left behind)', () => {
    // A listener whose key file does not exist: the JVM starts, then exits. Given ten minutes to
    // become ready, a readiness loop left running would keep the process alive until then.
    const script = join(work, 'dies.mjs');
    writeFileSync(
      script,
      [
        `import { startBroker } from ${JSON.stringify(pathToFileURL(join(repoRoot, 'dist', 'infra', 'kafka', 'broker.js')).href)};`,
        `await startBroker({ readyTimeoutMs: 600_000, secured: { pemFile: ${JSON.stringify(join(work, 'missing.pem'))}, users: { bench: 'secret' } } })`,
        '  .then(() => console.log("started"), (error) => console.log(error.message.split("\\n")[0]));',
      ].join('\n'),
    );
    const result = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 240_000, killSignal: 'SIGKILL' });
    assert.equal(result.signal, null, `still running 4 minutes after the broker died: ${result.stdout}`);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^the Kafka broker exited \(1\) before it was ready/);
  });
});
