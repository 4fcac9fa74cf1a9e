import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { silentLogger } from '../../stages/stage.js';
import { promoteVersion, saveVersion } from '../../model/versions.js';
import { FolderStore } from '../../store/folder.js';
import { openShardCatalog } from '../../shards/catalog.js';
import { putAnalysis, smallAnalysisOfHour } from '../support/analyses.js';
import { SMALL_CONFIG } from '../model/fixtures.js';
import { runCommandProcess } from '../support/cli-process.js';
import { SchemaRegistryClient } from '../../bus/avro/schema-registry.js';
import { FakeSchemaRegistry } from '../bus/fake-schema-registry.js';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'hrrr-embed-run-'));
  const source = new FolderStore(join(work, 'source'));
  for (let n = 0; n < 6; n++) await putAnalysis(source, smallAnalysisOfHour(n));
  await selectBackend('cpu', 'inference', silentLogger);
  const models = new FolderStore(join(work, 'models'));
  const { modelId } = await saveVersion(models, createAutoencoder({ config: SMALL_CONFIG }), { modelId: 'small-1', alertThreshold: 0.5 });
  await promoteVersion(models, modelId);
});
after(() => rm(work, { recursive: true, force: true }));

const args = () => ['run', '--source', join(work, 'source'), '--data', join(work, 'data'), '--model', join(work, 'models'), '--device', 'cpu', '--concurrency', '1'];

/** Starts `hrrr-embed run`; `onLine` sees each stdout line as it comes. */
function run(extra: string[], onLine: (line: string, child: ChildProcess) => void = () => {}) {
  return runCommandProcess([...args(), ...extra], { onLine });
}

const doneHours = (lines: unknown[]) => lines.filter((line) => (line as { status?: string }).status === 'done').map((line) => (line as { hour: string }).hour);

