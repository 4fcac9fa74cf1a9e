import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forEachConcurrently } from '../../pipelines/concurrency.js';

/** Yields the items given, then waits for more until the signal aborts (as a live discovery does). */
async function* thenWaits<T>(items: T[], signal: AbortSignal): AsyncIterable<T> {
  yield* items;
  await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
}

describe('forEachConcurrently', () => {
  it('runs at most `limit` items at once, and each item once', async () => {
    let inFlight = 0;
    let most = 0;
    const seen: number[] = [];
    await forEachConcurrently(
      (async function* () {
        for (let n = 0; n < 10; n++) yield n;
      })(),
      3,
      async (n) => {
        most = Math.max(most, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        seen.push(n);
        inFlight--;
      },
    );
    assert.equal(most, 3);
    assert.deepEqual(seen.sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('a failure ends it while the source is waiting for its next item: the error is not held until another item comes', async () => {
    const source = new AbortController();
    const started: string[] = [];
    const run = forEachConcurrently(thenWaits(['fails'], source.signal), 4, async (item) => {
      started.push(item);
      throw new Error(`${item}: the bus is down`);
    });
    // The source would wait for ever; aborted only once the test is over, so that it ends.
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([run.then(() => 'resolved', (error: Error) => error.message), new Promise((resolve) => (timer = setTimeout(resolve, 5_000, 'still waiting for the next item')))]);
    clearTimeout(timer);
    source.abort();
    await run.catch(() => {});
    assert.equal(outcome, 'fails: the bus is down');
    assert.deepEqual(started, ['fails']);
  });

  it('a failure lets the items in flight finish and takes no new one', async () => {
    const finished: number[] = [];
    const started: number[] = [];
    await assert.rejects(
      forEachConcurrently(
        (async function* () {
          for (let n = 0; n < 10; n++) yield n;
        })(),
        2,
        async (n) => {
          started.push(n);
          if (n === 0) throw new Error('first fails');
          await new Promise((resolve) => setTimeout(resolve, 20));
          finished.push(n);
        },
      ),
      /first fails/,
    );
    assert.deepEqual(finished, started.filter((n) => n !== 0), 'every item started was finished');
    assert.ok(started.length <= 3, `no new item after the failure: ${started}`);
  });
});
