import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { promoteVersion, saveVersion } from '../../model/versions.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { S3Server, testCredentials } from '../../infra/s3-server.js';
import { putAnalysis, smallAnalysisOfHour } from '../support/analyses.js';
import { runCommandProcess } from '../support/cli-process.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { SMALL_CONFIG } from '../model/fixtures.js';

let work: string;
let server: S3Server;
let proxy: FaultProxy;
const bucket = `signals-${process.pid}`;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'hrrr-embed-run-signals-'));
  server = await S3Server.start();
  await putAnalysis(await server.store(bucket), smallAnalysisOfHour(0));
  proxy = await FaultProxy.start(server.endpoint);
  await selectBackend('cpu', 'inference', silentLogger);
  const models = new FolderStore(join(work, 'models'));
  await saveVersion(models, createAutoencoder({ config: SMALL_CONFIG }), { modelId: 'small-1' });
  await promoteVersion(models, 'small-1');
});
after(async () => {
  await proxy.stop();
  await server.stop();
  await rm(work, { recursive: true, force: true });
});

describe('hrrr-embed run, signals', () => {
  it('a second SIGTERM while it drains stops it at once: the analysis in flight is left for the next run, and the exit status is 1', async () => {
    // The analysis's GRIB2 bytes never come: it stays in flight, and the drain (600 s) would wait for it.
    const fetchingBytes = (request: { method: string; range: string | undefined }) => request.method === 'GET' && request.range !== undefined;
    proxy.inject(...Array.from({ length: 20 }, () => ({ kind: 'stall' as const, when: fetchingBytes })));
    let child: ChildProcess | undefined;
    let stderr = '';
    let signals = 0;
    let guard: NodeJS.Timeout | undefined;
    const watching = setInterval(() => {
      if (!child) return;
      const due = signals === 0 ? proxy.requests.some((request) => request.fault === 'stall') : signals === 1 && stderr.includes('shutting down');
      if (!due) return;
      signals++;
      child.kill('SIGTERM');
      // Only against a hang: far longer than stopping takes.
      if (signals === 2) guard = setTimeout(() => child!.kill('SIGKILL'), 60_000);
    }, 50);
    const result = await runCommandProcess(
      ['run', '--source', `s3://${bucket}`, '--endpoint', proxy.endpoint, '--data', join(work, 'data'), '--model', join(work, 'models'), '--device', 'cpu', '--shards', 'off', '--from', '2019-09-20T00Z', '--to', '2019-09-20T00Z', '--drain-seconds', '600'],
      {
        env: { AWS_ACCESS_KEY_ID: testCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey, AWS_REGION: 'us-east-1' },
        onStderr: (text, process) => ((stderr = text), (child = process)),
      },
    );
    clearInterval(watching);
    clearTimeout(guard);
    assert.equal(signals, 2, result.stderr);
    assert.equal(result.status, 1, `exit status ${result.status} (null: still draining 60 s after the second SIGTERM, killed)\n${result.stderr}`);
    assert.match(result.stderr, /second SIGTERM/);
    assert.deepEqual(result.lines, [], 'nothing done, nothing dead-lettered');
  });
});
