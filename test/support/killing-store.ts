import type { GetOptions, ListOptions, ObjectInfo, ObjectStore, PutOptions, RequestOptions } from '../../store/object-store.js';

/**
 * A store that prints each write it makes ({"op": "put", "key": ...}) once the inner store has it,
 * and SIGKILLs its own process right after the first write that `killAfter` matches ("put KEY" or
 * "delete KEY"): a crash at a chosen point of a multi-step write, with nothing run after it (no
 * finally, no exit handler).
 */
export function killingStore(inner: ObjectStore, killAfter: RegExp | undefined, print: (line: object) => void): ObjectStore {
  const written = (op: 'put' | 'delete', key: string) => {
    print({ op, key });
    if (killAfter?.test(`${op} ${key}`)) process.kill(process.pid, 'SIGKILL');
  };
  return {
    url: inner.url,
    list: (prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo> => inner.list(prefix, options),
    head: (key: string, options?: RequestOptions) => inner.head(key, options),
    get: (key: string, options?: GetOptions) => inner.get(key, options),
    async put(key: string, body: Uint8Array, options?: PutOptions) {
      await inner.put(key, body, options);
      written('put', key);
    },
    async delete(key: string, options?: RequestOptions) {
      await inner.delete(key, options);
      written('delete', key);
    },
  };
}
