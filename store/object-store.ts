/**
 * The one interface every object store implements: S3 (or any S3-compatible server), a local
 * folder laid out like the bucket, or several of them tried in priority order. Analyses are
 * read through it, and shards and models are written through it.
 */
export interface ObjectStore {
  /** Where the store is, as a URL: "s3://noaa-hrrr-bdp-pds", "file:///data/hrrr". */
  readonly url: string;
  /** Objects under a prefix, in key order, after `startAfter` when given; pages are fetched as read. */
  list(prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo>;
  /** The object's size and date, or undefined when there is no such object. */
  head(key: string, options?: RequestOptions): Promise<ObjectInfo | undefined>;
  /** The object's bytes, or only those of an inclusive byte range. Missing object: ObjectNotFoundError. */
  get(key: string, options?: GetOptions): Promise<Uint8Array>;
  /** Writes the whole object at once: readers see the old object or the new one, never a part. */
  put(key: string, body: Uint8Array, options?: PutOptions): Promise<void>;
  /** Removes the object; removing a missing object is not an error. */
  delete(key: string, options?: RequestOptions): Promise<void>;
}

export interface ObjectInfo {
  key: string;
  size: number;
  lastModified: Date;
}

/** Inclusive byte offsets, as in an HTTP Range header; no `end` reads to the end of the object. */
export interface ByteRange {
  start: number;
  end?: number;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

export interface ListOptions extends RequestOptions {
  startAfter?: string;
}

export interface GetOptions extends RequestOptions {
  range?: ByteRange;
}

export interface PutOptions extends RequestOptions {
  contentType?: string;
  /** Write only if no object has this key; otherwise reject with ObjectExistsError (what a lease is made of). */
  ifAbsent?: boolean;
  /**
   * Write only if the object still holds exactly these bytes, as a get returned them: a
   * compare-and-swap, for a read-modify-write that another writer may race. Otherwise (written or
   * deleted since) reject with ObjectChangedError. Not with `ifAbsent`.
   */
  ifHolds?: Uint8Array;
}
