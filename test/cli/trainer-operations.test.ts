import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AvroCodec } from '../../bus/avro/codec.js';
import { FileBus } from '../../bus/files/file-bus.js';
import { SEED_NORMALIZATION } from '../../model/config.js';
import { buildInfo } from '../../runtime/build-info.js';
import { createShardWriter } from '../../shards/writer.js';
import { HOUR_MS } from '../../stages/sources/hrrr-archive.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { acquireLease } from '../../store/lease.js';
import { requestRetraining } from '../../training/requests.js';
import { Schedule } from '../../training/schedule.js';
import { SMALL_CONFIG } from '../model/fixtures.js';
import { START } from '../support/analyses.js';
import { runCommandProcess } from '../support/cli-process.js';
import { placeTrainerGroupAtStart } from '../support/trainer-group.js';
import { assertWellFormed, parseExposition, type Family } from '../support/prometheus.js';
import { FIELD, smallFieldOfHour } from '../training/memory-shards.js';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'hrrr-embed-trainer-operations-'));
  const writer = createShardWriter({ store: new FolderStore(join(work, 'shards')), normalization: SEED_NORMALIZATION });
  for (const n of [0, 1, 2, 3, 24, 25]) await writer.append({ validTime: new Date(START.getTime() + n * HOUR_MS), field: FIELD, source: `memory://hour/${n}`, height: 32, width: 64, values: smallFieldOfHour(n) });
  await writer.close();
  await writeFile(join(work, 'small.json'), JSON.stringify({ model: SMALL_CONFIG }));
});
after(() => rm(work, { recursive: true, force: true }));

/** A bus with one retrain request on it, the trainer's group placed at the requests topic's start so that it is heard. */
async function busWithRequest(data: string, models: string): Promise<void> {
  const bus = new FileBus(data);
  const codec = await AvroCodec.create();
  await placeTrainerGroupAtStart(bus, codec);
  await requestRetraining(bus, codec, new FolderStore(models).url, { requestedAt: new Date(), reason: 'a run to watch', force: false });
  await bus.close();
}

interface Scrape {
  readyz: { status: number; body: string };
  healthz: number;
  families: Family[];
}

async function scrape(url: string): Promise<Scrape> {
  const readyz = await fetch(`${url}/readyz`);
  const healthz = await fetch(`${url}/healthz`);
  await healthz.arrayBuffer();
  return { readyz: { status: readyz.status, body: await readyz.text() }, healthz: healthz.status, families: await parseExposition(await (await fetch(`${url}/metrics`)).text()) };
}

const value = ({ families }: Scrape, name: string, labels: Record<string, string> = {}) =>
  families.flatMap((family) => family.samples).find((sample) => sample.name === name && JSON.stringify(sample.labels) === JSON.stringify(labels))?.value;

