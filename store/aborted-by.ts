import type { GetOptions, ListOptions, ObjectStore, PutOptions, RequestOptions } from './object-store.js';

/**
 * The same store, each of its requests also aborted by `signal`: for work that must end as soon
 * as its owner stops, whatever request it is waiting in (the promotion follower's reads of a model
 * store that no longer answers would otherwise hold a consumer's shutdown for the S3 client's
 * timeouts, minutes).
 */
export function abortedBy(store: ObjectStore, signal: AbortSignal): ObjectStore {
  const withSignal = <T extends RequestOptions>(options: T = {} as T): T => ({ ...options, signal: options.signal ? AbortSignal.any([options.signal, signal]) : signal });
  return {
    url: store.url,
    list: (prefix: string, options?: ListOptions) => store.list(prefix, withSignal(options)),
    head: (key: string, options?: RequestOptions) => store.head(key, withSignal(options)),
    get: (key: string, options?: GetOptions) => store.get(key, withSignal(options)),
    put: (key: string, body: Uint8Array, options?: PutOptions) => store.put(key, body, withSignal(options)),
    delete: (key: string, options?: RequestOptions) => store.delete(key, withSignal(options)),
  };
}
