import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { AvroCodec } from '../../bus/avro/codec.js';
import type { TopicBus } from '../../bus/bus.js';
import { FileBus } from '../../bus/files/file-bus.js';
import { KafkaBus } from '../../bus/kafka/kafka-bus.js';
import { startBroker, testConsumerTiming } from '../../infra/kafka/broker.js';
import { testCredentials } from '../../infra/s3-server.js';
import { createAutoencoder, disposeAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { previouslyPromoted, promotedVersion, promoteVersion, saveVersion } from '../../model/versions.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { acquireLease } from '../../store/lease.js';
import type { ObjectStore } from '../../store/object-store.js';
import { S3Store } from '../../store/s3.js';
import { SMALL_CONFIG } from '../model/fixtures.js';
import { putAnalysis, smallAnalysisOfHour } from '../support/analyses.js';
import { runCommandProcess } from '../support/cli-process.js';
import { FaultProxy, type SeenRequest } from '../support/fault-proxy.js';
import { storeKinds } from '../support/stores.js';

const stores = await storeKinds();
const work = await mkdtemp(join(tmpdir(), 'hrrr-embed-model-versions-'));
after(async () => {
  await stores.stop();
  await rm(work, { recursive: true, force: true });
});
before(() => selectBackend('cpu', 'inference', silentLogger));

const s3env = { AWS_ACCESS_KEY_ID: testCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey, AWS_REGION: 'us-east-1' };
/** `--models` and, for S3, `--endpoint` for a store the tests made. */
const location = (store: ObjectStore) => (store instanceof S3Store ? ['--models', store.url, '--endpoint', stores.server.endpoint] : ['--models', fileURLToPath(store.url)]);
const model = (args: string[]) => runCommandProcess(['model', ...args], { env: s3env });

/** Saves small versions v1, v2... an hour apart; `wide` of another input width. */
async function saveSmall(store: ObjectStore, id: string, hour: number, config: object = SMALL_CONFIG): Promise<void> {
  const made = createAutoencoder({ config });
  try {
    await saveVersion(store, made, { modelId: id, now: new Date(Date.UTC(2026, 10, 1, hour)), metrics: { heldOutLoss: 0.1 * hour }, alertThreshold: 0.5 });
  } finally {
    disposeAutoencoder(made);
  }
}

async function announcements(bus: TopicBus): Promise<unknown[]> {
  const codec = await AvroCodec.create();
  const consumer = bus.consumer({ group: `check-${Math.random()}`, topics: [codec.topics.modelVersions], fromBeginning: true });
  const stop = new AbortController();
  const found: unknown[] = [];
  const timer = setTimeout(() => stop.abort(), 15_000);
  for await (const record of consumer.records(stop.signal)) {
    found.push(await codec.decode(record));
    stop.abort();
  }
  clearTimeout(timer);
  await consumer.close();
  return found;
}

for (const kind of stores.kinds) {
  describe(`hrrr-embed model list, promote and rollback on a ${kind.name}`, () => {
    it('lists the versions newest first, with the promoted one and those promoted before marked', async () => {
      const store = await kind.create();
      for (const [id, hour] of [['v1', 1], ['v2', 2], ['v3', 3]] as const) await saveSmall(store, id, hour);
      await promoteVersion(store, 'v1');
      await promoteVersion(store, 'v2');
      const result = await model(['list', ...location(store)]);
      assert.equal(result.status, 0, result.stderr);
      const lines = result.lines as Array<Record<string, unknown>>;
      assert.deepEqual(lines.map(({ modelId, promoted, previouslyPromoted }) => [modelId, promoted, previouslyPromoted]), [['v3', false, false], ['v2', true, false], ['v1', false, true]]);
      assert.deepEqual([lines[0]!.createdAt, lines[0]!.alertThreshold, lines[0]!.metrics, typeof lines[0]!.parameters], ['2026-11-01T03:00:00.000Z', 0.5, { heldOutLoss: 0.30000000000000004 }, 'number']);
    });

    it('promotes a version, keeping those promoted before, and announces it on the file bus', async () => {
      const store = await kind.create();
      for (const [id, hour] of [['v1', 1], ['v2', 2]] as const) await saveSmall(store, id, hour);
      await promoteVersion(store, 'v1');
      const data = join(work, `bus-${kind.name.replace(/\W/g, '')}`);
      const result = await model(['promote', 'v2', ...location(store), '--data', data]);
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(result.lines, [{ promoted: 'v2', replaced: 'v1', previous: ['v1'], announced: `model-versions on ${new FileBus(data).url}` }]);
      assert.equal(await promotedVersion(store), 'v2');
      const bus = new FileBus(data);
      const [announced] = (await announcements(bus)) as Array<{ value: Record<string, unknown> }>;
      await bus.close();
      assert.deepEqual([announced!.value.version, announced!.value.modelId, announced!.value.embeddingSize, announced!.value.alertThreshold], ['v2', store.url, 16, 0.5]);
    });
  });
}

describe('hrrr-embed model promote and rollback refuse what consumers could not take, clearly', () => {
  const root = join(work, 'refusals');
  const store = new FolderStore(root);
  before(async () => {
    for (const [id, hour] of [['v1', 1], ['v2', 2], ['v3', 3]] as const) await saveSmall(store, id, hour);
    await saveSmall(store, 'wide', 4, { ...SMALL_CONFIG, numdense: 8 });
    await promoteVersion(store, 'v1');
  });

  it('names an unknown version, an incomplete one and one whose weights are damaged; exit status 1, promoted.json untouched', async () => {
    await writeFile(join(root, 'versions', 'v3', 'weights.bin'), new Uint8Array(16));
    await store.put('versions/half/model.json', new TextEncoder().encode('{}'));
    const cases: Array<[string, RegExp]> = [
      ['nope', /no model version nope in file:\/\/.* \(its versions: .*v1/],
      ['half', /model version half in .* is incomplete: it has no manifest\.json/],
      ['v3', /model version v3 cannot be loaded: .*weights\.bin/],
    ];
    for (const [id, message] of cases) {
      const result = await model(['promote', id, '--models', root]);
      assert.equal(result.status, 1, `${id}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
    assert.equal(await promotedVersion(store), 'v1');
  });

  it('refuses another architecture naming the setting, unless --force; a usage error exits 2', async () => {
    const refused = await model(['promote', 'wide', '--models', root]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /model version wide has another architecture than the promoted v1 \(numdense 8, not 16\).*--force promotes it anyway/);
    const wrong = await model(['promote', '--models', root]);
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /model promote takes one version ID/);
    const forced = await model(['promote', 'wide', '--models', root, '--force']);
    assert.equal(forced.status, 0, forced.stderr);
    assert.match(forced.stderr, /promoted without an announcement/);
    await promoteVersion(store, 'v2'); // previous: wide, v1
  });

  it('rolls back to the most recent earlier version that loads, skipping one that does not, and again further back', async () => {
    await promoteVersion(store, 'v3'); // damaged weights: previous v2, wide, v1
    await promoteVersion(store, 'v2'); // previous: v3, wide, v1
    const first = await model(['rollback', '--models', root, '--force']);
    assert.equal(first.status, 0, first.stderr);
    const [line] = first.lines as Array<{ promoted: string; replaced: string; previous: string[]; skipped: Array<{ modelId: string; reason: string }> }>;
    assert.deepEqual([line!.promoted, line!.replaced, line!.previous, line!.skipped.map(({ modelId }) => modelId)], ['wide', 'v2', ['v1'], ['v3']]);
    assert.match(line!.skipped[0]!.reason, /weights\.bin/);
    const second = await model(['rollback', '--models', root, '--force']);
    assert.equal(second.status, 0, second.stderr);
    assert.deepEqual([await promotedVersion(store), await previouslyPromoted(store)], ['v1', []]);
    const none = await model(['rollback', '--models', root]);
    assert.equal(none.status, 1);
    assert.match(none.stderr, /cannot roll back: no version was promoted in .* before v1/);
  });

  it('refuses an unreadable promoted.json, whose previous versions it would lose, unless --force; list warns; a rollback names one without previous versions', async () => {
    const other = new FolderStore(join(work, 'unreadable'));
    await saveSmall(other, 'v1', 1);
    await other.put('promoted.json', new TextEncoder().encode('{"modelId": 7}'));
    const refused = await model(['promote', 'v1', '--models', fileURLToPath(other.url)]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /promoted\.json: modelId is not a version id.*would forget the versions promoted before/);
    const rollback = await model(['rollback', '--models', fileURLToPath(other.url)]);
    assert.match(rollback.stderr, /cannot roll back: .*promoted\.json/);
    const listed = await model(['list', '--models', fileURLToPath(other.url)]);
    assert.equal(listed.status, 0, listed.stderr);
    assert.deepEqual(listed.lines.map((line) => (line as { promoted: boolean }).promoted), [false]);
    assert.match(listed.stderr, /which version is promoted is unknown: .*promoted\.json: modelId is not a version id/);
    await other.put('promoted.json', new TextEncoder().encode('{"modelId": "v1"}')); // written before promoted.json listed `previous`
    const legacy = await model(['rollback', '--models', fileURLToPath(other.url)]);
    assert.equal(legacy.status, 1);
    assert.match(legacy.stderr, /cannot roll back: .*promoted\.json was written before it remembered the versions promoted before v1: promote the one to go back to/);
    assert.equal((await model(['promote', 'v1', '--models', fileURLToPath(other.url), '--force'])).status, 0);
  });

  it("promotes while a trainer holds the model store's lease (a trainer does not overrule it: test/training/stopped-promotion.test.ts)", async () => {
    const lease = (await acquireLease(store, { owner: 'trainer on host-a pid 42', log: silentLogger }))!;
    try {
      const result = await model(['promote', 'v1', '--models', root]);
      assert.equal(result.status, 0, result.stderr);
      assert.equal(await promotedVersion(store), 'v1');
    } finally {
      await lease.release();
    }
  });

  it('with no broker answering, fails saying the version is promoted but not announced, and how to announce it', async () => {
    const store = new FolderStore(join(work, 'unannounced'));
    await saveSmall(store, 'v1', 1);
    const result = await model(['promote', 'v1', '--models', fileURLToPath(store.url), '--kafka', '127.0.0.1:1']);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /hrrr-embed model: v1 is promoted, but announcing it failed \(.*\): running consumers take it at their next look at promoted\.json; model promote v1 again announces it/);
    assert.equal(await promotedVersion(store), 'v1');
  });

  it('announces the promotion on the real broker', async () => {
    const broker = await startBroker();
    const bus = new KafkaBus({ brokers: [broker.address], log: silentLogger, consumerTiming: testConsumerTiming });
    try {
      const store = new FolderStore(join(work, 'kafka'));
      await saveSmall(store, 'v1', 1);
      const result = await model(['promote', 'v1', '--models', fileURLToPath(store.url), '--kafka', broker.address]);
      assert.equal(result.status, 0, result.stderr);
      const [announced] = (await announcements(bus)) as Array<{ value: Record<string, unknown> }>;
      assert.equal(announced!.value.version, 'v1');
    } finally {
      await bus.close();
      await broker.stop();
    }
  });
});

describe('hrrr-embed model promote and rollback on S3 whose read of promoted.json fails (a fault-injecting proxy before moto)', () => {
  it('refuse, --force or not, naming the failed read and saying to try again, never advising --force; promoted.json and its previous are left as they were', async () => {
    const proxy = await FaultProxy.start(stores.server.endpoint);
    try {
      const store = await stores.server.store(`failing-read-${process.pid}`);
      for (const [id, hour] of [['v1', 1], ['v2', 2], ['v3', 3]] as const) await saveSmall(store, id, hour);
      await promoteVersion(store, 'v1');
      await promoteVersion(store, 'v2');
      const before = new TextDecoder().decode(await store.get('promoted.json'));
      const readOfPromoted = (seen: SeenRequest) => seen.method === 'GET' && seen.path.split('?')[0]!.endsWith('/promoted.json');
      const through = ['--models', store.url, '--endpoint', proxy.endpoint];
      for (const command of [['promote', 'v3'], ['promote', 'v3', '--force'], ['rollback'], ['rollback', '--force']]) {
        // A permission refused is not retried: one fault fails the command's first read, and its later reads would succeed.
        proxy.inject({ kind: 'status', status: 403, code: 'AccessDenied', when: readOfPromoted });
        const result = await model([...command, ...through]);
        assert.equal(result.status, 1, `${command.join(' ')}: ${result.stderr}`);
        assert.match(result.stderr, /promoted\.json: HTTP 403: AccessDenied.*could not be read.*try again/, command.join(' '));
        assert.doesNotMatch(result.stderr, /--force/, command.join(' '));
        assert.equal(new TextDecoder().decode(await store.get('promoted.json')), before, command.join(' '));
      }
      assert.deepEqual([await promotedVersion(store), await previouslyPromoted(store)], ['v2', ['v1']]);
    } finally {
      await proxy.stop();
    }
  });
});

describe('hrrr-embed model promote and rollback on S3 whose read of promoted.json fails once it was written', () => {
  it('report the promotion, exit 0 with the previous list written: the command succeeded', async () => {
    const proxy = await FaultProxy.start(stores.server.endpoint);
    try {
      const store = await stores.server.store(`failing-later-read-${process.pid}`);
      for (const [id, hour] of [['v1', 1], ['v2', 2], ['v3', 3]] as const) await saveSmall(store, id, hour);
      await promoteVersion(store, 'v1');
      await promoteVersion(store, 'v2');
      const ofPromoted = (seen: SeenRequest) => seen.path.split('?')[0]!.endsWith('/promoted.json');
      /** A 403 for any read of promoted.json after the command wrote it. */
      const failReadsAfterTheWrite = () => proxy.inject(...[1, 2, 3].map(() => ({ kind: 'status' as const, status: 403, code: 'AccessDenied', when: (seen: SeenRequest) => seen.method === 'GET' && ofPromoted(seen) && proxy.requests.some((earlier) => earlier.method === 'PUT' && ofPromoted(earlier)) })));
      const through = ['--models', store.url, '--endpoint', proxy.endpoint];
      failReadsAfterTheWrite();
      const promoted = await model(['promote', 'v3', ...through]);
      assert.equal(promoted.status, 0, promoted.stderr);
      assert.deepEqual(promoted.lines, [{ promoted: 'v3', replaced: 'v2', previous: ['v2', 'v1'], announced: null }]);
      proxy.reset();
      failReadsAfterTheWrite();
      const rolledBack = await model(['rollback', ...through]);
      assert.equal(rolledBack.status, 0, rolledBack.stderr);
      assert.deepEqual(rolledBack.lines, [{ promoted: 'v2', replaced: 'v3', previous: ['v1'], skipped: [], announced: null }]);
      assert.deepEqual([await promotedVersion(store), await previouslyPromoted(store)], ['v2', ['v1']]);
    } finally {
      await proxy.stop();
    }
  });
});

describe('a running consumer after hrrr-embed model promote', () => {
  it('swaps to the promoted version announced on the embedded bus, without waiting for its own poll of promoted.json (10 minutes away)', { timeout: 60_000 }, async () => {
    const models = join(work, 'swap-models');
    const store = new FolderStore(models);
    await saveSmall(store, 'small-1', 1);
    await saveSmall(store, 'small-2', 2, { ...SMALL_CONFIG, seed: 7 });
    await promoteVersion(store, 'small-1');
    const source = new FolderStore(join(work, 'swap-source'));
    await putAnalysis(source, smallAnalysisOfHour(0));
    const data = join(work, 'swap-data');
    let signalled = false;
    let promoting: ReturnType<typeof model> | undefined;
    const consumer = runCommandProcess(['run', '--data', data, '--source', join(work, 'swap-source'), '--state', join(work, 'swap-state'), '--model', models, '--device', 'cpu', '--concurrency', '1', '--from', '2019-09-20T00Z', '--poll-seconds', '0.1', '--model-poll-seconds', '600'], {
      // Once it has embedded an analysis with small-1, it follows promotions: promote small-2 then.
      onLine: () => (promoting ??= model(['promote', 'small-2', '--models', models, '--data', data])),
      // Once: a second SIGTERM would stop it at once, exit status 1.
      onStderr: (text, process) => /model swapped/.test(text) && !signalled && (signalled = process.kill('SIGTERM')),
    });
    const result = await consumer;
    assert.equal(result.status, 0, result.stderr);
    assert.equal((await promoting!).status, 0);
    assert.match(result.stderr, /"from":"small-1","to":"small-2".*model swapped/);
  });
});

describe('hrrr-embed model list of a store with no versions', () => {
  // A mistyped --models printed nothing and exited 0, as an empty store does: nothing told the user it looked in the wrong place.
  it('warns on stderr naming the store it looked in, and exits 0 with nothing on stdout', async () => {
    const missing = join(work, 'no-such-models');
    const listed = await model(['list', '--models', missing]);
    assert.equal(listed.status, 0, listed.stderr);
    assert.deepEqual(listed.lines, []);
    assert.ok(listed.stderr.includes(`no model versions in ${pathToFileURL(missing).href}`), listed.stderr);
  });
});
