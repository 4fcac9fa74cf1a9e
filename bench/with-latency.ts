import type { ObjectStore } from '../store/object-store.js';

/** The store, with a wait before every request: a stand-in for the round trip to a distant bucket, which loopback lacks. */
export function withLatency(store: ObjectStore, ms: number): ObjectStore {
  if (ms === 0) return store;
  const delay = () => new Promise((resolve) => setTimeout(resolve, ms));
  return {
    url: store.url,
    async *list(prefix, options) {
      await delay();
      yield* store.list(prefix, options);
    },
    head: async (key, options) => (await delay(), store.head(key, options)),
    get: async (key, options) => (await delay(), store.get(key, options)),
    put: async (key, body, options) => (await delay(), store.put(key, body, options)),
    delete: async (key, options) => (await delay(), store.delete(key, options)),
  };
}
