import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { AvroCodec } from '../../bus/avro/codec.js';
import { requestRetrainUsage } from '../../cli/request-retrain.js';
import { FileBus } from '../../bus/files/file-bus.js';
import { SEED_NORMALIZATION } from '../../model/config.js';
import { promotedVersion } from '../../model/versions.js';
import { createShardWriter } from '../../shards/writer.js';
import { HOUR_MS } from '../../stages/sources/hrrr-archive.js';
import { FolderStore } from '../../store/folder.js';
import { openStore } from '../../store/open.js';
import { SMALL_CONFIG } from '../model/fixtures.js';
import { START } from '../support/analyses.js';
import { runCommandProcess } from '../support/cli-process.js';
import { placeTrainerGroupAtStart } from '../support/trainer-group.js';
import { FIELD, smallFieldOfHour } from '../training/memory-shards.js';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'hrrr-embed-request-retrain-'));
  const writer = createShardWriter({ store: new FolderStore(join(work, 'shards')), normalization: SEED_NORMALIZATION });
  for (const n of [0, 1, 2, 3, 24, 25]) await writer.append({ validTime: new Date(START.getTime() + n * HOUR_MS), field: FIELD, source: `memory://hour/${n}`, height: 32, width: 64, values: smallFieldOfHour(n) });
  await writer.close();
  await writeFile(join(work, 'small.json'), JSON.stringify({ model: SMALL_CONFIG }));
});
after(() => rm(work, { recursive: true, force: true }));

interface Sent {
  request: { requestedAt: string; reason: string; force: boolean };
  key: string;
  bus: string;
  topic: string;
  partition: number;
  offset: number;
}

const requestRetrain = (args: string[]) => runCommandProcess(['request-retrain', ...args]);

describe('hrrr-embed request-retrain', () => {
  it('a trainer on the file bus trains and promotes for the request sent for its store (named by its file:// URL), and passes over the one for another store', { timeout: 120_000 }, async () => {
    const models = join(work, 'trainer', 'models');
    const data = join(work, 'trainer', 'bus');
    const bus = new FileBus(data);
    await placeTrainerGroupAtStart(bus, await AvroCodec.create());
    await bus.close();

    const other = await requestRetrain(['--models', join(work, 'trainer', 'other-models'), '--reason', 'for another store', '--force', '--data', data]);
    assert.equal(other.status, 0, other.stderr);
    const sent = await requestRetrain(['--models', pathToFileURL(models).href, '--reason', 'new shards from the backfill', '--data', data]);
    assert.equal(sent.status, 0, sent.stderr);
    assert.equal(sent.lines.length, 1);
    const written = sent.lines[0] as Sent;
    assert.equal(written.key, new FolderStore(models).url, 'keyed as the trainer names its store: a folder and its file:// URL are one');
    assert.deepEqual({ reason: written.request.reason, force: written.request.force, topic: written.topic, partition: written.partition }, { reason: 'new shards from the backfill', force: false, topic: 'retrain-requests', partition: 0 });
    assert.equal(written.offset, (other.lines[0] as Sent).offset + 1);

    const outcomes: Array<{ runId: string; modelId: string; promoted: boolean }> = [];
    const trainer = await runCommandProcess(
      ['trainer', '--schedule', '0 0 1 1 *', '--models', models, '--shards', join(work, 'shards'), '--data', data, '--fresh', '--model-config', join(work, 'small.json'), '--from', '2019-09-20T00Z', '--to', '2019-09-21T23Z', '--device', 'cpu', '--steps', '2', '--steps-per-checkpoint', '2'],
      {
        onLine: (line, child) => {
          const outcome = JSON.parse(line) as (typeof outcomes)[number];
          if (outcome.modelId === undefined) return;
          outcomes.push(outcome);
          child.kill('SIGTERM');
        },
      },
    );
    assert.equal(trainer.status, 0, trainer.stderr);
    assert.equal(outcomes.length, 1, trainer.stderr);
    assert.match(outcomes[0]!.runId, new RegExp(`-request-0-${written.offset}$`), "the run named by the request's place on the topic");
    assert.equal(outcomes[0]!.promoted, true);
    assert.equal(await promotedVersion(new FolderStore(models)), outcomes[0]!.modelId);
    assert.match(trainer.stderr, /retrain request for another model store passed over/);
    assert.match(trainer.stderr, /new shards from the backfill/, "the request's reason in the trainer's log");
  });

  it('an s3:// model store is keyed by its URL as the trainer opens it (with --endpoint), without the store being reached', async () => {
    const result = await requestRetrain(['--models', 's3://prod-models', '--endpoint', 'http://127.0.0.1:9', '--region', 'eu-west-1', '--reason', 'r', '--data', join(work, 's3-bus')]);
    assert.equal(result.status, 0, result.stderr);
    assert.equal((result.lines[0] as Sent).key, openStore('s3://prod-models', { endpoint: 'http://127.0.0.1:9', region: 'eu-west-1' }).url);
    assert.equal((result.lines[0] as Sent).key, 's3://prod-models');
  });

  it('its usage says what a trainer of a new group hears (the requests of the last 24 hours, test/training/requests-positions.test.ts) and every key of the printed line', async () => {
    const text = requestRetrainUsage.replace(/\s+/g, ' ');
    assert.doesNotMatch(text, /starts at the topic's end/);
    assert.match(text, /the requests of the last 24 hours/);
    const sent = await requestRetrain(['--models', join(work, 'help-keys'), '--reason', 'r', '--data', join(work, 'help-bus')]);
    for (const key of Object.keys(sent.lines[0] as object)) assert.match(text, new RegExp(`Prints one JSON line: .*\\b${key}\\b`), key);
  });

  it('a missing or blank --reason, no bus, two buses and a stray argument are usage errors (exit 2) naming what is wrong', async () => {
    const data = join(work, 'usage-bus');
    const cases: Array<[string[], RegExp]> = [
      [['--models', 'm', '--data', data], /--reason is required/],
      [['--models', 'm', '--reason', '  ', '--data', data], /--reason is required/],
      [['--models', 'm', '--reason', 'r'], /give the trainer's bus: --data DIR .* or --kafka HOST:PORT/],
      [['--models', 'm', '--reason', 'r', '--data', data, '--kafka', 'localhost:9092'], /--data and --kafka name two buses/],
      [['--reason', 'r', '--data', data], /--models is required/],
      [['now', '--models', 'm', '--reason', 'r', '--data', data], /takes no argument \("now"\)/],
      [['--models', 'm', '--reason', 'r', '--data', data, '--registry-lookup-only'], /--registry-lookup-only needs --registry/],
    ];
    for (const [args, message] of cases) {
      const result = await requestRetrain(args);
      assert.equal(result.status, 2, args.join(' '));
      assert.match(result.stderr, message, args.join(' '));
      assert.match(result.stderr, /usage: hrrr-embed request-retrain/);
      assert.deepEqual(result.lines, []);
    }
  });

  it('with no broker answering, fails (exit 1) after its bounded tries, saying the request was not sent', { timeout: 60_000 }, async () => {
    const result = await requestRetrain(['--models', join(work, 'unsent'), '--reason', 'r', '--kafka', '127.0.0.1:1']);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /hrrr-embed request-retrain: the retrain request was not sent \(kafka:\/\/127\.0\.0\.1:1: no broker answered \(6 tries\).*\): nothing was asked/);
    assert.deepEqual(result.lines, []);
  });
});
