import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { S3Server, testCredentials } from '../../infra/s3-server.js';
import { SEED_NORMALIZATION } from '../../model/config.js';
import { listVersions, promotedVersion } from '../../model/versions.js';
import { createShardWriter } from '../../shards/writer.js';
import { HOUR_MS } from '../../stages/sources/hrrr-archive.js';
import { FolderStore } from '../../store/folder.js';
import { SMALL_CONFIG } from '../model/fixtures.js';
import { START } from '../support/analyses.js';
import { runCommandProcess } from '../support/cli-process.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { FIELD, smallFieldOfHour } from '../training/memory-shards.js';

let server: S3Server;
let proxy: FaultProxy;
let work: string;
let modelConfig: string;
before(async () => {
  [server, work] = await Promise.all([S3Server.start(), mkdtemp(join(tmpdir(), 'hrrr-embed-trainer-signals-'))]);
  proxy = await FaultProxy.start(server.endpoint);
  const writer = createShardWriter({ store: new FolderStore(join(work, 'shards')), normalization: SEED_NORMALIZATION });
  for (const n of [0, 1, 2, 3, 24, 25]) await writer.append({ validTime: new Date(START.getTime() + n * HOUR_MS), field: FIELD, source: `memory://hour/${n}`, height: 32, width: 64, values: smallFieldOfHour(n) });
  await writer.close();
  modelConfig = join(work, 'small.json');
  await writeFile(modelConfig, JSON.stringify({ model: SMALL_CONFIG }));
});
after(async () => {
  await proxy.stop();
  await server.stop();
  await rm(work, { recursive: true, force: true });
});

/**
 * Runs the command on the small model with a model store on S3 whose checkpoint writes never
 * get an answer: the first SIGTERM (once a step is done) leaves it writing the checkpoint, where
 * the second one comes.
 */
async function stoppedTwice(command: string[], bucket: string) {
  const models = await server.store(bucket);
  proxy.reset();
  const writingCheckpoint = (request: { method: string; path: string }) => request.method === 'PUT' && request.path.includes('/checkpoints/');
  proxy.inject(...Array.from({ length: 20 }, () => ({ kind: 'stall' as const, when: writingCheckpoint })));
  let child: ChildProcess | undefined;
  let stderr = '';
  let signals = 0;
  let guard: NodeJS.Timeout | undefined;
  const watching = setInterval(() => {
    if (!child) return;
    const due = signals === 0 ? stderr.includes('"step":') : signals === 1 && proxy.requests.some((request) => request.fault === 'stall');
    if (!due) return;
    signals++;
    child.kill('SIGTERM');
    // Only against a hang: far longer than stopping takes.
    if (signals === 2) guard = setTimeout(() => child!.kill('SIGKILL'), 30_000);
  }, 50);
  const result = await runCommandProcess(
    [...command, '--models', `s3://${bucket}`, '--endpoint', proxy.endpoint, '--shards', join(work, 'shards'), '--data', join(work, `bus-${bucket}`), '--fresh', '--model-config', modelConfig,
      '--from', '2019-09-20T00Z', '--to', '2019-09-21T23Z', '--steps', '100000', '--steps-per-checkpoint', '100000', '--device', 'cpu', '--verbose'],
    {
      env: { AWS_ACCESS_KEY_ID: testCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey, AWS_REGION: 'us-east-1' },
      onStderr: (text, process) => ((stderr = text), (child = process)),
    },
  );
  clearInterval(watching);
  clearTimeout(guard);
  assert.equal(signals, 2, result.stderr);
  assert.equal(result.status, 1, `exit status ${result.status} (null: killed by a signal, or still stopping 30 s after the second SIGTERM)\n${result.stderr}`);
  assert.match(result.stderr, /second SIGTERM: stopping now/);
  assert.deepEqual(await listVersions(models), [], 'no version saved');
  assert.equal(await promotedVersion(models), undefined, 'none promoted');
  const objects: string[] = [];
  for await (const { key } of models.list('training/')) objects.push(key);
  assert.ok(!objects.some((key) => key.endsWith('latest.json')), `no checkpoint a later run would resume from: ${objects.join(', ')}`);
}

describe('a second SIGTERM to a training command that is checkpointing after the first', () => {
  it('stops retrain at once with exit status 1, leaving no version and no checkpoint', { timeout: 90_000 }, async () => {
    await stoppedTwice(['retrain'], 'retrain-twice');
  });

  it('stops the trainer at once with exit status 1, leaving no version and no checkpoint', { timeout: 90_000 }, async () => {
    await stoppedTwice(['trainer', '--schedule', '* * * * * *'], 'trainer-twice');
  });
});
