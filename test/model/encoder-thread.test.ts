import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createAutoencoder, disposeAutoencoder, type Autoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { embedFields, type CroppedField } from '../../model/embed.js';
import { startEncoderThread } from '../../model/encoder-thread.js';
import { silentLogger, StageUnavailableError } from '../../stages/stage.js';
import { refcWindows, SMALL_CONFIG } from './fixtures.js';

/** Cropped fields of pseudo-random values, the same on every run. */
function fields(count: number, height: number, width: number): CroppedField[] {
  let state = 1;
  const next = () => ((state = (state * 48271) % 2147483647) / 2147483647);
  return Array.from({ length: count }, () => ({ height, width, values: Float32Array.from({ length: height * width }, next) }));
}

/** Runs `work` with a fresh small model and its encoder thread on cpu, then closes both. */
async function withEncoderThread(work: (thread: Awaited<ReturnType<typeof startEncoderThread>>, model: Autoencoder) => Promise<void>): Promise<void> {
  const model = createAutoencoder({ config: SMALL_CONFIG });
  const thread = await startEncoderThread(model, 'cpu');
  try {
    await work(thread, model);
  } finally {
    await thread.close();
    disposeAutoencoder(model);
  }
}

describe('the encoder thread', () => {
  before(() => selectBackend('cpu', 'inference', silentLogger));

  it('gives exactly the embeddings and errors the main thread gives, with the same weights on the same backend', async () => {
    const windows = await refcWindows(3, 32, 64);
    const all = (await windows.data()) as Float32Array;
    windows.dispose();
    const batch = [0, 1, 2].map((i) => ({ height: 32, width: 64, values: all.slice(i * 32 * 64, (i + 1) * 32 * 64) }));
    await withEncoderThread(async (thread, model) => {
      const inWorker = await thread.encodeBatch(batch);
      const onMain = await embedFields(model, batch);
      assert.equal(inWorker.length, 3);
      inWorker.forEach((embedded, i) => {
        assert.deepEqual(Array.from(embedded.embedding), Array.from(onMain[i]!.embedding), `field ${i}`);
        assert.equal(embedded.reconstructionError, onMain[i]!.reconstructionError, `field ${i}`);
      });
    });
  });

  it('rejects a batch of the wrong size before sending it, and keeps encoding the next', () =>
    withEncoderThread(async (thread) => {
      await assert.rejects(thread.encodeBatch(fields(1, 16, 64)), /the model takes cropped fields of 32 x 64 x 1, not 16 x 64 x 1/);
      assert.equal((await thread.encodeBatch(fields(2, 32, 64))).length, 2);
    }));

  it('once closed, rejects a batch with a StageUnavailableError: no fault of the fields', () =>
    withEncoderThread(async (thread) => {
      await thread.close();
      await assert.rejects(thread.encodeBatch(fields(1, 32, 64)), (error: unknown) => error instanceof StageUnavailableError && /the encoder thread is closed/.test(error.message));
    }));

  it('fails to start, naming the exit code, when the thread exits while it loads the model, rather than waiting for ever', async () => {
    const model = createAutoencoder({ config: SMALL_CONFIG });
    try {
      await assert.rejects(startEncoderThread(model, 'cpu', new URL('../support/exiting-worker.js', import.meta.url)), /the encoder thread exited \(code 3\) while it loaded the model/);
    } finally {
      disposeAutoencoder(model);
    }
  });

  describe('with a model big enough that a batch takes a while', () => {
    const config = { ...SMALL_CONFIG, inputHeight: 134, inputWidth: 262, numfilters: 4 };
    const model = createAutoencoder({ config });
    after(() => disposeAutoencoder(model));

    it('keeps the event loop turning while it encodes, where the main thread stops it', async () => {
      const batch = fields(1, 128, 256);
      const ticksDuring = async (encode: () => Promise<unknown>) => {
        let ticks = 0;
        const timer = setInterval(() => ticks++, 1);
        await new Promise((resolve) => setTimeout(resolve, 0));
        const before = ticks;
        try {
          await encode();
        } finally {
          clearInterval(timer);
        }
        return ticks - before;
      };
      const thread = await startEncoderThread(model, 'cpu');
      try {
        const inWorker = await ticksDuring(() => thread.encodeBatch(batch));
        const onMain = await ticksDuring(() => embedFields(model, batch));
        assert.ok(inWorker >= 3, `${inWorker} ticks while the worker encoded`);
        assert.ok(onMain <= 1, `${onMain} ticks while the main thread encoded`);
      } finally {
        await thread.close();
      }
    });
  });
});
