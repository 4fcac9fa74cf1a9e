import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, mock } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { FileBus } from '../../bus/files/file-bus.js';
import { createAutoencoder, withSharedModels } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { croppedShape } from '../../model/config.js';
import { embedFields } from '../../model/embed.js';
import { startEncoderThread } from '../../model/encoder-thread.js';
import { loadVersion, promoteVersion, readManifest, saveVersion } from '../../model/versions.js';
import { followPromotions } from '../../pipelines/follow-promotions.js';
import { ModelSlot, ModelSwapError, type ServedModel } from '../../pipelines/model-slot.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import type { ObjectStore, RequestOptions } from '../../store/object-store.js';
import { SMALL_CONFIG } from '../model/fixtures.js';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'hrrr-embed-slot-'));
  await selectBackend('cpu', 'inference', silentLogger);
});
after(() => rm(work, { recursive: true, force: true }));

/** A small model under a version name, as the slot serves it; `closed` records when it is freed. */
function served(version: string, closed: string[], config: object = SMALL_CONFIG): ServedModel {
  const { autoencoder, config: modelConfig, normalization } = createAutoencoder({ config });
  return { autoencoder: withSharedModels(autoencoder, modelConfig, normalization, version), id: 'models', alertThreshold: null, backend: 'cpu', close: async () => void closed.push(version) };
}

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('not within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the model slot and the promotion follower', () => {
  it('keeps a replaced version loaded while a hold taken before the swap is open, then frees it; refuses a version of another architecture', async () => {
    const closed: string[] = [];
    const slot = new ModelSlot(served('v1', closed));
    const release = slot.hold();
    await slot.replace(served('v2', closed));
    assert.equal(slot.current.autoencoder.version, 'v2');
    assert.equal(slot.version('v1')?.autoencoder.version, 'v1', 'still there for fields on their way');
    await release();
    assert.ok(closed.includes('v1'));
    assert.equal(slot.version('v1'), undefined);

    await assert.rejects(slot.replace(served('wide', closed, { ...SMALL_CONFIG, inputWidth: 134 })), (error: unknown) => error instanceof ModelSwapError && /another architecture than v2 \(inputWidth 134, not 70\): restart/.test(error.message));
    assert.ok(closed.includes('wide'), 'the refused version is freed');
    assert.equal(slot.current.autoencoder.version, 'v2');
    await slot.close();
    assert.ok(closed.includes('v2'));
  });

  it('keeps each retired copy of a version while it is held: promoted, rolled back and promoted again while a batch runs on the first copy, that batch still completes', async () => {
    const closed: string[] = [];
    const before = tf.memory().numTensors;
    const slot = new ModelSlot(served('v1', closed));
    const release = slot.hold();
    const inFlight = slot.current.autoencoder; // a batch started on the first copy of v1
    await slot.replace(served('v2', closed));
    await slot.replace(served('v1', closed)); // a rollback: v1 loaded again
    await slot.replace(served('v2', closed)); // and forward again
    assert.deepEqual(closed, [], 'no copy freed while held');
    const [height, width] = croppedShape(inFlight.config);
    const [embedded] = await embedFields(inFlight, [{ height, width, values: new Float32Array(height * width).fill(0.5) }]);
    assert.equal(embedded!.embedding.length, SMALL_CONFIG.numdense);
    await release();
    assert.deepEqual(closed.sort(), ['v1', 'v1', 'v2']);
    await slot.close();
    assert.deepEqual(closed.sort(), ['v1', 'v1', 'v2', 'v2']);
    assert.equal(tf.memory().numTensors, before);
  });

  it('refuses a version of another embedding size or normalization naming the setting and both values, and keeps serving', async () => {
    const closed: string[] = [];
    const slot = new ModelSlot(served('v1', closed));
    await assert.rejects(slot.replace(served('wider-embedding', closed, { ...SMALL_CONFIG, numdense: 32 })), /model version wider-embedding has another architecture than v1 \(numdense 32, not 16\): restart the consumer to use it/);
    const { autoencoder, config, normalization } = createAutoencoder({ config: SMALL_CONFIG, normalization: { clipMax: 70 } });
    const clipped = { autoencoder: withSharedModels(autoencoder, config, normalization, 'clipped'), id: 'models', alertThreshold: null, backend: 'cpu' };
    await assert.rejects(slot.replace(clipped), /model version clipped has another normalization than v1 \(clipMax 70, not 60\)/);
    assert.equal(slot.current.autoencoder.version, 'v1');
    await slot.close();
  });

  it('frees the weights of every version it retires or refuses: tensors stay flat over swaps', async () => {
    const closed: string[] = [];
    const before = tf.memory().numTensors;
    const slot = new ModelSlot(served('v0', closed));
    for (let i = 1; i <= 4; i++) {
      await slot.replace(served(`v${i}`, closed));
      assert.ok(closed.includes(`v${i - 1}`), 'unheld: freed at once');
      await assert.rejects(slot.replace(served(`wide${i}`, closed, { ...SMALL_CONFIG, inputWidth: 134 })), ModelSwapError);
    }
    await slot.close();
    assert.equal(tf.memory().numTensors, before);
  });

  it('ends the encoder thread of every version it retires or refuses', async () => {
    const threads = () => process.getActiveResourcesInfo().filter((resource) => resource === 'MessagePort').length;
    const started: Array<() => Promise<void>> = [];
    const withThread = async (version: string, config: object = SMALL_CONFIG): Promise<ServedModel> => {
      const model = served(version, [], config);
      const { encodeBatch, close } = await startEncoderThread(model.autoencoder, 'cpu');
      started.push(close);
      return { ...model, encodeBatch, close };
    };
    const before = threads();
    try {
      const slot = new ModelSlot(await withThread('v0'));
      for (let i = 1; i <= 3; i++) {
        await slot.replace(await withThread(`v${i}`));
        assert.equal(slot.version(`v${i - 1}`), undefined, 'unheld: freed at once');
        await assert.rejects(slot.replace(await withThread(`wide${i}`, { ...SMALL_CONFIG, inputWidth: 134 })), ModelSwapError);
        assert.equal(threads(), before + 1, "the current version's thread alone");
      }
      await slot.close();
      assert.equal(threads(), before);
    } finally {
      await Promise.all(started.map((close) => close())); // should the slot have left any, lest they keep the test running
    }
  });

  it("ends a retired version's encoder thread once its last batch is done (an idle wasm thread holds hundreds of MB), and keeps its weights for the fields on their way", async () => {
    const threads = () => process.getActiveResourcesInfo().filter((resource) => resource === 'MessagePort').length;
    const withThread = async (version: string): Promise<ServedModel> => {
      const model = served(version, []);
      const { encodeBatch, close } = await startEncoderThread(model.autoencoder, 'cpu');
      return { ...model, encodeBatch, close };
    };
    const before = threads();
    const slot = new ModelSlot(await withThread('v0'));
    const release = slot.hold();
    const [height, width] = croppedShape(slot.current.autoencoder.config);
    const inFlight = slot.current.encodeBatch!([{ height, width, values: new Float32Array(height * width).fill(0.5) }]);
    await slot.replace(await withThread('v1'));
    const [embedded] = await inFlight;
    assert.equal(embedded!.embedding.length, SMALL_CONFIG.numdense, 'the batch in flight on v0 is done by v0');
    await until(() => threads() === before + 1);
    assert.equal(slot.version('v0')?.autoencoder.version, 'v0', "v0's weights stay for its fields on their way");
    await release();
    assert.equal(slot.version('v0'), undefined);
    await slot.close();
    assert.equal(threads(), before);
  });

  it('follows the promoted pointer by polling alone, rollbacks included, and tries a refused version only once', async () => {
    const models = new FolderStore(join(work, 'models'));
    for (const id of ['v1', 'v2']) await saveVersion(models, createAutoencoder({ config: SMALL_CONFIG }), { modelId: id });
    await promoteVersion(models, 'v1');
    const closed: string[] = [];
    const loads: string[] = [];
    const slot = new ModelSlot(served('v1', closed));
    const load = async (version: string) => {
      loads.push(version);
      return served(version, closed, version === 'wide' ? { ...SMALL_CONFIG, inputWidth: 134 } : SMALL_CONFIG);
    };
    const stop = new AbortController();
    const following = followPromotions({ models, slot, load, pollMs: 20, log: silentLogger }, stop.signal);

    await promoteVersion(models, 'v2');
    await until(() => slot.current.autoencoder.version === 'v2');
    await promoteVersion(models, 'v1'); // a rollback
    await until(() => slot.current.autoencoder.version === 'v1');
    await saveVersion(models, createAutoencoder({ config: { ...SMALL_CONFIG, inputWidth: 134 } }), { modelId: 'wide' });
    await promoteVersion(models, 'wide');
    await new Promise((resolve) => setTimeout(resolve, 200)); // ten polls
    stop.abort();
    await following;

    assert.equal(slot.current.autoencoder.version, 'v1', 'still serving what it had');
    assert.deepEqual(loads, ['v2', 'v1', 'wide']);
    await slot.close();
  });

  it('ends as soon as it is stopped while it takes a promoted version (a SIGTERM while the weights load), not at its next look minutes later', async () => {
    const models = new FolderStore(join(work, 'stopped-models'));
    for (const id of ['v1', 'v2']) await saveVersion(models, createAutoencoder({ config: SMALL_CONFIG }), { modelId: id });
    await promoteVersion(models, 'v2');
    const closed: string[] = [];
    const slot = new ModelSlot(served('v1', closed));
    const stop = new AbortController();
    const load = async (version: string) => {
      stop.abort(); // the consumer is told to stop while this version loads
      return served(version, closed);
    };
    let looked!: () => void;
    const lookedOnce = new Promise<void>((resolve) => (looked = resolve));
    let ended = false;
    // Its next look is a mocked timer: a follower waiting for it neither ends nor keeps this test alive.
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const following = followPromotions({ models, slot, load, pollMs: 600_000, log: silentLogger, onLook: looked }, stop.signal);
      void following.then(() => (ended = true));
      await lookedOnce;
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      mock.timers.reset();
    }
    assert.equal(slot.current.autoencoder.version, 'v2', 'the version loaded is swapped in');
    assert.ok(ended, 'ended once the swap was done, without waiting 10 minutes for a stop it had missed');
    await slot.close();
  });

  it('ends as soon as it is stopped while a look waits on a model store that no longer answers (its read of promoted.json, or a version loading), and says nothing of it', async () => {
    const models = new FolderStore(join(work, 'silent-models'));
    for (const id of ['v1', 'v2']) await saveVersion(models, createAutoencoder({ config: SMALL_CONFIG }), { modelId: id });
    await promoteVersion(models, 'v1');
    // From `silent` on, its requests get no answer: they end only when aborted, as an S3 request does.
    let silent = false;
    let unanswered = 0;
    const answerless = (options?: RequestOptions) =>
      new Promise<never>((_, reject) => {
        unanswered++;
        options?.signal?.addEventListener('abort', () => reject(options.signal!.reason), { once: true });
      });
    const store: ObjectStore = { url: models.url, list: (prefix, options) => models.list(prefix, options), head: (key, options) => models.head(key, options), get: (key, options) => (silent ? answerless(options) : models.get(key, options)), put: (key, body, options) => models.put(key, body, options), delete: (key, options) => models.delete(key, options) };
    const errors: string[] = [];
    const log = { ...silentLogger, error: (_: object, message?: string) => void errors.push(message ?? '') };
    const slot = new ModelSlot(await loadServed(models, 'v1'));
    for (const silentIn of ['the read of promoted.json', 'the load of v2'] as const) {
      silent = silentIn === 'the read of promoted.json';
      unanswered = 0;
      const stop = new AbortController();
      const load = (version: string, signal: AbortSignal) => (silentIn === 'the load of v2' ? answerless({ signal }) : loadServed(models, version));
      let ended = false;
      const following = followPromotions({ models: store, slot, load, pollMs: 10, log }, stop.signal).then(() => void (ended = true));
      await promoteVersion(models, silentIn === 'the load of v2' ? 'v2' : 'v1');
      await until(() => unanswered > 0);
      stop.abort();
      await until(() => ended);
      await following;
    }
    assert.deepEqual(errors, [], 'a stop is no failure to log');
    assert.equal(slot.current.autoencoder.version, 'v1');
    await slot.close();
  });

  it('looks again and again without piling up abort listeners or timers, and closes its announcements consumer when stopped', async () => {
    const models = new FolderStore(join(work, 'looked-at-models'));
    await saveVersion(models, createAutoencoder({ config: SMALL_CONFIG }), { modelId: 'v1' });
    await promoteVersion(models, 'v1');
    const bus = new FileBus(join(work, 'looked-at-bus'));
    await bus.createTopic('model-versions', { partitions: 1 });
    const consumer = bus.consumer({ group: 'watch', topics: ['model-versions'] });
    let closed = false;
    const announcements = { records: (signal?: AbortSignal) => consumer.records(signal), commit: consumer.commit.bind(consumer), close: () => ((closed = true), consumer.close()) };
    const timers = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
    const slot = new ModelSlot(await loadServed(models, 'v1'));
    const timersBefore = timers();
    const stop = new AbortController();
    const listeners: number[] = [];
    const onLook = () => void listeners.push(getEventListeners(stop.signal, 'abort').length);
    const following = followPromotions({ models, slot, load: (version) => loadServed(models, version), announcements, pollMs: 2, log: silentLogger, onLook }, stop.signal);
    await until(() => listeners.length >= 30);
    stop.abort();
    await following;
    assert.equal(new Set(listeners.slice(1)).size, 1, `the same abort listeners at every look: ${listeners.join(', ')}`);
    assert.equal(getEventListeners(stop.signal, 'abort').length, 0);
    assert.equal(timers(), timersBefore);
    assert.ok(closed, 'the announcements consumer is closed');
    await bus.close();
    await slot.close();
  });

  it('keeps serving when a promoted version cannot be loaded (its weights missing), says so, and takes the next good one', async () => {
    const models = new FolderStore(join(work, 'broken-models'));
    for (const id of ['v1', 'v2', 'v3']) await saveVersion(models, createAutoencoder({ config: SMALL_CONFIG }), { modelId: id });
    for await (const { key } of models.list('versions/v2/')) if (key.endsWith('.bin')) await models.delete(key);
    await promoteVersion(models, 'v1');
    const slot = new ModelSlot(await loadServed(models, 'v1'));
    const errors: string[] = [];
    const log = { ...silentLogger, error: (_: object, message?: string) => void errors.push(message ?? '') };
    const stop = new AbortController();
    const following = followPromotions({ models, slot, load: (version) => loadServed(models, version), pollMs: 20, log }, stop.signal);

    await promoteVersion(models, 'v2');
    await until(() => errors.length >= 2);
    assert.equal(slot.current.autoencoder.version, 'v1', 'still serving v1');
    assert.match(errors[0]!, /could not take the promoted model version; still serving the current one/);
    await promoteVersion(models, 'v3');
    await until(() => slot.current.autoencoder.version === 'v3');
    stop.abort();
    await following;
    await slot.close();
  });

  it('tries a promoted version whose manifest does not fit its weights at every look, and keeps none of the weights it loaded', async () => {
    const models = new FolderStore(join(work, 'misfit-models'));
    for (const id of ['v1', 'v2']) await saveVersion(models, createAutoencoder({ config: SMALL_CONFIG }), { modelId: id });
    const manifest = await readManifest(models, 'v2');
    await models.put('versions/v2/manifest.json', new TextEncoder().encode(JSON.stringify({ ...manifest, hyperparameters: { ...manifest.hyperparameters, nlayers: 3 } })));
    await promoteVersion(models, 'v1');
    const slot = new ModelSlot(await loadServed(models, 'v1'));
    const before = tf.memory().numTensors;
    const errors: string[] = [];
    const log = { ...silentLogger, error: (_: object, message?: string) => void errors.push(message ?? '') };
    const stop = new AbortController();
    const following = followPromotions({ models, slot, load: (version) => loadServed(models, version), pollMs: 5, log }, stop.signal);
    await promoteVersion(models, 'v2');
    await until(() => errors.length >= 5);
    stop.abort();
    await following;
    assert.equal(slot.current.autoencoder.version, 'v1', 'still serving v1');
    assert.equal(tf.memory().numTensors, before);
    await slot.close();
  });
});

async function loadServed(models: FolderStore, version: string): Promise<ServedModel> {
  const { model } = await loadVersion(models, version);
  return { autoencoder: model, id: 'models', alertThreshold: null, backend: 'cpu' };
}

