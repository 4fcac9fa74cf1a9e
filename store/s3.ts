import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ObjectChangedError, ObjectExistsError, ObjectNotFoundError, StoreError, type StoreErrorKind } from './errors.js';
import { proxyAgentsFor, type ProxyAgents } from './proxy.js';
import type { ByteRange, GetOptions, ListOptions, ObjectInfo, ObjectStore, PutOptions, RequestOptions } from './object-store.js';

export interface S3StoreConfig {
  bucket: string;
  /** Default us-east-1, where NOAA's HRRR bucket is. */
  region?: string;
  /** An S3-compatible server, e.g. "http://127.0.0.1:9000"; default AWS. */
  endpoint?: string;
  /** Bucket in the path rather than the host name: what most S3-compatible servers want. */
  forcePathStyle?: boolean;
  /** Anonymous (unsigned) requests, as NOAA's public bucket allows; otherwise the SDK's credential chain. */
  anonymous?: boolean;
  /** Why requests go unsigned, said when one is refused; default: no credentials were found, and how to sign. */
  unsignedBecause?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Milliseconds to connect, and without a byte of response (headers or, part way through, body), before a request fails as a timeout. */
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Keys per listing request (at most 1000, S3's default). */
  pageSize?: number;
  /** The environment that names a proxy (https_proxy, no_proxy...: see proxy.ts); default process.env. */
  env?: NodeJS.ProcessEnv;
}

/**
 * S3 or any S3-compatible store through @aws-sdk/client-s3. The SDK's own retries are off:
 * `RetryingStore` retries every store the same way, and errors come out as StoreErrors.
 */
export class S3Store implements ObjectStore {
  readonly url: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly pageSize: number | undefined;
  private readonly anonymous: boolean;
  private readonly unsignedBecause: string;
  private readonly proxy: ProxyAgents | undefined;

