import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { StoreError } from '../../store/errors.js';
import { FallbackStore } from '../../store/fallback.js';
import { FolderStore } from '../../store/folder.js';
import { RetryingStore, Semaphore } from '../../store/retrying.js';
import { S3Store } from '../../store/s3.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { S3Server, testCredentials } from '../../infra/s3-server.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BUCKET = 'retries';
const body = new Uint8Array(100_000).map((_, i) => i % 251);
let server: S3Server;
let proxy: FaultProxy;
const waits: number[] = [];
/** The store as the pipeline uses it, reached through the fault proxy; retries wait no time. */
let store: RetryingStore;

before(async () => {
  server = await S3Server.start();
  await (await server.store(BUCKET)).put('object', body);
  proxy = await FaultProxy.start(server.endpoint);
  store = new RetryingStore(new S3Store({ bucket: BUCKET, endpoint: proxy.endpoint, forcePathStyle: true, credentials: testCredentials }), {
    policy: { attempts: 4, baseDelayMs: 100, maxDelayMs: 1000 },
    sleep: async (ms) => void waits.push(ms),
    random: () => 1,
  });
});
after(async () => {
  await proxy.stop();
  await server.stop();
});
beforeEach(() => {
  proxy.reset();
  waits.length = 0;
});

describe('retries against a real S3 server behind a fault-injecting proxy', () => {
  it('retries a 500 Internal Error and returns the object', async () => {
    proxy.inject({ kind: 'status', status: 500, code: 'InternalError' }, { kind: 'status', status: 500, code: 'InternalError' });
    assert.deepEqual(await store.get('object'), body);
    assert.deepEqual(proxy.requests.map((seen) => seen.status), [500, 500, 200]);
  });

  it('retries 503 SlowDown (throttling) with exponentially growing waits', async () => {
    proxy.inject(...Array.from({ length: 3 }, () => ({ kind: 'status', status: 503, code: 'SlowDown' }) as const));
    assert.deepEqual(await store.get('object', { range: { start: 10, end: 19 } }), body.subarray(10, 20));
    assert.deepEqual(waits, [100, 200, 400]);
  });

  it('retries a dropped connection', async () => {
    proxy.inject({ kind: 'reset' });
    assert.equal((await store.head('object'))?.size, body.length);
    assert.equal(proxy.requests.length, 2);
  });

  it('retries a request that timed out waiting for an answer', async () => {
    const impatient = new RetryingStore(new S3Store({ bucket: BUCKET, endpoint: proxy.endpoint, forcePathStyle: true, credentials: testCredentials, requestTimeoutMs: 300 }), { sleep: async () => {} });
    proxy.inject({ kind: 'stall' });
    assert.deepEqual(await impatient.get('object'), body);
    assert.deepEqual(proxy.requests.map((seen) => seen.fault), ['stall', undefined]);
  });

  it('retries a download whose connection drops part way through the body', async () => {
    proxy.inject({ kind: 'cut', afterBytes: 30_000, then: 'reset' });
    assert.deepEqual(await store.get('object'), body);
    assert.deepEqual(proxy.requests.map((seen) => [seen.fault, seen.responseBytes]), [['cut', 30_000], [undefined, body.length]]);
  });

  it('retries, as a timeout, a download whose body stops coming part way through', { timeout: 20_000 }, async () => {
    const impatient = new RetryingStore(new S3Store({ bucket: BUCKET, endpoint: proxy.endpoint, forcePathStyle: true, credentials: testCredentials, requestTimeoutMs: 300 }), { sleep: async () => {} });
    proxy.inject({ kind: 'cut', afterBytes: 30_000, then: 'stall' });
    assert.deepEqual(await impatient.get('object'), body);
    assert.deepEqual(proxy.requests.map((seen) => seen.fault), ['cut', undefined]);
  });

  it('refuses a ranged answer that holds other bytes than those asked for, naming both', async () => {
    proxy.inject({ kind: 'range', range: undefined });
    await assert.rejects(store.get('object', { range: { start: 10, end: 19 } }), (error: unknown) => error instanceof StoreError && error.kind === 'invalid' && /retries\/object: asked for bytes 10-19, the server sent the whole object \(100000 bytes\)/.test(error.message));
    proxy.inject({ kind: 'range', range: 'bytes=10-14' });
    await assert.rejects(store.get('object', { range: { start: 10, end: 19 } }), (error: unknown) => error instanceof StoreError && error.kind === 'truncated' && /asked for bytes 10-19, the server sent bytes 10-14\/100000/.test(error.message));
    proxy.inject({ kind: 'range', range: 'bytes=20-29' });
    await assert.rejects(store.get('object', { range: { start: 10, end: 19 } }), (error: unknown) => error instanceof StoreError && error.kind === 'invalid' && /sent bytes 20-29\/100000/.test(error.message));
  });

  it('reads a range that runs past the end up to the end, and the whole object when a range from 0 is answered with all of it', async () => {
    assert.deepEqual(await store.get('object', { range: { start: 99_990, end: 200_000 } }), body.subarray(99_990));
    proxy.inject({ kind: 'range', range: undefined });
    assert.deepEqual(await store.get('object', { range: { start: 0, end: 200_000 } }), body);
    await assert.rejects(store.get('object', { range: { start: 100_000 } }), (error: unknown) => error instanceof StoreError && error.kind === 'invalid' && !error.retriable);
  });

  it('gives up after the last try with an error naming the object and the cause', async () => {
    proxy.inject(...Array.from({ length: 4 }, () => ({ kind: 'status', status: 500, code: 'InternalError' }) as const));
    await assert.rejects(store.get('object'), (error: unknown) => error instanceof StoreError && error.kind === 'server' && /s3:\/\/retries\/object: HTTP 500/.test(error.message));
    assert.equal(proxy.requests.length, 4);
  });

  it('does not retry what another try cannot fix: 403 Access Denied', async () => {
    proxy.inject({ kind: 'status', status: 403, code: 'AccessDenied' });
    await assert.rejects(store.get('object'), (error: unknown) => error instanceof StoreError && error.kind === 'denied');
    assert.equal(proxy.requests.length, 1);
  });

  it('resumes a listing after the last key it handed out when a page fails', async () => {
    const paged = new RetryingStore(new S3Store({ bucket: 'paged', endpoint: proxy.endpoint, forcePathStyle: true, credentials: testCredentials, pageSize: 2 }), { sleep: async () => {} });
    await server.createBucket('paged');
    const expected = ['a', 'b', 'c', 'd', 'e'];
    for (const key of expected) await paged.put(key, body.subarray(0, 1));
    proxy.reset();
    proxy.inject({ kind: 'status', status: 500, code: 'InternalError', when: (seen) => seen.path.includes('continuation-token') });
    const listed = [];
    for await (const info of paged.list('')) listed.push(info.key);
    assert.deepEqual(listed, expected);
  });

  it('keeps at most maxInFlight requests in flight', async () => {
    const limited = new RetryingStore(new S3Store({ bucket: BUCKET, endpoint: proxy.endpoint, forcePathStyle: true, credentials: testCredentials }), { policy: { maxInFlight: 3 } });
    await Promise.all(Array.from({ length: 12 }, () => limited.get('object')));
    assert.equal(proxy.requests.length, 12);
    assert.equal(proxy.maxInFlight, 3);
  });
});

