import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { testCredentials } from '../../infra/s3-server.js';
import { createAutoencoder, disposeAutoencoder, type Autoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { listVersions, promotedVersion, promoteVersion, saveVersion } from '../../model/versions.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import type { ObjectStore } from '../../store/object-store.js';
import { S3Store } from '../../store/s3.js';
import { writePointer } from '../../training/checkpoints.js';
import { deleteUnneeded, planPrune, type VersionFate } from '../../training/pruning.js';
import { SMALL_CONFIG } from '../model/fixtures.js';
import { runCommandProcess } from '../support/cli-process.js';
import { FaultProxy, type SeenRequest } from '../support/fault-proxy.js';
import { storeKinds } from '../support/stores.js';

const stores = await storeKinds();
const work = await mkdtemp(join(tmpdir(), 'hrrr-embed-model-prune-'));
let small: Autoencoder;
before(async () => {
  await selectBackend('cpu', 'inference', silentLogger);
  small = createAutoencoder({ config: SMALL_CONFIG });
});
after(async () => {
  disposeAutoencoder(small);
  await stores.stop();
  await rm(work, { recursive: true, force: true });
});

const s3env = { AWS_ACCESS_KEY_ID: testCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey, AWS_REGION: 'us-east-1' };
const location = (store: ObjectStore) => (store instanceof S3Store ? ['--models', store.url, '--endpoint', stores.server.endpoint] : ['--models', fileURLToPath(store.url)]);
const prune = (store: ObjectStore, ...args: string[]) => runCommandProcess(['model', 'prune', ...location(store), ...args], { env: s3env });

const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000);
const save = (store: ObjectStore, modelId: string, days: number) => saveVersion(store, small, { modelId, now: daysAgo(days) });
const outcome = (modelId: string, promoted: boolean) => ({ modelId, promoted, reason: 'test', candidateLoss: 0.1, currentLoss: 0.2, alertThreshold: 0.5, steps: 4, finalTrainLoss: 0.1 });

/**
 * old1 promoted before old3 (promoted); pinned named with --keep; saving and judged the
 * candidates of unfinished runs; done a finished run's candidate; recent made yesterday; old2,
 * old4 and done needed by nothing. versions/half/ is a version being saved (no manifest yet).
 */
async function storeOfEveryKind(store: ObjectStore): Promise<void> {
  for (const [id, days] of [['old1', 60], ['old2', 59], ['old3', 58], ['old4', 57], ['pinned', 56], ['saving', 55], ['judged', 54], ['done', 53], ['recent', 1]] as const) await save(store, id, days);
  await store.put('versions/half/model.json', new TextEncoder().encode('{}'));
  await promoteVersion(store, 'old1');
  await promoteVersion(store, 'old3');
  await writePointer(store, 'run-saving', { step: 4, checkpoint: 'training/run-saving/checkpoints/000000004/', saving: 'saving' });
  await writePointer(store, 'run-judged', { step: 4, checkpoint: 'training/run-judged/checkpoints/000000004/', judged: { ...outcome('judged', true), against: 'old3' } });
  await writePointer(store, 'run-done', { step: 4, checkpoint: 'training/run-done/checkpoints/000000004/', finished: outcome('done', false) });
}

const ALL = ['done', 'half', 'judged', 'old1', 'old2', 'old3', 'old4', 'pinned', 'recent', 'saving'];
async function versionFolders(store: ObjectStore): Promise<string[]> {
  const ids = new Set<string>();
  for await (const { key } of store.list('versions/')) ids.add(key.split('/')[1]!);
  return [...ids].sort();
}