  constructor(config: S3StoreConfig) {
    this.bucket = config.bucket;
    this.pageSize = config.pageSize;
    this.anonymous = config.anonymous ?? false;
    this.unsignedBecause = config.unsignedBecause ?? `no AWS credentials found (${UNSIGNED_HINT})`;
    this.url = `s3://${config.bucket}`;
    const region = config.region ?? 'us-east-1';
    this.proxy = proxyAgentsFor(config.endpoint ?? `https://${config.bucket}.s3.${region}.amazonaws.com`, config.env);
    this.client = new S3Client({
      region,
      maxAttempts: 1,
      requestHandler: {
        ...(this.proxy && { httpAgent: this.proxy.httpAgent, httpsAgent: this.proxy.httpsAgent }),
        connectionTimeout: config.connectTimeoutMs ?? 10_000,
        requestTimeout: config.requestTimeoutMs ?? 60_000,
        throwOnRequestTimeout: true,
        // requestTimeout ends once the headers are in; a body that stops coming needs the socket's own timeout.
        socketTimeout: config.requestTimeoutMs ?? 60_000,
      },
      ...(config.endpoint !== undefined && { endpoint: config.endpoint }),
      ...(config.forcePathStyle !== undefined && { forcePathStyle: config.forcePathStyle }),
      ...(config.credentials !== undefined && { credentials: config.credentials }),
      // Unsigned requests: the signer hands the request on as it is. The SDK still resolves
      // credentials before signing, and fails where none are configured: it is given empty ones.
      ...(config.anonymous && { signer: { sign: async (request) => request }, credentials: { accessKeyId: '', secretAccessKey: '' } }),
    });
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    let continuationToken: string | undefined;
    do {
      const page = await this.send(prefix, () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            ...(this.pageSize !== undefined && { MaxKeys: this.pageSize }),
            ...(continuationToken !== undefined ? { ContinuationToken: continuationToken } : options.startAfter !== undefined && { StartAfter: options.startAfter }),
          }),
          withSignal(options),
        ),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue;
        yield { key: object.Key, size: object.Size ?? 0, lastModified: object.LastModified ?? new Date(0) };
      }
      if (page.IsTruncated && !page.NextContinuationToken) throw new StoreError('invalid', this.location(prefix), 'the listing says there is more but gives no continuation token');
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken !== undefined);
  }

  async head(key: string, options: RequestOptions = {}): Promise<ObjectInfo | undefined> {
    try {
      const head = await this.send(key, () => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }), withSignal(options)));
      return { key, size: head.ContentLength ?? 0, lastModified: head.LastModified ?? new Date(0) };
    } catch (error) {
      if (error instanceof ObjectNotFoundError) return undefined;
      throw error;
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<Uint8Array> {
    const range = options.range && `bytes=${options.range.start}-${options.range.end ?? ''}`;
    return this.send(key, async () => {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, ...(range && { Range: range }) }), withSignal(options));
      if (!response.Body) throw new StoreError('invalid', this.location(key), 'response has no body');
      const bytes = await response.Body.transformToByteArray();
      // Sent without a Content-Length (chunked), an answer says its length by its Content-Range.
      const expected = response.ContentLength ?? lengthOfContentRange(response.ContentRange);
      if (expected !== undefined && bytes.length !== expected) {
        // The connection ended early: the object may be whole, this download is not.
        throw new StoreError('network', this.location(key), `download ended after ${bytes.length} of ${expected} bytes`);
      }
      const wrong = options.range && wrongRange(options.range, response.ContentRange, bytes.length);
      if (wrong) throw new StoreError(wrong.kind, this.location(key), wrong.message);
      return bytes;
    });
  }

  async put(key: string, body: Uint8Array, options: PutOptions = {}): Promise<void> {
    const precondition = options.ifHolds ? { IfMatch: await this.etagHolding(key, options.ifHolds, options) } : options.ifAbsent ? { IfNoneMatch: '*' } : {};
    try {
      await this.send(key, () =>
        this.client.send(
          new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ...(options.contentType !== undefined && { ContentType: options.contentType }), ...precondition }),
          withSignal(options),
        ),
      );
    } catch (error) {
      // Deleted (404) or written (412) since the ETag was read, or another conditional write of it under way (409).
      if (options.ifHolds && (error instanceof ObjectNotFoundError || error instanceof ObjectExistsError)) throw new ObjectChangedError(this.location(key), { cause: error });
      throw error;
    }
  }

  /** The object's ETag, which If-Match then requires of a write, once its bytes are found to be `expected`. */
  private async etagHolding(key: string, expected: Uint8Array, options: RequestOptions): Promise<string> {
    const held = await this.send(key, async () => {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), withSignal(options));
      return { bytes: (await response.Body?.transformToByteArray()) ?? new Uint8Array(), etag: response.ETag };
    }).catch((error: unknown) => {
      throw error instanceof ObjectNotFoundError ? new ObjectChangedError(this.location(key), { cause: error }) : error;
    });
    if (Buffer.compare(held.bytes, expected) !== 0) throw new ObjectChangedError(this.location(key));
    if (held.etag === undefined) throw new StoreError('invalid', this.location(key), 'the server sent no ETag, which a conditional write needs');
    return held.etag;
  }

  async delete(key: string, options: RequestOptions = {}): Promise<void> {
    await this.send(key, () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }), withSignal(options)));
  }

  /** Releases the client's sockets. */
  destroy(): void {
    this.client.destroy();
  }

  private location(key: string): string {
    return `${this.url}/${key}`;
  }

  private async send<T>(key: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      if (error instanceof StoreError || (error as SdkError).name === 'AbortError') throw error;
      const refused = this.proxy && /^Bad response: (\d+)$/.exec((error as Error).message ?? '');
      if (refused) {
        // hpagent's words when the proxy answers CONNECT with other than 200.
        const status = Number(refused[1]);
        const kind = status === 407 || status === 403 ? 'denied' : status >= 500 ? 'server' : 'invalid';
        throw new StoreError(kind, this.location(key), `the proxy ${this.proxy.shown} refused the connection: HTTP ${status}${status === 407 ? ' (it wants credentials: write them into the proxy variable, http://USER:PASSWORD@HOST:PORT)' : ''}`, { cause: error });
      }
      const kind = classify(error);
      // The bucket, not an object in it: say so, or a mistyped bucket reads as a missing analysis.
      const missing = (error as SdkError).name === 'NoSuchBucket' ? `no such bucket "${this.bucket}" (NoSuchBucket)` : undefined;
      if (kind === 'not-found') throw new ObjectNotFoundError(this.location(key), { cause: error, ...(missing && { missing }) });
      if (kind === 'exists') throw new ObjectExistsError(this.location(key), { cause: error });
      const unsigned = kind === 'denied' && this.anonymous ? `; sent unsigned: ${this.unsignedBecause}` : '';
      throw new StoreError(kind, this.location(key), `${describe(error)}${unsigned}`, { cause: error });
    }
  }
}

