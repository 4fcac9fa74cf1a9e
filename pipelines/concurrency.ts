/**
 * Runs `work` on each item of `items` with at most `limit` at once, taking the next item only
 * when a place is free (so a source is never read further ahead than the work). Resolves when
 * every item is done; the first failure of `work` stops taking items and is thrown once the
 * running ones have finished.
 */
export async function forEachConcurrently<T>(items: AsyncIterable<T>, limit: number, work: (item: T) => Promise<void>): Promise<void> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency must be a whole number of at least 1, not ${limit}`);
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  for await (const item of items) {
    const task = work(item).then(
      () => void running.delete(task),
      (error) => {
        running.delete(task);
        failure ??= { error };
      },
    );
    running.add(task);
    if (running.size >= limit) await Promise.race(running);
    if (failure) break;
  }
  await Promise.all(running);
  if (failure) throw failure.error;
}