for (const kind of stores.kinds) {
  describe(`hrrr-embed model prune on a ${kind.name}`, () => {
    it('by default deletes nothing and names the versions nothing needs; --verbose says why each other one is kept', async () => {
      const store = await kind.create();
      await storeOfEveryKind(store);
      const dry = await prune(store, '--keep', 'pinned', '--verbose');
      assert.equal(dry.status, 0, dry.stderr);
      const lines = dry.lines as Array<{ modelId?: string; action?: string; keptBecause?: string[] }>;
      assert.deepEqual(
        lines.filter(({ action }) => action === 'would delete').map(({ modelId }) => modelId),
        ['old2', 'old4', 'done'],
      );
      const kept = Object.fromEntries(lines.filter(({ action }) => action === 'kept').map(({ modelId, keptBecause }) => [modelId, keptBecause!.join('; ')]));
      assert.deepEqual(Object.keys(kept).sort(), ['half', 'judged', 'old1', 'old3', 'pinned', 'recent', 'saving']);
      assert.match(kept.half!, /incomplete \(no manifest\.json\), written less than 30 days ago: maybe being saved/);
      assert.match(kept.old3!, /^promoted$/);
      assert.match(kept.old1!, /promoted before old3: a consumer's fallback/);
      assert.match(kept.saving!, /run run-saving is saving it/);
      assert.match(kept.judged!, /candidate of run run-judged, judged and not yet concluded/);
      assert.match(kept.pinned!, /named with --keep/);
      assert.match(kept.recent!, /made less than 30 days ago/);
      assert.deepEqual(lines.at(-1), { versions: 10, kept: 7, wouldDelete: 3 });
      assert.deepEqual(await versionFolders(store), ALL);
    });

    it('with --delete deletes those, leaving every kept version and one being saved whole', async () => {
      const store = await kind.create();
      await storeOfEveryKind(store);
      const result = await prune(store, '--keep', 'pinned', '--delete');
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(
        (result.lines as Array<{ modelId?: string; action?: string }>).map(({ modelId, action }) => [modelId, action]),
        [['old2', 'deleted'], ['old4', 'deleted'], ['done', 'deleted'], [undefined, undefined]],
      );
      assert.deepEqual(result.lines.at(-1), { versions: 10, kept: 7, deleted: 3 });
      assert.deepEqual(await versionFolders(store), ['half', 'judged', 'old1', 'old3', 'pinned', 'recent', 'saving']);
      assert.equal(await promotedVersion(store), 'old3');
    });
  });
}

describe('hrrr-embed model prune refuses what it cannot know, deleting nothing', () => {
  it('refuses an unreadable promoted.json, a missing one, an unreadable run record and a --keep naming no version; exit status 1', async () => {
    const store = new FolderStore(join(work, 'refusals'));
    await storeOfEveryKind(store);
    const cases: Array<[() => Promise<unknown>, string[], RegExp]> = [
      [() => store.put('promoted.json', new TextEncoder().encode('{"modelId": 7}')), [], /promoted\.json: modelId is not a version id .*: which versions consumers may fall back to is unknown, so nothing is deleted/],
      [() => store.put('promoted.json', new TextEncoder().encode('{"modelId": "old3", "prev')), [], /promoted\.json: not JSON .*so nothing is deleted/],
      [() => store.delete('promoted.json'), [], /no version is promoted in file:.* \(no promoted\.json\).*nothing is deleted/],
      [() => promoteVersion(store, 'old3'), ['--keep', 'pinnde'], /--keep pinnde: no complete version pinnde in file:.*nothing is deleted/],
      [() => store.put('training/run-bad/latest.json', new TextEncoder().encode('not json')), [], /training\/run-bad\/latest\.json: .*whether run run-bad still needs a version is unknown, so nothing is deleted/],
    ];
    for (const [damage, args, message] of cases) {
      await damage();
      const result = await prune(store, '--delete', ...args);
      assert.equal(result.status, 1, `${message}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.deepEqual(await versionFolders(store), ALL);
    }
  });

  it('names a way out of an unreadable promoted.json that works: the command its refusal gives rewrites it, and the prune then runs', async () => {
    const store = new FolderStore(join(work, 'way-out'));
    await storeOfEveryKind(store);
    await store.put('promoted.json', new TextEncoder().encode('{"modelId": "old3", "prev'));
    const refused = await prune(store, '--delete');
    assert.equal(refused.status, 1, refused.stderr);
    const named = /\((model promote ID[^)]*) rewrites it\)/.exec(refused.stderr);
    assert.ok(named, `the refusal names a command: ${refused.stderr}`);
    const remedy = named[1]!.split(' ').map((word) => (word === 'ID' ? 'old3' : word));
    const rewritten = await runCommandProcess([...remedy, ...location(store)]);
    assert.equal(rewritten.status, 0, `${named[1]}: ${rewritten.stderr}`);
    assert.equal((await prune(store)).status, 0);
  });

  it('on S3 whose read of promoted.json fails (a fault-injecting proxy before moto), refuses naming the failed read and saying to try again, not advising model promote --force', async () => {
    const proxy = await FaultProxy.start(stores.server.endpoint);
    try {
      const store = await stores.server.store(`prune-failing-read-${process.pid}`);
      await storeOfEveryKind(store);
      proxy.inject({ kind: 'status', status: 403, code: 'AccessDenied', when: (seen: SeenRequest) => seen.method === 'GET' && seen.path.split('?')[0]!.endsWith('/promoted.json') });
      const result = await runCommandProcess(['model', 'prune', '--models', store.url, '--endpoint', proxy.endpoint, '--delete'], { env: s3env });
      assert.equal(result.status, 1, result.stderr);
      assert.match(result.stderr, /promoted\.json: HTTP 403: AccessDenied.*could not be read.*nothing is deleted.*try again/);
      assert.doesNotMatch(result.stderr, /--force/);
      assert.deepEqual(await versionFolders(store), ALL);
    } finally {
      await proxy.stop();
    }
  });

  it('on a store with no version yet (before the first training), deletes nothing and says so, exit status 0', async () => {
    const result = await prune(new FolderStore(join(work, 'empty')), '--delete');
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(result.lines, [{ versions: 0, kept: 0, deleted: 0 }]);
  });

  it('refuses a --keep-days that is no whole number as a usage error (exit status 2)', async () => {
    const result = await runCommandProcess(['model', 'prune', '--models', join(work, 'usage'), '--keep-days', '3.5']);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /--keep-days: "3.5" is not a whole number of days/);
  });
});

describe('hrrr-embed model prune keeps what consumers may fall back to', () => {
  it('with a promoted.json written before it listed previous versions, keeps every version made before the promoted one', async () => {
    const store = new FolderStore(join(work, 'legacy'));
    for (const [id, days] of [['a', 60], ['b', 50], ['c', 40]] as const) await save(store, id, days);
    await store.put('promoted.json', new TextEncoder().encode('{"modelId": "b"}'));
    const result = await prune(store, '--verbose');
    assert.equal(result.status, 0, result.stderr);
    const lines = result.lines as Array<{ modelId?: string; action?: string; keptBecause?: string[] }>;
    assert.deepEqual(lines.map(({ modelId, action }) => [modelId, action]), [['a', 'kept'], ['b', 'kept'], ['c', 'would delete'], [undefined, undefined]]);
    assert.match(lines[0]!.keptBecause![0]!, /made before the promoted b, and promoted\.json \(written before it listed the versions promoted before\)/);
  });

  it('keeps a version promoted while the prune deletes others, reading promoted.json again before each deletion', async () => {
    const store = new FolderStore(join(work, 'race'));
    await storeOfEveryKind(store);
    const planned = await planPrune(store, { keepDays: 30, keep: ['pinned'] });
    let reads = 0;
    // An operator promoting `done` after the first deletion, before the second.
    const racing: ObjectStore = {
      url: store.url,
      list: (prefix, options) => store.list(prefix, options),
      head: (key, options) => store.head(key, options),
      get: async (key, options) => {
        if (key === 'promoted.json' && ++reads === 2) await promoteVersion(store, 'done');
        return store.get(key, options);
      },
      put: (key, body, options) => store.put(key, body, options),
      delete: (key, options) => store.delete(key, options),
    };
    const done: VersionFate[] = [];
    await deleteUnneeded(racing, planned, (fate) => done.push(fate));
    assert.deepEqual(done.map(({ modelId, keptBecause }) => [modelId, keptBecause]), [
      ['old2', []],
      ['old4', []],
      ['done', ['promoted (since this prune began)']],
    ]);
    assert.deepEqual(await listVersions(store), ['done', 'judged', 'old1', 'old3', 'pinned', 'recent', 'saving']);
  });

  it('a deletion stopped part way leaves no version listed, and a later prune removes the rest once old; an old incomplete version a run is saving stays', async () => {
    const store = new FolderStore(join(work, 'stopped'));
    await storeOfEveryKind(store);
    let deletes = 0;
    const failing: ObjectStore = {
      url: store.url,
      list: (prefix, options) => store.list(prefix, options),
      head: (key, options) => store.head(key, options),
      get: (key, options) => store.get(key, options),
      put: (key, body, options) => store.put(key, body, options),
      delete: async (key, options) => {
        if (++deletes === 2) throw new Error('connection reset');
        return store.delete(key, options);
      },
    };
    await assert.rejects(deleteUnneeded(failing, await planPrune(store, { keepDays: 30, keep: ['pinned'] }), () => {}), /connection reset/);
    assert.deepEqual([(await listVersions(store)).includes('old2'), (await versionFolders(store)).includes('old2')], [false, true]);
    await store.put('versions/stuck/model.json', new TextEncoder().encode('{}'));
    await writePointer(store, 'run-stuck', { step: 4, checkpoint: 'training/run-stuck/checkpoints/000000004/', saving: 'stuck' });
    for (const id of ['old2', 'stuck']) {
      const folder = join(fileURLToPath(store.url), 'versions', id);
      for (const name of await readdir(folder)) await utimes(join(folder, name), daysAgo(60), daysAgo(60));
    }
    const result = await prune(store, '--keep', 'pinned', '--delete', '--verbose');
    assert.equal(result.status, 0, result.stderr);
    const lines = result.lines as Array<{ modelId?: string; action?: string; incomplete?: true; keptBecause?: string[] }>;
    assert.deepEqual(lines.filter(({ action }) => action === 'deleted').map(({ modelId, incomplete }) => [modelId, incomplete ?? false]), [['old4', false], ['done', false], ['old2', true]]);
    assert.deepEqual(lines.find(({ modelId }) => modelId === 'stuck')!.keptBecause, ['run run-stuck is saving it as its candidate']);
    assert.deepEqual(await versionFolders(store), ['half', 'judged', 'old1', 'old3', 'pinned', 'recent', 'saving', 'stuck']);
  });
});