/**
 * What is wrong with the answer to a ranged get, if anything: it must hold the bytes from
 * `start` up to `end` or the object's end. A server or cache may ignore the Range header and send
 * the whole object, or send less than asked.
 */
function wrongRange(range: ByteRange, contentRange: string | undefined, received: number): { kind: StoreErrorKind; message: string } | undefined {
  const asked = `asked for bytes ${range.start}-${range.end ?? ''}`;
  if (contentRange === undefined) {
    // The whole object, which is what was asked only for a range from 0 that reaches its end.
    if (range.start === 0 && (range.end === undefined || range.end >= received - 1)) return undefined;
    return { kind: 'invalid', message: `${asked}, the server sent the whole object (${received} bytes)` };
  }
  const sent = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(contentRange);
  if (!sent) return { kind: 'invalid', message: `${asked}, the server's Content-Range is ${JSON.stringify(contentRange)}` };
  const [first, last] = [Number(sent[1]), Number(sent[2])];
  const lastWanted = Math.min(range.end ?? Infinity, sent[3] === '*' ? last : Number(sent[3]) - 1);
  if (first !== range.start || last > lastWanted) return { kind: 'invalid', message: `${asked}, the server sent ${contentRange}` };
  if (last < lastWanted) return { kind: 'truncated', message: `${asked}, the server sent ${contentRange}` };
  return undefined;
}

/** The bytes a Content-Range such as "bytes 0-99/1000" says the answer holds; undefined when it says nothing readable. */
function lengthOfContentRange(contentRange: string | undefined): number | undefined {
  const sent = contentRange && /^bytes (\d+)-(\d+)\//.exec(contentRange);
  return sent ? Number(sent[2]) - Number(sent[1]) + 1 : undefined;
}

function withSignal(options: RequestOptions): { abortSignal?: AbortSignal } {
  return options.signal ? { abortSignal: options.signal } : {};
}

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

const UNSIGNED_HINT = 'AWS_ACCESS_KEY_ID, AWS_PROFILE, ~/.aws/credentials, a web identity or container credentials); for an EC2 instance role or a default profile in ~/.aws/config alone, set HRRR_EMBED_S3_SIGNED=true';

/** Credentials the store does not take, some answered with HTTP 400: another try cannot fix them, and the object is not at fault. */
const deniedNames = new Set(['AccessDenied', 'ExpiredToken', 'InvalidToken', 'TokenRefreshRequired', 'AuthorizationHeaderMalformed', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'CredentialsProviderError']);

const networkCodes = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_STREAM_PREMATURE_CLOSE']);

/** Sorts an SDK or socket error by what the caller should do about it. */
export function classify(error: unknown): StoreErrorKind {
  const { name = '', code = '', message = '', $metadata } = (error ?? {}) as SdkError;
  const status = $metadata?.httpStatusCode;
  if (name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchBucket' || status === 404) return 'not-found';
  if (name === 'PreconditionFailed' || name === 'ConditionalRequestConflict' || status === 412) return 'exists';
  if (status === 403 || status === 401 || deniedNames.has(name)) return 'denied';
  if (name === 'SlowDown' || name === 'Throttling' || name === 'ThrottlingException' || status === 429 || status === 503) return 'throttled';
  if (name === 'TimeoutError' || name === 'RequestTimeout' || code === 'ETIMEDOUT' || /timed? ?out/i.test(message)) return 'timeout';
  if (status !== undefined && status >= 500) return 'server';
  if (networkCodes.has(code) || /socket hang up|ECONNRESET|premature close/i.test(message)) return 'network';
  return status === undefined ? 'network' : 'invalid';
}

function describe(error: unknown): string {
  const { name, message, $metadata } = (error ?? {}) as SdkError;
  const status = $metadata?.httpStatusCode;
  return [status !== undefined && `HTTP ${status}`, name, message].filter(Boolean).join(': ');
}
