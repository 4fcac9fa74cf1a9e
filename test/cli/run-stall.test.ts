import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { S3Server, testCredentials } from '../../infra/s3-server.js';
import { createAutoencoder } from '../../model/autoencoder.js';
import { promoteVersion, saveVersion } from '../../model/versions.js';
import { SMALL_CONFIG } from '../model/fixtures.js';
import { putAnalysis, smallAnalysisOfHour } from '../support/analyses.js';
import { runCommandProcess } from '../support/cli-process.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { runWork } from '../support/run-work.js';

let work: string;
before(async () => {
  work = await runWork('run-stall', 0.5);
});
after(() => rm(work, { recursive: true, force: true }));

const healthz = async (url: string) => {
  const response = await fetch(`${url}/healthz`);
  return { status: response.status, text: await response.text() };
};

/** Runs `hrrr-embed run ARGS --metrics-port 0` (with `--model MODELS`, by default the work's), and once its ingest starts, `probe(url)`; then kills it. */
async function probeRunning<T>(name: string, args: string[], probe: (url: string) => Promise<T>, env: NodeJS.ProcessEnv = {}, models = join(work, 'models')): Promise<{ probed: T | undefined; stderr: string }> {
  let url: string | undefined;
  let probing: Promise<T> | undefined;
  let probed: T | undefined;
  const result = await runCommandProcess(['run', '--data', join(work, `${name}-data`), '--model', models, '--device', 'cpu', '--metrics-port', '0', ...args], {
    env,
    onStderr: (stderr, child: ChildProcess) => {
      url ??= /metrics on (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(stderr)?.[1];
      if (probing || !url || !stderr.includes('ingest starting')) return;
      probing = probe(url);
      // Killed, not signalled: a hung request would hold a drain for its whole --drain-seconds.
      void probing.then((value) => (probed = value)).finally(() => child.kill('SIGKILL'));
    },
  });
  return { probed, stderr: result.stderr };
}

describe('hrrr-embed run, /healthz as progress', () => {
  it('stays 200 while it polls a source with nothing new, for several times --stall-seconds', { timeout: 60_000 }, async () => {
    // Hours 0 to 4 are there; from 06Z on, nothing: every look finds nothing, and each look is a heartbeat.
    const { probed, stderr } = await probeRunning('idle', ['--source', join(work, 'source'), '--from', '2019-09-20T06Z', '--poll-seconds', '0.1', '--stall-seconds', '2'], async (url) => {
      const statuses = new Set<string>();
      // Over 5 s: more than twice the 2.1 s it may go without a look.
      for (let probe = 0; probe < 50; probe++) {
        const { status, text } = await healthz(url);
        statuses.add(`${status} ${text.trim()}`);
        await sleep(100);
      }
      return statuses;
    });
    assert.deepEqual(probed, new Set(['200 alive']), stderr);
  });

  it('answers 503 naming the S3 request that has not moved when its server accepts the connection and never answers', { timeout: 60_000 }, async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket.on('close', () => sockets.delete(socket))));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    try {
      const { probed, stderr } = await probeRunning('hung', ['--source', 's3://hung-bucket', '--endpoint', endpoint, '--from', '2019-09-20T00Z', '--stall-seconds', '1'], async (url) => {
        for (;;) {
          const answer = await healthz(url);
          if (answer.status !== 200) return answer;
          await sleep(100);
        }
      });
      assert.equal(probed?.status, 503, stderr);
      // Discovery looks at several hours at once: each listing is named.
      assert.match(probed.text, /^stalled: source store: list s3:\/\/hung-bucket\/hrrr\.20190920\/conus\/hrrr\.t00z\.wrfsfcf00\.grib2 has not moved for \d+ s(; source store: list [^;]+ has not moved for \d+ s)* \(limit 1 s\)\n$/);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it("answers 503 naming the model store's read of the promoted version when it never answers, after the follower's answered reads kept it 200", { timeout: 60_000 }, async () => {
    const server = await S3Server.start();
    const proxy = await FaultProxy.start(server.endpoint);
    try {
      const models = await server.store('stalled-models');
      const { modelId } = await saveVersion(models, createAutoencoder({ config: SMALL_CONFIG }), { modelId: 'small-1', alertThreshold: 0.5 });
      await promoteVersion(models, modelId);
      const env = { AWS_ACCESS_KEY_ID: testCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey, AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: proxy.endpoint };
      // An idle consumer (nothing new from 06Z) that reads which version is promoted every 0.2 s.
      const args = ['--source', join(work, 'source'), '--from', '2019-09-20T06Z', '--poll-seconds', '0.1', '--model-poll-seconds', '0.2', '--stall-seconds', '1'];
      const { probed, stderr } = await probeRunning('model', args, async (url) => {
        const before = new Set<string>();
        // Over 3 s, while the model store answers: more than the limit, and a dozen reads of the pointer.
        for (let probe = 0; probe < 30; probe++) {
          const { status, text } = await healthz(url);
          before.add(`${status} ${text.trim()}`);
          await sleep(100);
        }
        const readsBefore = proxy.requests.filter((seen) => seen.path.includes('promoted.json')).length;
        proxy.inject({ kind: 'stall', when: (seen) => seen.path.includes('promoted.json') });
        // The S3 client's own timeout (60 s without a byte) ends the read long after this: 10 s at most here.
        for (let probe = 0; probe < 100; probe++) {
          const answer = await healthz(url);
          if (answer.status !== 200) return { before, readsBefore, after: answer };
          await sleep(100);
        }
        return { before, readsBefore, after: await healthz(url) };
      }, env, 's3://stalled-models');
      assert.deepEqual(probed?.before, new Set(['200 alive']), stderr);
      assert.ok(probed.readsBefore >= 5, `the pointer was read ${probed.readsBefore} times before the stall`);
      assert.equal(probed.after.status, 503, stderr);
      assert.match(probed.after.text, /^stalled: model store: get s3:\/\/stalled-models\/promoted\.json has not moved for \d+ s \(limit 1 s\)\n$/);
    } finally {
      await proxy.stop();
      await server.stop();
    }
  });

  it("ends on SIGTERM, exit 0, while the promotion follower's read of promoted.json gets no answer", { timeout: 120_000 }, async () => {
    const server = await S3Server.start();
    const proxy = await FaultProxy.start(server.endpoint);
    try {
      const models = await server.store('silent-models');
      const { modelId } = await saveVersion(models, createAutoencoder({ config: SMALL_CONFIG }), { modelId: 'small-1', alertThreshold: 0.5 });
      await promoteVersion(models, modelId);
      const env = { AWS_ACCESS_KEY_ID: testCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey, AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: proxy.endpoint };
      const data = join(work, 'follower-silent-data');
      const pointerReads = () => proxy.requests.filter((seen) => seen.path.includes('promoted.json')).length;
      let silentFrom: number | undefined;
      let signalled = false;
      let killedAfterWaiting = false;
      let deadline: NodeJS.Timeout | undefined;
      const result = await runCommandProcess(['run', '--data', data, '--source', join(work, 'source'), '--model', 's3://silent-models', '--device', 'cpu', '--from', '2019-09-20T00Z', '--poll-seconds', '0.1', '--model-poll-seconds', '0.2'], {
        env,
        onLine: (line, child) => {
          if (silentFrom !== undefined || !line.includes('2019-09-20T04Z')) return;
          // Hours 0 to 4 handled: from now on every read of the pointer gets silence (the S3 client gives up on one after 60 s, then tries again).
          silentFrom = pointerReads();
          for (let fault = 0; fault < 20; fault++) proxy.inject({ kind: 'stall', when: (seen) => seen.path.includes('promoted.json') });
          void (async () => {
            // Signalled once, and only once the follower is inside a read that will never be answered.
            while (pointerReads() <= silentFrom!) await sleep(20);
            signalled = child.kill('SIGTERM');
            deadline = setTimeout(() => (killedAfterWaiting = child.kill('SIGKILL')), 30_000);
          })();
        },
      });
      clearTimeout(deadline);
      assert.ok(signalled, result.stderr);
      assert.ok(!killedAfterWaiting, `still running 30 s after SIGTERM, its shutdown waiting on the follower's read of promoted.json:\n${result.stderr.slice(-2000)}`);
      assert.equal(result.status, 0, result.stderr);
    } finally {
      await proxy.stop();
      await server.stop();
    }
  });

  it("answers 503 naming the fetch stage and, by its key, the S3 download inside it, when the object's server never answers that download", { timeout: 60_000 }, async () => {
    const server = await S3Server.start();
    const proxy = await FaultProxy.start(server.endpoint);
    try {
      const analysis = smallAnalysisOfHour(0);
      await putAnalysis(await server.store('stalled-download'), analysis);
      // The listing, the .idx and discovery's read of the last message's 16-byte start answer; fetch's download of a message gets silence.
      const bytesAsked = (range: string | undefined) => (range === undefined ? Infinity : Number(/-(\d+)$/.exec(range)?.[1]) - Number(/=(\d+)-/.exec(range)?.[1]) + 1);
      proxy.inject({ kind: 'stall', when: (seen) => seen.method === 'GET' && seen.path.includes('.grib2?') && !seen.path.includes('list-type') && bytesAsked(seen.range) > 16 });
      const env = { AWS_ACCESS_KEY_ID: testCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey, AWS_REGION: 'us-east-1' };
      const { probed, stderr } = await probeRunning('download', ['--source', 's3://stalled-download', '--endpoint', proxy.endpoint, '--from', '2019-09-20T00Z', '--stall-seconds', '1'], async (url) => {
        for (;;) {
          const answer = await healthz(url);
          if (answer.status !== 200) return answer;
          await sleep(100);
        }
      }, env);
      assert.equal(probed?.status, 503, stderr);
      const key = analysis.key.replaceAll('.', '\\.');
      assert.match(probed.text, new RegExp(`^stalled: stage fetch has not moved for \\d+ s; source store: get s3://stalled-download/${key} has not moved for \\d+ s \\(limit 1 s\\)\n$`));
    } finally {
      await proxy.stop();
      await server.stop();
    }
  });
});
