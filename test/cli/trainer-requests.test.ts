import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AvroCodec } from '../../bus/avro/codec.js';
import { FileBus } from '../../bus/files/file-bus.js';
import { SEED_NORMALIZATION } from '../../model/config.js';
import { createShardWriter } from '../../shards/writer.js';
import { HOUR_MS } from '../../stages/sources/hrrr-archive.js';
import { FolderStore } from '../../store/folder.js';
import { requestRetraining } from '../../training/requests.js';
import { SMALL_CONFIG } from '../model/fixtures.js';
import { START } from '../support/analyses.js';
import { runCommandProcess } from '../support/cli-process.js';
import { placeTrainerGroupAtStart } from '../support/trainer-group.js';
import { FIELD, smallFieldOfHour } from '../training/memory-shards.js';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'hrrr-embed-trainer-requests-'));
  const writer = createShardWriter({ store: new FolderStore(join(work, 'shards')), normalization: SEED_NORMALIZATION });
  for (const n of [0, 1, 2, 3, 24, 25]) await writer.append({ validTime: new Date(START.getTime() + n * HOUR_MS), field: FIELD, source: `memory://hour/${n}`, height: 32, width: 64, values: smallFieldOfHour(n) });
  await writer.close();
  await writeFile(join(work, 'small.json'), JSON.stringify({ model: SMALL_CONFIG }));
});
after(() => rm(work, { recursive: true, force: true }));

/** A case's own model store and bus, the trainer's group placed at the requests topic's start so that the first request is heard. */
async function trainerCase(name: string) {
  const models = join(work, name, 'models');
  const data = join(work, name, 'bus');
  const bus = new FileBus(data);
  const codec = await AvroCodec.create();
  await placeTrainerGroupAtStart(bus, codec);
  const request = (reason: string) => requestRetraining(bus, codec, new FolderStore(models).url, { requestedAt: new Date('2026-11-24T12:00:00Z'), reason, force: false });
  const common = ['--models', models, '--shards', join(work, 'shards'), '--data', data, '--fresh', '--model-config', join(work, 'small.json'), '--from', '2019-09-20T00Z', '--to', '2019-09-21T23Z', '--device', 'cpu'];
  return { bus, request, common };
}

describe('trainer: retrain requests', () => {
  it('trains for each request, also for one whose requestedAt is that of a request already trained on (a request sent again by hand)', { timeout: 120_000 }, async () => {
    const { bus, request, common } = await trainerCase('same-time');
    await request('first');

    const outcomes: Array<{ runId: string; modelId: string; resumedAt: number }> = [];
    const result = await runCommandProcess(['trainer', '--schedule', '0 0 1 1 *', ...common, '--steps', '2', '--steps-per-checkpoint', '2'], {
      onLine: (line, child) => {
        const outcome = JSON.parse(line) as { runId: string; modelId?: string; resumedAt: number };
        if (outcome.modelId === undefined) return;
        outcomes.push(outcome as (typeof outcomes)[number]);
        if (outcomes.length === 1) void request('second, the same time');
        else child.kill('SIGTERM');
      },
    });
    await bus.close();
    assert.equal(result.status, 0, result.stderr);
    assert.equal(outcomes.length, 2, result.stderr);
    assert.notEqual(outcomes[1]!.runId, outcomes[0]!.runId, 'a run of its own');
    assert.notEqual(outcomes[1]!.modelId, outcomes[0]!.modelId, 'a new candidate, not the first run reported again');
  });

  it('a request heard again, whose run that build left unfinished (killed before committing it), finishes that run and is not trained a second time', { timeout: 180_000 }, async () => {
    // Upgrading from a build that named a request's run by its time alone.
    const { bus, request, common } = await trainerCase('upgrade');
    await request('asked before the upgrade');

    // What builds before 2026-11-24T23:59Z left: the request's run, named trainer-TIME, stopped after a checkpoint, the request not committed.
    const oldRunId = 'trainer-20261124T120000Z';
    const earlier = await runCommandProcess(['retrain', ...common, '--run-id', oldRunId, '--steps', '4', '--steps-per-checkpoint', '2'], {
      onLine: (line, child) => {
        if ((JSON.parse(line) as { checkpoint?: number }).checkpoint === 2) child.kill('SIGTERM');
      },
    });
    assert.equal(earlier.status, 0, earlier.stderr);
    assert.equal((earlier.lines.at(-1) as { interrupted?: number }).interrupted, 3, 'stopped, checkpointed, not finished');

    const outcomes: Array<{ runId: string; modelId: string }> = [];
    const result = await runCommandProcess(['trainer', '--schedule', '0 0 1 1 *', ...common, '--steps', '4', '--steps-per-checkpoint', '2'], {
      onLine: (line, child) => {
        const outcome = JSON.parse(line) as { runId: string; modelId?: string };
        if (outcome.modelId === undefined) return;
        outcomes.push(outcome as (typeof outcomes)[number]);
        if (outcomes.length === 2) child.kill('SIGTERM');
      },
    });
    await bus.close();
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(outcomes.map(({ runId }) => runId), [oldRunId, oldRunId], 'the unfinished run resumed, then the request named it');
    assert.equal(outcomes[1]!.modelId, outcomes[0]!.modelId, 'no second candidate for one request');
  });
});
