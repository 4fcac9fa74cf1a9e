import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { compileForTraining } from '../../model/train.js';
import { silentLogger, StageUnavailableError, type Stage, type StageContext } from '../../stages/stage.js';
import { createEncodeStage, fixedModel } from '../../stages/transforms/encode.js';
import type { EmbeddedField, NormalizedField } from '../../stages/types.js';
import type { CroppedField } from '../../model/embed.js';
import { maxAbsDifference, refcField, refcWindows, SMALL_CONFIG } from '../model/fixtures.js';

const context: StageContext = { log: silentLogger, signal: new AbortController().signal };

async function encodeOne(stage: Stage<NormalizedField, EmbeddedField>, input: NormalizedField): Promise<EmbeddedField> {
  const out: EmbeddedField[] = [];
  for await (const embedded of stage.process(input, context)) out.push(embedded);
  assert.equal(out.length, 1);
  return out[0]!;
}

describe('the encode stage', () => {
  before(() => selectBackend('cpu', 'inference', silentLogger));

  it("gives the encoder's embedding and, as reconstruction error, the training loss of the field", async () => {
    const model = createAutoencoder({ config: SMALL_CONFIG });
    const { source, field } = await refcField();
    const window = await refcWindows(1, 32, 64);
    const values = (await window.data()) as Float32Array;
    const out: EmbeddedField[] = [];
    for await (const embedded of createEncodeStage({ model: fixedModel(model), backend: 'cpu' }).process({ source, field, height: 32, width: 64, values }, context)) out.push(embedded);

    assert.equal(out.length, 1);
    const [embedded] = out as [EmbeddedField];
    assert.deepEqual(embedded.model, { version: 'untrained', backend: 'cpu' });
    assert.equal(embedded.field, field);
    assert.deepEqual(Array.from(embedded.embedding), Array.from(await (model.encoder.predict(window) as tf.Tensor).data()));
    compileForTraining(model);
    const loss = (await (model.croppedAutoencoder.evaluate(window, window) as tf.Scalar).data())[0]!;
    assert.ok(Math.abs(embedded.reconstructionError - loss) <= 1e-6 * loss, `${embedded.reconstructionError} against tfjs-layers' logcosh ${loss}`);
    assert.ok(embedded.reconstructionError > 0);
    window.dispose();
  });

  it('gives, for a batch of fields from concurrent callers, the embeddings and errors each field gets alone', async () => {
    const model = createAutoencoder({ config: SMALL_CONFIG });
    const { source, field } = await refcField();
    const windows = await refcWindows(4, 32, 64);
    const all = (await windows.data()) as Float32Array;
    windows.dispose();
    const fields = [0, 1, 2, 3].map((i) => ({ source: { ...source, key: `field-${i}` }, field, height: 32, width: 64, values: all.slice(i * 32 * 64, (i + 1) * 32 * 64) }));
    const sizes: number[] = [];
    const batched = createEncodeStage({ model: fixedModel(model), backend: 'cpu', batching: { maxBatch: 4, maxWaitMs: 60_000, onBatch: (size) => sizes.push(size) } });
    const together = await Promise.all(fields.map((input) => encodeOne(batched, input)));
    const alone: EmbeddedField[] = [];
    for (const input of fields) alone.push(await encodeOne(createEncodeStage({ model: fixedModel(model), backend: 'cpu' }), input));

    assert.deepEqual(sizes, [4], 'one batch of four');
    together.forEach((embedded, i) => {
      const single = alone[i]!;
      assert.equal(embedded.source.key, `field-${i}`, 'each caller gets its own field');
      assert.ok(maxAbsDifference(embedded.embedding, single.embedding) <= 1e-6, `field ${i}: embeddings differ by ${maxAbsDifference(embedded.embedding, single.embedding)}`);
      assert.ok(Math.abs(embedded.reconstructionError - single.reconstructionError) <= 1e-6, `field ${i}: ${embedded.reconstructionError} against ${single.reconstructionError}`);
    });
  });

  it('rejects a field of the wrong shape alone, while the fields batched with it are encoded', async () => {
    const model = createAutoencoder({ config: SMALL_CONFIG });
    const { source, field } = await refcField();
    const sizes: number[] = [];
    const batched = createEncodeStage({ model: fixedModel(model), backend: 'cpu', batching: { maxBatch: 2, maxWaitMs: 60_000, onBatch: (size) => sizes.push(size) } });
    const good = (key: string) => ({ source: { ...source, key }, field, height: 32, width: 64, values: new Float32Array(32 * 64).fill(0.5) });
    const [first, wrong, second] = await Promise.allSettled([
      encodeOne(batched, good('first')),
      encodeOne(batched, { source, field, height: 32, width: 64, values: new Float32Array(10) }),
      encodeOne(batched, good('second')),
    ]);
    assert.equal(wrong.status, 'rejected');
    assert.match((wrong.reason as Error).message, /a field of 32 x 64 has 2048 values, not 10/);
    assert.equal(first.status === 'fulfilled' && first.value.source.key, 'first');
    assert.equal(second.status === 'fulfilled' && second.value.source.key, 'second');
    assert.deepEqual(sizes, [2], 'the good fields made one batch without the bad one');
  });

  it('encodes again one at a time the fields of a batch that ran out of memory: those that pass alone are encoded, one that still fails alone is rejected naming the resource failure', async () => {
    const model = createAutoencoder({ config: SMALL_CONFIG });
    const { source, field } = await refcField();
    const sizes: number[] = [];
    // An encoder that cannot allocate a batch of more than one field, nor the field "huge" (all ones) even alone.
    const encodeBatch = async (fields: readonly CroppedField[]) => {
      if (fields.length > 1 || fields[0]!.values[0] === 1) throw new RangeError('Array buffer allocation failed');
      return fields.map(() => ({ embedding: new Float32Array(SMALL_CONFIG.numdense).fill(0.25), reconstructionError: 0.5 }));
    };
    const batched = createEncodeStage({ model: fixedModel(model, encodeBatch), backend: 'cpu', batching: { maxBatch: 3, maxWaitMs: 60_000, onBatch: (size) => sizes.push(size) } });
    const input = (key: string) => ({ source: { ...source, key }, field, height: 32, width: 64, values: new Float32Array(32 * 64).fill(key === 'huge' ? 1 : 0.5) });
    const [first, huge, last] = await Promise.allSettled(['first', 'huge', 'last'].map((key) => encodeOne(batched, input(key))));

    assert.equal(first.status === 'fulfilled' && first.value.source.key, 'first');
    assert.equal(last.status === 'fulfilled' && last.value.source.key, 'last');
    assert.equal(huge.status, 'rejected');
    assert.match((huge.reason as Error).message, /out of resources encoding this field alone: RangeError: Array buffer allocation failed/);
    assert.deepEqual(sizes, [3, 1, 1, 1], 'the batch of three, then each of its fields alone');
  });

  it("takes wasm's memory it cannot grow and tfjs's OOM for running out of resources too: the batch's fields are encoded again one at a time", async () => {
    const model = createAutoencoder({ config: SMALL_CONFIG });
    const { source, field } = await refcField();
    const input = (key: string) => ({ source: { ...source, key }, field, height: 32, width: 64, values: new Float32Array(32 * 64).fill(0.5) });
    for (const failure of ['Aborted(Cannot enlarge memory arrays to size 2147549184 bytes)', 'OOM when allocating tensor with shape [2,32,64,1]']) {
      const sizes: number[] = [];
      const encodeBatch = async (fields: readonly CroppedField[]) => {
        if (fields.length > 1) throw new Error(failure);
        return fields.map(() => ({ embedding: new Float32Array(SMALL_CONFIG.numdense).fill(0.25), reconstructionError: 0.5 }));
      };
      const batched = createEncodeStage({ model: fixedModel(model, encodeBatch), backend: 'cpu', batching: { maxBatch: 2, maxWaitMs: 60_000, onBatch: (size) => sizes.push(size) } });
      const encoded = await Promise.all(['a', 'b'].map((key) => encodeOne(batched, input(key))));
      assert.deepEqual(encoded.map(({ source }) => source.key), ['a', 'b'], failure);
      assert.deepEqual(sizes, [2, 1, 1], failure);
    }
  });

  it('rejects every field of a batch that failed for another reason than resources, without encoding them again', async () => {
    const model = createAutoencoder({ config: SMALL_CONFIG });
    const { source, field } = await refcField();
    const sizes: number[] = [];
    const encodeBatch = async () => Promise.reject(new Error('the kernel has a bug'));
    const batched = createEncodeStage({ model: fixedModel(model, encodeBatch), backend: 'cpu', batching: { maxBatch: 2, maxWaitMs: 60_000, onBatch: (size) => sizes.push(size) } });
    const input = (key: string) => ({ source: { ...source, key }, field, height: 32, width: 64, values: new Float32Array(32 * 64).fill(0.5) });
    const outcomes = await Promise.allSettled(['a', 'b'].map((key) => encodeOne(batched, input(key))));
    for (const outcome of outcomes) assert.match(outcome.status === 'rejected' ? (outcome.reason as Error).message : 'encoded', /the batch of 2 failed: the kernel has a bug/);
    assert.deepEqual(sizes, [2]);
  });

  it('rejects a field of another size than the model takes', async () => {
    const model = createAutoencoder({ config: SMALL_CONFIG });
    const { source, field } = await refcField();
    const wrong = { source, field, height: 16, width: 64, values: new Float32Array(16 * 64) };
    await assert.rejects(async () => {
      for await (const _ of createEncodeStage({ model: fixedModel(model), backend: 'cpu' }).process(wrong, context));
    }, /the model takes cropped fields of 32 x 64 x 1, not 16 x 64 x 1/);
  });

  it('rejects a field whose embedding or reconstruction error the model made NaN with a StageUnavailableError naming it (the model, not the field, is broken), rather than giving it as a number', async () => {
    const model = createAutoencoder({ config: SMALL_CONFIG });
    const { source, field } = await refcField();
    const input = { source, field, height: 32, width: 64, values: new Float32Array(32 * 64).fill(0.5) };
    const broken = (embedding: Float32Array, reconstructionError: number) =>
      createEncodeStage({ model: fixedModel(model, async (fields) => fields.map(() => ({ embedding, reconstructionError }))), backend: 'cpu' });
    await assert.rejects(encodeOne(broken(new Float32Array([0.1, Number.NaN]), 0.2), input), (error: unknown) => error instanceof StageUnavailableError && /the model gave a non-finite embedding \(NaN at 1\)/.test(error.message));
    await assert.rejects(encodeOne(broken(new Float32Array([0.1, 0.3]), Number.NaN), input), (error: unknown) => error instanceof StageUnavailableError && /the model gave a non-finite reconstruction error \(NaN\)/.test(error.message));
  });

  it('rejects a field whose embedding or reconstruction error the model made infinite with a StageUnavailableError naming it, as it does NaN', async () => {
    const model = createAutoencoder({ config: SMALL_CONFIG });
    const { source, field } = await refcField();
    const input = { source, field, height: 32, width: 64, values: new Float32Array(32 * 64).fill(0.5) };
    const broken = (embedding: Float32Array, reconstructionError: number) =>
      createEncodeStage({ model: fixedModel(model, async (fields) => fields.map(() => ({ embedding, reconstructionError }))), backend: 'cpu' });
    await assert.rejects(encodeOne(broken(new Float32Array([Number.NEGATIVE_INFINITY, 0.3]), 0.2), input), (error: unknown) => error instanceof StageUnavailableError && /the model gave a non-finite embedding \(-Infinity at 0\)/.test(error.message));
    await assert.rejects(encodeOne(broken(new Float32Array([0.1, 0.3]), Number.POSITIVE_INFINITY), input), (error: unknown) => error instanceof StageUnavailableError && /the model gave a non-finite reconstruction error \(Infinity\)/.test(error.message));
  });
});
