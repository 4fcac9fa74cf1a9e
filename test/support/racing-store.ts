import type { ObjectStore } from '../../store/object-store.js';

/**
 * `inner`, except that once `arm` is called, the next read of promoted.json runs `compete` on
 * `inner` after reading it and before handing back what it read: a write that lands between
 * the reader's read and its write.
 */
export function racingStore(inner: ObjectStore): { store: ObjectStore; arm: (compete: () => Promise<unknown>) => void; raced: () => boolean } {
  let competing: (() => Promise<unknown>) | undefined;
  let raced = false;
  const store: ObjectStore = {
    url: inner.url,
    list: (prefix, options) => inner.list(prefix, options),
    head: (key, options) => inner.head(key, options),
    async get(key, options) {
      const read = inner.get(key, options).then((bytes) => ({ bytes }), (error: unknown) => ({ error }));
      if (key === 'promoted.json' && competing) {
        const compete = competing;
        competing = undefined;
        await read;
        await compete();
        raced = true;
      }
      const result = await read;
      if ('error' in result) throw result.error;
      return result.bytes;
    },
    put: (key, body, options) => inner.put(key, body, options),
    delete: (key, options) => inner.delete(key, options),
  };
  return { store, arm: (compete) => void (competing = compete), raced: () => raced };
}