describe('hrrr-embed trainer --metrics-port', () => {
  it('waiting for the lease another trainer holds: /readyz 503 naming it; then, training and after a promotion: ready, alive, the run and its outcome in /metrics as Prometheus reads them', { timeout: 90_000 }, async () => {
    const models = join(work, 'models');
    const data = join(work, 'bus');
    await busWithRequest(data, models);
    // Another trainer, this test, holds the model store's lease (a short one, so that the trainer looks again soon).
    const other = await acquireLease(new FolderStore(models), { owner: 'the other trainer', log: silentLogger, leaseMs: 2_000 });
    assert.ok(other);

    let url: string | undefined;
    const scrapes: { waiting?: Scrape; training?: Scrape; promoted?: Scrape } = {};
    const watched: Array<Promise<void>> = [];
    const watch = (work: () => Promise<void>) => watched.push(work());
    const schedule = '0 0 1 1 *';
    const result = await runCommandProcess(
      ['trainer', '--schedule', schedule, '--models', models, '--shards', join(work, 'shards'), '--data', data, '--fresh', '--model-config', join(work, 'small.json'),
        '--from', '2019-09-20T00Z', '--to', '2019-09-21T23Z', '--device', 'cpu', '--steps', '40', '--steps-per-checkpoint', '10', '--metrics-port', '0'],
      {
        onStderr: (stderr) => {
          url ??= /metrics on (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(stderr)?.[1];
          if (scrapes.waiting || !stderr.includes('another trainer holds the lease')) return;
          scrapes.waiting = {} as Scrape;
          watch(async () => {
            scrapes.waiting = await scrape(url!);
            await other.release();
          });
        },
        onLine: (line, child) => {
          const output = JSON.parse(line) as { checkpoint?: number; modelId?: string };
          if (output.checkpoint === 10) watch(async () => void (scrapes.training = await scrape(url!)));
          if (output.modelId === undefined) return;
          watch(async () => {
            scrapes.promoted = await scrape(url!);
            child.kill('SIGTERM');
          });
        },
      },
    );
    await Promise.all(watched);
    assert.equal(result.status, 0, result.stderr);
    const { waiting, training, promoted } = scrapes;
    assert.ok(waiting && training && promoted, result.stderr);

    assert.equal(waiting.readyz.status, 503);
    assert.match(waiting.readyz.body, /^not ready: waiting for the trainer lease of this model store, held by the other trainer/);
    assert.equal(waiting.healthz, 200);
    assert.equal(value(waiting, 'hrrr_embed_trainer_lease_held'), 0);

    assert.deepEqual(training.readyz, { status: 200, body: 'ready\n' });
    assert.equal(training.healthz, 200, 'alive while training');
    assert.equal(value(training, 'hrrr_embed_trainer_lease_held'), 1);
    assert.equal(value(training, 'hrrr_embed_training_in_progress'), 1);
    assert.equal(value(training, 'hrrr_embed_training_planned_steps'), 40);
    const step = value(training, 'hrrr_embed_training_step') as number;
    assert.ok(step >= 10 && step < 40, `step ${step}: at the first checkpoint or a little after`);

    assertWellFormed(promoted.families);
    assert.deepEqual(promoted.readyz, { status: 200, body: 'ready\n' }, 'idle, holding the lease');
    const runs = Object.fromEntries(['promoted', 'not-promoted', 'stopped', 'failed'].map((outcome) => [outcome, value(promoted, 'hrrr_embed_training_runs_total', { outcome })]));
    assert.deepEqual(runs, { promoted: 1, 'not-promoted': 0, stopped: 0, failed: 0 });
    assert.equal(value(promoted, 'hrrr_embed_training_in_progress'), 0);
    assert.equal(value(promoted, 'hrrr_embed_training_step'), 40);
    assert.equal(value(promoted, 'hrrr_embed_training_steps_total'), 40);
    assert.ok(Number.isFinite(value(promoted, 'hrrr_embed_training_loss')));
    assert.ok((value(promoted, 'hrrr_embed_training_last_success_timestamp_seconds') as number) > Date.now() / 1000 - 600);
    assert.equal(value(promoted, 'hrrr_embed_training_next_scheduled_timestamp_seconds'), Schedule.parse(schedule).next(new Date())[0]!.getTime() / 1000);

    // Which build runs: on /metrics, and once in the log as it starts.
    const build = buildInfo();
    assert.equal(value(promoted, 'hrrr_embed_build_info', { version: build.version, commit: build.commit }), 1);
    const starts = result.stderr.split('\n').filter((line) => line.includes('trainer starting'));
    assert.equal(starts.length, 1, result.stderr);
    assert.deepEqual(JSON.parse(starts[0]!).build, build);
  });

  it('a port it cannot serve on, from the command line or its variable, is a usage error naming both settings (exit 2)', { timeout: 30_000 }, async () => {
    const common = ['trainer', '--schedule', '0 0 1 1 *', '--models', join(work, 'unused-models'), '--shards', join(work, 'shards'), '--device', 'cpu'];
    const byOption = await runCommandProcess([...common, '--metrics-host', 'no such host', '--metrics-port', '0']);
    assert.equal(byOption.status, 2, byOption.stderr);
    assert.match(byOption.stderr, /--metrics-host "no such host", --metrics-port 0: cannot serve there: /);
    const byVariable = await runCommandProcess(common, { env: { HRRR_EMBED_TRAINER_METRICS_HOST: 'no such host', HRRR_EMBED_TRAINER_METRICS_PORT: '0' } });
    assert.equal(byVariable.status, 2, byVariable.stderr);
    assert.match(byVariable.stderr, /HRRR_EMBED_TRAINER_METRICS_HOST "no such host", HRRR_EMBED_TRAINER_METRICS_PORT 0: cannot serve there: /);
  });
});
