import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { S3Server, testCredentials } from '../../infra/s3-server.js';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { promoteVersion, saveVersion } from '../../model/versions.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import type { ObjectStore } from '../../store/object-store.js';
import { SMALL_CONFIG } from '../model/fixtures.js';
import { putAnalysis, smallAnalysisOfHour } from '../support/analyses.js';
import { runCommandProcess } from '../support/cli-process.js';

let server: S3Server;
let work: string;
before(async () => {
  [server, work] = await Promise.all([S3Server.start(), mkdtemp(join(tmpdir(), 'hrrr-embed-fallback-'))]);
  await selectBackend('cpu', 'inference', silentLogger);
});
after(async () => {
  await server.stop();
  await rm(work, { recursive: true, force: true });
});

const s3 = { AWS_ENDPOINT_URL: '', AWS_ACCESS_KEY_ID: testCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey, AWS_REGION: 'us-east-1' };

/** Saves a small version made on day `day` of 2026. */
async function save(models: ObjectStore, modelId: string, day: number): Promise<void> {
  await saveVersion(models, createAutoencoder({ config: { ...SMALL_CONFIG, seed: day } }), { modelId, now: new Date(Date.UTC(2026, 0, day)) });
}

/** Weights that are not the ones its model.json records: a half-copied or damaged version. */
async function corruptWeights(models: ObjectStore, modelId: string): Promise<void> {
  await models.put(`versions/${modelId}/weights.bin`, new Uint8Array(12), { contentType: 'application/octet-stream' });
}

async function until(condition: () => boolean, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms / 1000} s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function get(url: string): Promise<string> {
  const response = await fetch(url);
  return `${response.status} ${await response.text()}`;
}

describe('a starting consumer whose promoted model version cannot be loaded', () => {
  it('serves the most recently promoted earlier version that loads, says so in its log, /readyz and /metrics, and takes the next promoted version', { timeout: 90_000 }, async () => {
    const bucket = 'models-fallback';
    const models = await server.store(bucket);
    await save(models, 'small-1', 1);
    await save(models, 'small-2', 2);
    await save(models, 'small-3', 3);
    await save(models, 'small-4', 4); // made after the promoted one: a candidate not promoted, never a fallback
    await promoteVersion(models, 'small-2'); // small-1 was never promoted: never a fallback either
    await promoteVersion(models, 'small-3');
    await corruptWeights(models, 'small-3');
    const source = new FolderStore(join(work, 'source'));
    await putAnalysis(source, smallAnalysisOfHour(0));

    let stderr = '';
    let child: ChildProcess | undefined;
    let done = false;
    const run = runCommandProcess(
      ['run', '--source', join(work, 'source'), '--data', join(work, 'data'), '--model', `s3://${bucket}`, '--device', 'cpu', '--shards', 'off', '--from', '2019-09-20T00Z', '--poll-seconds', '0.1', '--model-poll-seconds', '0.2', '--metrics-port', '0'],
      { env: { ...s3, AWS_ENDPOINT_URL: server.endpoint }, onStderr: (text, process) => ((stderr = text), (child = process)), onLine: (line) => (done ||= JSON.parse(line).status === 'done') },
    );
    await until(() => done, 'the consumer embeds hour 0');
    const url = /"url":"(http:[^"]+)"/.exec(stderr)?.[1];
    assert.ok(url, stderr);
    assert.match(stderr, /promoted model version small-3 cannot be loaded \(.*weights\.bin.*\): serving small-2/);
    assert.match(await get(`${url}/readyz`), /^200 ready: serving model version small-2, not the promoted small-3: cannot be loaded: .*weights\.bin/);
    let metrics = await get(`${url}/metrics`);
    assert.match(metrics, /hrrr_embed_model_info\{model_id="s3:\/\/models-fallback",model_version="small-2"\} 1/);
    assert.match(metrics, /^hrrr_embed_model_not_promoted 1$/m);

    await promoteVersion(models, 'small-4');
    await until(() => stderr.includes('model swapped'), 'the consumer swaps in the next promoted version');
    assert.equal(await get(`${url}/readyz`), '200 ready\n');
    metrics = await get(`${url}/metrics`);
    assert.match(metrics, /model_version="small-4"\} 1/);
    assert.match(metrics, /^hrrr_embed_model_not_promoted 0$/m);

    child!.kill('SIGTERM');
    const result = await run;
    assert.equal(result.status, 0, result.stderr);
  });

  it('fails at start, naming each version and why, when no version loads', { timeout: 60_000 }, async () => {
    const bucket = 'models-none-loads';
    const models = await server.store(bucket);
    await save(models, 'small-1', 1);
    await save(models, 'small-2', 2);
    await promoteVersion(models, 'small-1');
    await promoteVersion(models, 'small-2');
    await corruptWeights(models, 'small-1');
    await corruptWeights(models, 'small-2');
    const result = await runCommandProcess(['run', '--source', join(work, 'source'), '--data', join(work, 'data-none'), '--model', `s3://${bucket}`, '--device', 'cpu', '--shards', 'off', '--once'], { env: { ...s3, AWS_ENDPOINT_URL: server.endpoint } });
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /model version small-1 cannot be loaded either/);
    assert.match(result.stderr, /hrrr-embed run: promoted model version small-2 cannot be loaded \(.*weights\.bin.*\), nor any earlier version \(1 tried\)/);
  });
});
