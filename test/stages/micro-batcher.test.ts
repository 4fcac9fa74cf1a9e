import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StageUnavailableError } from '../../stages/stage.js';
import { BatchError, MicroBatcher, type Schedule } from '../../stages/transforms/micro-batcher.js';

/** A timer that fires only when the test says so. */
function manualTimers() {
  const pending: Array<{ flush: () => void; ms: number; cancelled: boolean }> = [];
  const schedule: Schedule = (flush, ms) => {
    const timer = { flush, ms, cancelled: false };
    pending.push(timer);
    return () => void (timer.cancelled = true);
  };
  const live = () => pending.filter((timer) => !timer.cancelled);
  return { schedule, live, fire: () => live().forEach((timer) => timer.flush()) };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A batcher that doubles numbers and records each batch it ran. */
function doubler(maxBatch: number, timers = manualTimers(), stopWaiting?: AbortSignal) {
  const batches: number[][] = [];
  const batcher = new MicroBatcher<number, number>({
    maxBatch,
    maxWaitMs: 50,
    schedule: timers.schedule,
    ...(stopWaiting && { stopWaiting }),
    run: async (items) => {
      batches.push(items);
      return items.map((n) => n * 2);
    },
  });
  return { batcher, batches, timers };
}

describe('the micro-batcher', () => {
  it('runs a batch as soon as maxBatch items are waiting, without waiting for the timer', async () => {
    const { batcher, batches, timers } = doubler(3);
    const results = Promise.all([1, 2, 3].map((n) => batcher.submit(n)));
    assert.deepEqual(await results, [2, 4, 6]);
    assert.deepEqual(batches, [[1, 2, 3]]);
    assert.equal(timers.live().length, 0, 'the timer of the full batch is cancelled');
  });

  it('runs a partial batch when the wait after its first item is over, and not before', async () => {
    const { batcher, batches, timers } = doubler(8);
    const results = Promise.all([1, 2].map((n) => batcher.submit(n)));
    await settle();
    assert.deepEqual(batches, [], 'nothing runs before the wait is over');
    assert.deepEqual(timers.live().map(({ ms }) => ms), [50], 'one timer, started by the first item');
    timers.fire();
    assert.deepEqual(await results, [2, 4]);
    assert.deepEqual(batches, [[1, 2]]);
  });

  it('a shutdown runs the partial batch waiting at once, and items that come after it wait for no others', async () => {
    const stop = new AbortController();
    const { batcher, batches, timers } = doubler(8, manualTimers(), stop.signal);
    const waiting = Promise.all([1, 2].map((n) => batcher.submit(n)));
    await settle();
    stop.abort();
    assert.deepEqual(await waiting, [2, 4]);
    assert.deepEqual(batches, [[1, 2]], 'run without its timer firing');
    const late = Promise.all([3, 4].map((n) => batcher.submit(n)));
    assert.deepEqual(timers.live().map(({ ms }) => ms), [0], 'a field of an analysis in flight waits for no others');
    timers.fire();
    assert.deepEqual(await late, [6, 8]);
  });

  it('splits more items than maxBatch into full batches and a remainder that waits', async () => {
    const { batcher, batches, timers } = doubler(2);
    const results = Promise.all([1, 2, 3, 4, 5].map((n) => batcher.submit(n)));
    await settle();
    assert.deepEqual(batches, [[1, 2], [3, 4]]);
    timers.fire();
    assert.deepEqual(await results, [2, 4, 6, 8, 10]);
    assert.deepEqual(batches, [[1, 2], [3, 4], [5]]);
  });

  it('with maxBatch 1, runs each item at once', async () => {
    const { batcher, batches, timers } = doubler(1);
    assert.equal(await batcher.submit(7), 14);
    assert.deepEqual(batches, [[7]]);
    assert.equal(timers.live().length, 0);
  });

  it('rejects every caller of a failed batch with a BatchError naming the batch and the cause, and runs the next batch', async () => {
    let calls = 0;
    const sizes: number[] = [];
    const batcher = new MicroBatcher<number, number>({
      maxBatch: 2,
      maxWaitMs: 50,
      onBatch: (size) => sizes.push(size),
      run: async (items) => {
        if (++calls === 1) throw new Error('out of memory');
        return items;
      },
    });
    const failed = [batcher.submit(1), batcher.submit(2)];
    for (const result of failed) {
      await assert.rejects(result, (error: unknown) => error instanceof BatchError && error.message === 'the batch of 2 failed: out of memory' && (error.cause as Error).message === 'out of memory');
    }
    assert.deepEqual(await Promise.all([batcher.submit(3), batcher.submit(4)]), [3, 4]);
    assert.deepEqual(sizes, [2, 2]);
  });

  it('passes a StageUnavailableError of what runs the batches to every caller as it is, so that no item is blamed', async () => {
    const down = new StageUnavailableError('the encoder thread exited (code 1)');
    const batcher = new MicroBatcher<number, number>({ maxBatch: 2, maxWaitMs: 50, run: async () => Promise.reject(down) });
    for (const result of [batcher.submit(1), batcher.submit(2)]) await assert.rejects(result, (error) => error === down);
  });

  it('fails the callers of a batch whose onBatch hook throws or rejects with a StageUnavailableError naming it (no item is blamed, none is left waiting), and runs the next batch', async () => {
    for (const hook of [() => { throw new Error('metrics broke'); }, async () => Promise.reject(new Error('metrics broke'))]) {
      let calls = 0;
      const batcher = new MicroBatcher<number, number>({
        maxBatch: 2,
        maxWaitMs: 50,
        onBatch: () => (++calls === 1 ? hook() : undefined),
        run: async (items) => items,
      });
      const outcomes: Array<PromiseSettledResult<number>> = [];
      for (const result of [batcher.submit(1), batcher.submit(2)]) void result.then((value) => outcomes.push({ status: 'fulfilled', value }), (reason) => outcomes.push({ status: 'rejected', reason }));
      for (let turn = 0; turn < 10 && outcomes.length < 2; turn++) await settle();
      assert.equal(outcomes.length, 2, 'every caller of the batch is answered');
      for (const outcome of outcomes) {
        assert.equal(outcome.status, 'rejected');
        const reason = (outcome as PromiseRejectedResult).reason;
        assert.ok(reason instanceof StageUnavailableError && reason.message === 'the batch of 2 was not run: its onBatch hook failed: metrics broke', String(reason));
      }
      assert.deepEqual(await Promise.all([batcher.submit(3), batcher.submit(4)]), [3, 4], 'the next batch runs');
    }
  });

  it('runs one batch at a time: the next collects, and starts only once the one running has ended', async () => {
    const timers = manualTimers();
    const started: number[][] = [];
    let finishFirst!: () => void;
    const firstHeld = new Promise<void>((resolve) => (finishFirst = resolve));
    const batcher = new MicroBatcher<number, number>({
      maxBatch: 2,
      maxWaitMs: 50,
      schedule: timers.schedule,
      run: async (items) => {
        started.push(items);
        if (started.length === 1) await firstHeld;
        return items;
      },
    });
    const results = Promise.all([1, 2, 3, 4].map((n) => batcher.submit(n)));
    await settle();
    assert.deepEqual(started, [[1, 2]], 'the second batch waits for the first');
    finishFirst();
    assert.deepEqual(await results, [1, 2, 3, 4]);
    assert.deepEqual(started, [[1, 2], [3, 4]]);
  });

  it('rejects the callers of a batch whose run gives more or fewer results than items, naming both counts', async () => {
    const batcher = new MicroBatcher<number, number>({ maxBatch: 2, maxWaitMs: 50, schedule: manualTimers().schedule, run: async (items) => items.slice(1) });
    for (const result of [batcher.submit(1), batcher.submit(2)]) await assert.rejects(result, (error) => error instanceof BatchError && error.message === 'the batch of 2 failed: 1 results for 2 items');
  });

  it('refuses a maxBatch that is not a whole number of at least 1', () => {
    assert.throws(() => new MicroBatcher({ maxBatch: 0, maxWaitMs: 1, run: async (items: number[]) => items }), /maxBatch must be a whole number of at least 1, not 0/);
  });
});
