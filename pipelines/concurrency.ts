/**
 * Runs `work` on each item of `items` with at most `limit` at once, taking the next item only
 * when a place is free (so a source is never read further ahead than the work). Resolves when
 * every item is done; the first failure of `work` stops taking items and is thrown once the
 * running ones have finished, without waiting for a next item that the source has not given yet.
 */
export async function forEachConcurrently<T>(items: AsyncIterable<T>, limit: number, work: (item: T) => Promise<void>): Promise<void> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency must be a whole number of at least 1, not ${limit}`);
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let failed!: () => void;
  const failing = new Promise<'failed'>((resolve) => (failed = () => resolve('failed')));
  const iterator = items[Symbol.asyncIterator]();
  for (;;) {
    // A live source may wait an hour for its next item: a failure meanwhile must not wait with it.
    const next = iterator.next();
    const taken = await Promise.race([next, failing]);
    if (taken === 'failed') {
      next.catch(() => {});
      break;
    }
    if (taken.done) break;
    const task = work(taken.value).then(
      () => void running.delete(task),
      (error) => {
        running.delete(task);
        failure ??= { error };
        failed();
      },
    );
    running.add(task);
    if (running.size >= limit) await Promise.race(running);
    if (failure) break;
  }
  // Not awaited: a source still waiting for its next item ends when that wait does.
  if (failure) iterator.return?.().catch(() => {});
  await Promise.all(running);
  if (failure) throw failure.error;
}