describe('hrrr-embed run', () => {
  it('on SIGTERM finishes the analysis in flight and exits 0; the restart goes on after it, repeating nothing', async () => {
    // Following (no --to): it would run for ever but for the signal.
    let signalled = false;
    const first = await run(['--from', '2019-09-20T00Z', '--poll-seconds', '0.05'], (line, child) => {
      if (!signalled && line.includes('"status":"done"')) signalled = child.kill('SIGTERM');
    });
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stderr, /shutting down: finishing the analyses in flight/);
    const before = doneHours(first.lines);
    assert.ok(before.length >= 1, 'at least the analysis in flight was finished');

    const second = await run(['--to', '2019-09-20T05Z', '--once']);
    assert.equal(second.status, 0, second.stderr);
    const all = [...before, ...doneHours(second.lines)];
    assert.deepEqual(all, ['00', '01', '02', '03', '04', '05'].map((h) => `2019-09-20T${h}Z`), 'every hour once, in order');
    assert.match(second.stderr, /"modelVersion":"small-1"/);
    assert.match(second.stderr, /"thread":"worker","batchSize":1/, 'on cpu the encoder runs in a worker thread, a field at a time');

    // The shards hold every field once, those of the SIGTERMed run included (its open shard was written on the way out).
    const catalog = openShardCatalog(new FolderStore(join(work, 'data')));
    const rows = [];
    for (const manifest of await catalog.list({ field: 'REFC:entire atmosphere:anl' })) for await (const row of catalog.read(manifest)) rows.push(row);
    assert.deepEqual(rows.map((row) => row.validTime.toISOString().slice(0, 13)), ['00', '01', '02', '03', '04', '05'].map((h) => `2019-09-20T${h}`));
    assert.deepEqual([rows[0]!.height, rows[0]!.width], [32, 64]);
  });

  it('exits 1 naming the cause when it cannot start, its encoder thread and bus closed: a --data folder that cannot be made', { timeout: 120_000 }, async () => {
    await writeFile(join(work, 'a-file'), '');
    const result = await runCommandProcess(['run', '--source', join(work, 'source'), '--data', join(work, 'a-file', 'data'), '--state', join(work, 'state'), '--device', 'cpu', '--once']);
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /hrrr-embed run: ENOTDIR: not a directory, .*a-file\/data/);
  });

  it('a schema registry that refuses a schema it writes ends the run at its start, naming the subject, before any analysis', { timeout: 120_000 }, async () => {
    const registry = new FakeSchemaRegistry();
    await registry.start();
    try {
      // Another writer's dead letters, which ours (no default for failedAt) cannot read: BACKWARD refuses ours.
      await new SchemaRegistryClient(registry.url).register('refused.dead-letters-value', { type: 'record', name: 'DeadLetter', namespace: 'hrrr_embed', fields: [{ name: 'reason', type: 'string' }] });
      const result = await runCommandProcess([...args().slice(0, 3), '--data', join(work, 'refused-data'), ...args().slice(5), '--registry', registry.url, '--topic-prefix', 'refused.', '--once']);
      assert.equal(result.status, 1, result.stderr);
      assert.match(result.stderr, /schema registry .* refuses schemas\/dead-letters\.value\.avsc as the next version of subject "refused\.dead-letters-value" \(409\)/);
      assert.deepEqual(doneHours(result.lines), [], 'no analysis done');
    } finally {
      await registry.stop();
    }
  });

  it('with --registry-lookup-only uses the schemas registered beforehand (hrrr-embed schemas register) and registers none, and fails at its start, naming the subject, where one is missing', { timeout: 120_000 }, async () => {
    const registry = new FakeSchemaRegistry();
    await registry.start();
    try {
      const registered = await runCommandProcess(['schemas', 'register', '--registry', registry.url, '--topic-prefix', 'governed.']);
      assert.equal(registered.status, 0, registered.stderr);
      const before = registry.requests.filter((request) => request.endsWith('/versions')).length;
      const lookupOnly = ['--registry', registry.url, '--registry-lookup-only', '--once', '--from', '2019-09-20T00Z', '--to', '2019-09-20T00Z'];
      const governed = await runCommandProcess([...args().slice(0, 3), '--data', join(work, 'governed-data'), ...args().slice(5), ...lookupOnly, '--topic-prefix', 'governed.']);
      assert.equal(governed.status, 0, governed.stderr);
      assert.deepEqual(doneHours(governed.lines), ['2019-09-20T00Z']);
      assert.equal(registry.requests.filter((request) => request.endsWith('/versions')).length, before, 'nothing registered');
      const missing = await runCommandProcess([...args().slice(0, 3), '--data', join(work, 'ungoverned-data'), ...args().slice(5), ...lookupOnly, '--topic-prefix', 'other.']);
      assert.equal(missing.status, 1, missing.stderr);
      assert.match(missing.stderr, /has no schemas\/embeddings\.key\.avsc under subject "other\.embeddings-key" \(40401\), and lookup only registers nothing/);
      assert.deepEqual(doneHours(missing.lines), []);
    } finally {
      await registry.stop();
    }
  });

  it('names a wrong option value and exits 2', { timeout: 120_000 }, async () => {
    for (const [extra, message] of [
      [['--device', 'tpu'], /--device: /],
      [['--partitions', '0'], /--partitions: 0 is not a whole number of at least 1/],
      [['--encoder-thread', 'gpu'], /--encoder-thread: "gpu" is not one of auto, main, worker/],
      [['--batch-size', '0'], /--batch-size: 0 is not a whole number from 1 to 256/],
      [['--kafka', 'x:1', '--data', 'y'], /--data and --kafka/],
      [['--registry-lookup-only'], /--registry-lookup-only needs --registry/],
      [['--state', 's3://'], /--state: store location "s3:\/\/": not s3:\/\/BUCKET/],
      [['--shards', 's3://'], /--shards: store location "s3:\/\/"/],
      [['--model', 's3://'], /--model: store location "s3:\/\/"/],
      [['--from', '2019-09-20T05Z', '--to', '2019-09-20T01Z'], /--to 2019-09-20T01Z comes before --from 2019-09-20T05Z/],
      [['--metrics-host', 'no such host', '--metrics-port', '0'], /--metrics-host "no such host", --metrics-port 0: cannot serve there: /],
      [['--registry', 'registry:8081'], /--registry: schema registry URL "registry:8081" is not an http:\/\/ or https:\/\/ URL/],
      [['--events', 'hrrr-objects', '--once', '--to', '2019-09-20T01Z'], /--to, --once: --events does the analyses its events name, so hours and --once do not apply/],
    ] as const) {
      const result = await run([...extra]);
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, message);
    }
    const versionAlone = await runCommandProcess(['run', '--data', join(work, 'data'), '--version', 'small-1']);
    assert.equal(versionAlone.status, 2, versionAlone.stderr);
    assert.match(versionAlone.stderr, /--version needs --model/);
  });
});
