import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { S3Server } from '../../infra/s3-server.js';

/** The process id of the moto server listening on `endpoint`'s port. */
function motoProcess(endpoint: string): number {
  const pids = execFileSync('pgrep', ['-f', `moto_server --host 127.0.0.1 --port ${new URL(endpoint).port}$`], { encoding: 'utf8' }).trim().split('\n');
  assert.equal(pids.length, 1, `one moto server on ${endpoint}`);
  return Number(pids[0]);
}

describe('S3Server (infra/s3-server.ts)', () => {
  it('stop() resolves when the server was killed before it (a signal, not an exit code), and a second stop() too', async () => {
    const server = await S3Server.start();
    const pid = motoProcess(server.endpoint);
    process.kill(pid, 'SIGKILL');
    // A stop() that waited for an exit already past would leave the test with nothing to wait on: node:test fails it at once.
    await server.stop();
    await server.stop();
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
  });
});
