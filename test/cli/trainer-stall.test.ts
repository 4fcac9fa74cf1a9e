import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { AvroCodec } from '../../bus/avro/codec.js';
import { FileBus } from '../../bus/files/file-bus.js';
import { S3Server, testCredentials } from '../../infra/s3-server.js';
import { FolderStore } from '../../store/folder.js';
import { requestRetraining } from '../../training/requests.js';
import { Schedule } from '../../training/schedule.js';
import { recordDoneThrough, SCHEDULE_RECORD_KEY } from '../../training/scheduled-runs.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { runCommandProcess } from '../support/cli-process.js';
import { placeTrainerGroupAtStart } from '../support/trainer-group.js';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'hrrr-embed-trainer-stall-'));
});
after(() => rm(work, { recursive: true, force: true }));

const healthz = async (url: string) => {
  const response = await fetch(`${url}/healthz`);
  return { status: response.status, text: await response.text() };
};

/** Runs `hrrr-embed trainer ARGS --metrics-port 0` (on `schedule`, by default once a year), and once it holds the lease, `probe(url)`; then kills it. */
async function probeTrainer<T>(args: string[], probe: (url: string) => Promise<T>, { schedule = '0 0 1 1 *', env = {} }: { schedule?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ probed: T | undefined; stderr: string }> {
  let url: string | undefined;
  let probing: Promise<T> | undefined;
  let probed: T | undefined;
  const result = await runCommandProcess(['trainer', '--schedule', schedule, '--device', 'cpu', '--metrics-port', '0', ...args], {
    env,
    onStderr: (stderr, child: ChildProcess) => {
      url ??= /metrics on (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(stderr)?.[1];
      if (probing || !url || !stderr.includes('holding the trainer lease')) return;
      probing = probe(url);
      // Killed, not signalled: a run stuck on a request stops at its next step, which never comes.
      void probing.then((value) => (probed = value)).finally(() => child.kill('SIGKILL'));
    },
  });
  return { probed, stderr: result.stderr };
}

describe('hrrr-embed trainer, /healthz as progress', () => {
  it('stays 200 while idle between runs, for several times --stall-seconds', { timeout: 60_000 }, async () => {
    const { probed, stderr } = await probeTrainer(['--models', join(work, 'idle-models'), '--shards', join(work, 'no-shards'), '--data', join(work, 'idle-bus'), '--stall-seconds', '1'], async (url) => {
      const statuses = new Set<string>();
      for (let probe = 0; probe < 30; probe++) {
        const { status, text } = await healthz(url);
        statuses.add(`${status} ${text.trim()}`);
        await sleep(100);
      }
      return statuses;
    });
    assert.deepEqual(probed, new Set(['200 alive']), stderr);
  });

  it("answers 503 naming the run whose next step has not come when its shards' S3 server accepts the connection and never answers", { timeout: 60_000 }, async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket.on('close', () => sockets.delete(socket))));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    const models = join(work, 'models');
    const data = join(work, 'bus');
    const bus = new FileBus(data);
    const codec = await AvroCodec.create();
    await placeTrainerGroupAtStart(bus, codec);
    await requestRetraining(bus, codec, new FolderStore(models).url, { requestedAt: new Date(), reason: 'a run that hangs', force: false });
    await bus.close();
    try {
      const { probed, stderr } = await probeTrainer(['--models', models, '--shards', 's3://hung-bucket', '--endpoint', endpoint, '--data', data, '--stall-seconds', '1'], async (url) => {
        for (;;) {
          const answer = await healthz(url);
          if (answer.status !== 200) return answer;
          await sleep(100);
        }
      });
      assert.equal(probed?.status, 503, stderr);
      assert.match(probed.text, /^stalled: training run trainer-\d{8}T\d{6}Z-request-0-\d+ \(its next step\) has not moved for \d+ s \(limit 1 s\)\n$/);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it("answers 503 naming the model store's request that never answers between runs, which kept the trainer from its next scheduled run", { timeout: 60_000 }, async () => {
    const server = await S3Server.start();
    const proxy = await FaultProxy.start(server.endpoint);
    try {
      const schedule = '* * * * * *';
      // Done through now: the trainer starts with no run to catch up and no record to write.
      await recordDoneThrough(await server.store('trainer-models'), Schedule.parse(schedule), new Date());
      // The record of the first scheduled run to end is never written: the request hangs.
      proxy.inject({ kind: 'stall', when: (seen) => seen.method === 'PUT' && seen.path.includes(SCHEDULE_RECORD_KEY) });
      const env = { AWS_ACCESS_KEY_ID: testCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey, AWS_REGION: 'us-east-1' };
      const args = ['--models', 's3://trainer-models', '--endpoint', proxy.endpoint, '--shards', join(work, 'no-shards'), '--data', join(work, 'scheduled-bus'), '--stall-seconds', '1'];
      const { probed, stderr } = await probeTrainer(args, async (url) => {
        // A run every second: the first ends in a second or two; 15 s at most here.
        for (let probe = 0; probe < 150; probe++) {
          const answer = await healthz(url);
          if (answer.status !== 200) return answer;
          await sleep(100);
        }
        return await healthz(url);
      }, { schedule, env });
      assert.ok(proxy.requests.some((seen) => seen.fault === 'stall'), `the scheduled run's record was written: ${stderr}`);
      assert.equal(probed?.status, 503, stderr);
      assert.match(probed.text, /^stalled: model store: put s3:\/\/trainer-models\/training\/schedule\.json has not moved for \d+ s \(limit 1 s\)\n$/);
    } finally {
      await proxy.stop();
      await server.stop();
    }
  });
});