describe('Semaphore', () => {
  it('hands places out in order and never more than it has', async () => {
    const semaphore = new Semaphore(2);
    const order: number[] = [];
    const first = await semaphore.acquire();
    const second = await semaphore.acquire();
    const third = semaphore.acquire().then((release) => (order.push(3), release));
    const fourth = semaphore.acquire().then((release) => (order.push(4), release));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(order, []);
    first();
    first(); // a second release of the same place gives nothing back
    (await third)();
    second();
    (await fourth)();
    assert.deepEqual(order, [3, 4]);
  });
});

describe('FallbackStore (sources in priority order)', () => {
  it('reads from the next store when the first lacks the object or fails, and lists the union', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'hrrr-embed-fallback-'));
    try {
      const first = new FolderStore(folder);
      await first.put('only-first', new Uint8Array([1]));
      await first.put('object', new Uint8Array([9]));
      const s3 = new S3Store({ bucket: BUCKET, endpoint: proxy.endpoint, forcePathStyle: true, credentials: testCredentials });
      const both = new FallbackStore([s3, first]);
      assert.deepEqual(await both.get('only-first'), new Uint8Array([1]));
      assert.deepEqual(await both.get('object'), body, 'the first store wins when both have it');
      proxy.inject({ kind: 'status', status: 500, code: 'InternalError' });
      assert.deepEqual(await both.get('object'), new Uint8Array([9]), 'a failing first store falls back to the next');
      const listed = [];
      for await (const info of both.list('')) listed.push(info.key);
      assert.deepEqual(listed, ['object', 'only-first']);
      await assert.rejects(both.get('in-neither'), /no such object/);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
