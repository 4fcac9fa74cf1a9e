import type { StageLogger } from '../stages/stage.js';
import { ObjectNotFoundError, StoreError } from './errors.js';
import type { GetOptions, ListOptions, ObjectInfo, ObjectStore, PutOptions, RequestOptions } from './object-store.js';

/**
 * Several stores in priority order, read as one (as Herbie reads NOAA's archives): a read goes to
 * the first store, and to the next when the first lacks the object or fails. A listing is the
 * union of all stores' listings. Writes go to the first store alone.
 */
export class FallbackStore implements ObjectStore {
  readonly url: string;

  constructor(
    private readonly stores: readonly ObjectStore[],
    private readonly log?: StageLogger,
  ) {
    if (stores.length === 0) throw new RangeError('a fallback store needs at least one store');
    this.url = stores.map((store) => store.url).join(',');
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    const listings: { store: ObjectStore; iterator: AsyncIterator<ObjectInfo>; next?: ObjectInfo }[] = [];
    const failures: unknown[] = [];
    for (const store of this.stores) {
      const iterator = store.list(prefix, options)[Symbol.asyncIterator]();
      const listing = { store, iterator };
      if (await this.advance(listing, failures)) listings.push(listing);
    }
    if (listings.length === 0 && failures.length === this.stores.length) throw failures.at(-1);
    // Merge the sorted listings; on equal keys the store earlier in the list wins.
    while (listings.length > 0) {
      const smallest = listings.reduce((best, listing) => (listing.next!.key < best.next!.key ? listing : best));
      const key = smallest.next!.key;
      yield smallest.next!;
      for (const listing of [...listings]) {
        if (listing.next!.key === key && !(await this.advance(listing, failures))) listings.splice(listings.indexOf(listing), 1);
      }
    }
  }

  head(key: string, options?: RequestOptions): Promise<ObjectInfo | undefined> {
    return this.firstThatHas(key, async (store) => (await store.head(key, options)) ?? missing);
  }

  get(key: string, options?: GetOptions): Promise<Uint8Array> {
    return this.firstThatHas(key, async (store) => {
      try {
        return await store.get(key, options);
      } catch (error) {
        if (error instanceof ObjectNotFoundError) return missing;
        throw error;
      }
    }).then((bytes) => bytes ?? Promise.reject(new ObjectNotFoundError(`${this.url}/${key}`)));
  }

  put(key: string, body: Uint8Array, options?: PutOptions): Promise<void> {
    return this.stores[0]!.put(key, body, options);
  }

  delete(key: string, options?: RequestOptions): Promise<void> {
    return this.stores[0]!.delete(key, options);
  }

  /** The first store's answer that is not `missing`; undefined when every store lacks the object. */
  private async firstThatHas<T>(key: string, read: (store: ObjectStore) => Promise<T | typeof missing>): Promise<T | undefined> {
    let lastFailure: unknown;
    for (const store of this.stores) {
      try {
        const result = await read(store);
        if (result !== missing) return result;
      } catch (error) {
        if (!(error instanceof StoreError)) throw error;
        lastFailure = error;
        this.log?.warn({ store: store.url, key, err: error.message }, 'store failed, trying the next');
      }
    }
    if (lastFailure !== undefined) throw lastFailure;
    return undefined;
  }

  private async advance(listing: { store: ObjectStore; iterator: AsyncIterator<ObjectInfo>; next?: ObjectInfo }, failures: unknown[]): Promise<boolean> {
    try {
      const result = await listing.iterator.next();
      if (result.done) return false;
      listing.next = result.value;
      return true;
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      failures.push(error);
      this.log?.warn({ store: listing.store.url, err: error.message }, 'listing failed, using the other stores');
      return false;
    }
  }
}

const missing = Symbol('missing');
