/**
 * What went wrong talking to an object store, sorted by what the caller should do about it:
 * retry (throttled, server, network, timeout) or give up (not-found, exists, changed, denied, invalid, truncated).
 */
export type StoreErrorKind = 'not-found' | 'exists' | 'changed' | 'denied' | 'invalid' | 'truncated' | 'throttled' | 'server' | 'network' | 'timeout';

const retriableKinds: ReadonlySet<StoreErrorKind> = new Set(['throttled', 'server', 'network', 'timeout']);

export class StoreError extends Error {
  override readonly name: string = 'StoreError';
  constructor(
    readonly kind: StoreErrorKind,
    /** The store's URL and key, e.g. "s3://noaa-hrrr-bdp-pds/hrrr.20190920/conus/hrrr.t05z.wrfsfcf00.grib2". */
    readonly location: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${location}: ${message}`, options);
  }

  get retriable(): boolean {
    return retriableKinds.has(this.kind);
  }
}

export class ObjectNotFoundError extends StoreError {
  override readonly name = 'ObjectNotFoundError';
  /** `missing`: what is not there, when it is not the object (a bucket). */
  constructor(location: string, options?: { cause?: unknown; missing?: string }) {
    super('not-found', location, options?.missing ?? 'no such object', options);
  }
}

/** A write with `ifAbsent` found the key taken. */
export class ObjectExistsError extends StoreError {
  override readonly name = 'ObjectExistsError';
  constructor(location: string, options?: { cause?: unknown }) {
    super('exists', location, 'an object has this key already', options);
  }
}

/** A write with `ifHolds` found the object changed, or gone, since the bytes it was given were read. */
export class ObjectChangedError extends StoreError {
  override readonly name = 'ObjectChangedError';
  constructor(location: string, options?: { cause?: unknown }) {
    super('changed', location, 'the object is no longer what was read (written or deleted since)', options);
  }
}

/** True for errors worth another try. */
export function isRetriable(error: unknown): boolean {
  return error instanceof StoreError && error.retriable;
}

/**
 * True for failures of the store rather than of the object: those worth another try, and a
 * refusal (credentials, a bucket policy), which says nothing of the object either. A pipeline
 * never makes a dead letter of one.
 */
export function isStoreFault(error: unknown): boolean {
  return error instanceof StoreError && (error.retriable || error.kind === 'denied');
}
