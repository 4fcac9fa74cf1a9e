import { PutBucketPolicyCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { getEventListeners } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ObjectChangedError, ObjectExistsError, ObjectNotFoundError, StoreError } from '../../store/errors.js';
import { FallbackStore } from '../../store/fallback.js';
import { FolderStore } from '../../store/folder.js';
import type { ObjectStore } from '../../store/object-store.js';
import { openStore } from '../../store/open.js';
import { classify, S3Store } from '../../store/s3.js';
import { storeKinds } from '../support/stores.js';
import { testCredentials } from '../../infra/s3-server.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

async function keys(store: ObjectStore, prefix: string, startAfter?: string): Promise<string[]> {
  const found = [];
  for await (const info of store.list(prefix, startAfter === undefined ? {} : { startAfter })) found.push(info.key);
  return found;
}

const setup = await storeKinds();
after(() => setup.stop());

for (const kind of setup.kinds) {
  describe(`object store contract: ${kind.name}`, () => {
    let store: ObjectStore;
    before(async () => {
      store = await kind.create();
      for (const key of ['hrrr.20190920/conus/hrrr.t05z.wrfsfcf00.grib2', 'hrrr.20190920/conus/hrrr.t05z.wrfsfcf00.grib2.idx', 'hrrr.20190920/conus/hrrr.t06z.wrfsfcf00.grib2', 'hrrr.20190921/conus/hrrr.t00z.wrfsfcf00.grib2', 'other/x']) {
        await store.put(key, bytes(`content of ${key}`));
      }
    });

    it('lists keys under a prefix in key order, and only after start-after when given', async () => {
      assert.deepEqual(await keys(store, 'hrrr.20190920/conus/hrrr.t05z'), ['hrrr.20190920/conus/hrrr.t05z.wrfsfcf00.grib2', 'hrrr.20190920/conus/hrrr.t05z.wrfsfcf00.grib2.idx']);
      assert.deepEqual(await keys(store, 'hrrr.2019092'), [
        'hrrr.20190920/conus/hrrr.t05z.wrfsfcf00.grib2',
        'hrrr.20190920/conus/hrrr.t05z.wrfsfcf00.grib2.idx',
        'hrrr.20190920/conus/hrrr.t06z.wrfsfcf00.grib2',
        'hrrr.20190921/conus/hrrr.t00z.wrfsfcf00.grib2',
      ]);
      assert.deepEqual(await keys(store, 'hrrr.', 'hrrr.20190920/conus/hrrr.t06z.wrfsfcf00.grib2'), ['hrrr.20190921/conus/hrrr.t00z.wrfsfcf00.grib2']);
      assert.deepEqual(await keys(store, 'nothing-here/'), []);
    });

    it('reports size and date with head, and undefined for a missing object', async () => {
      const info = await store.head('other/x');
      assert.equal(info?.size, 'content of other/x'.length);
      assert.ok(info!.lastModified.getTime() > Date.now() - 3_600_000);
      assert.equal(await store.head('other/missing'), undefined);
    });

    it('reads a whole object, an inclusive byte range, and a range open to the end', async () => {
      assert.equal(text(await store.get('other/x')), 'content of other/x');
      assert.equal(text(await store.get('other/x', { range: { start: 0, end: 6 } })), 'content');
      assert.equal(text(await store.get('other/x', { range: { start: 11 } })), 'other/x');
    });

    it('throws ObjectNotFoundError naming the store and key for a missing object', async () => {
      await assert.rejects(store.get('other/missing'), (error: unknown) => error instanceof ObjectNotFoundError && error.message.includes('other/missing') && error.message.startsWith(store.url));
    });

    it('overwrites with put and forgets with delete; deleting a missing object is no error', async () => {
      await store.put('scratch/a', bytes('one'));
      await store.put('scratch/a', bytes('two'));
      assert.equal(text(await store.get('scratch/a')), 'two');
      await store.delete('scratch/a');
      await store.delete('scratch/a');
      assert.equal(await store.head('scratch/a'), undefined);
    });

    it('with ifAbsent, writes a new key but refuses a taken one with ObjectExistsError, keeping the first content; of two at once exactly one wins', async () => {
      await store.put('lease/1', bytes('first'), { ifAbsent: true });
      await assert.rejects(store.put('lease/1', bytes('second'), { ifAbsent: true }), (error: unknown) => error instanceof ObjectExistsError && error.message.includes('lease/1'));
      assert.equal(text(await store.get('lease/1')), 'first');
      const race = await Promise.allSettled(['a', 'b', 'c'].map((who) => store.put('lease/2', bytes(who), { ifAbsent: true })));
      assert.equal(race.filter(({ status }) => status === 'fulfilled').length, 1);
      assert.ok(race.every((result) => result.status === 'fulfilled' || result.reason instanceof ObjectExistsError));
      assert.deepEqual(await keys(store, 'lease/'), ['lease/1', 'lease/2']);
    });

    it('with ifHolds, writes only while the object holds the bytes given: one written or deleted since, or never there, is refused with ObjectChangedError naming the key, and left as it is', async () => {
      await store.put('pointer', bytes('v1'));
      const read = await store.get('pointer');
      await store.put('pointer', bytes('v2'), { ifHolds: read });
      assert.equal(text(await store.get('pointer')), 'v2');
      const changed = (error: unknown) => error instanceof ObjectChangedError && error.kind === 'changed' && !error.retriable && error.message.includes(`${store.url}/pointer`);
      // Still holding v1's bytes: another writer's v2 came between.
      await assert.rejects(store.put('pointer', bytes('v3'), { ifHolds: read }), changed);
      assert.equal(text(await store.get('pointer')), 'v2');
      await store.delete('pointer');
      await assert.rejects(store.put('pointer', bytes('v3'), { ifHolds: bytes('v2') }), changed);
      assert.equal(await store.head('pointer'), undefined);
      await assert.rejects(store.put('never/there', bytes('x'), { ifHolds: bytes('') }), (error: unknown) => error instanceof ObjectChangedError && error.message.includes('never/there'));
      assert.deepEqual(await keys(store, 'never/'), []);
      // Created meanwhile, where the writer read nothing: ifAbsent is the condition.
      await store.put('pointer', bytes('theirs'));
      await assert.rejects(store.put('pointer', bytes('mine'), { ifAbsent: true }), ObjectExistsError);
      assert.equal(text(await store.get('pointer')), 'theirs');
    });

    it('keeps a key as written, spaces and unicode included, and never lets two keys name one object: a key the store cannot hold as it is, it refuses', async () => {
      const written = ['odd/a b/é ü 😀.txt', 'odd/plus+&=?#%20', 'odd/y', 'odd/x/../y', 'odd/z', 'odd/./z', 'odd/w', 'odd//w', 'odd/v', 'odd/v/', '/odd/u'];
      const kept: string[] = [];
      for (const key of written) {
        try {
          await store.put(key, bytes(`content of ${key}`));
          kept.push(key);
        } catch (error) {
          assert.ok(error instanceof StoreError && error.kind === 'invalid' && error.message.includes(key), `${key}: ${error}`);
        }
      }
      assert.ok(kept.includes('odd/a b/é ü 😀.txt') && kept.includes('odd/plus+&=?#%20') && kept.includes('odd/y'));
      for (const key of kept) assert.equal(text(await store.get(key)), `content of ${key}`);
      assert.deepEqual(await keys(store, 'odd/'), kept.filter((key) => key.startsWith('odd/')).sort());
    });

    it('takes a key that only begins other keys (a folder, to a folder store) for a missing object: get not-found, head undefined, delete no error', async () => {
      await store.put('prefix-only/inside', bytes('x'));
      await assert.rejects(store.get('prefix-only'), (error: unknown) => error instanceof ObjectNotFoundError && error.message.includes('prefix-only'));
      assert.equal(await store.head('prefix-only'), undefined);
      await store.delete('prefix-only');
      assert.equal(text(await store.get('prefix-only/inside')), 'x');
    });

    it('leaves no listeners on a long-lived abort signal as requests end: a consumer passes one signal to every request for weeks', async () => {
      const running = new AbortController();
      const signal = { signal: running.signal };
      const listeners = () => getEventListeners(running.signal, 'abort').length;
      for (let i = 0; i < 20; i++) {
        await keys(store, 'hrrr.20190920/');
        await store.head('hrrr.20190920/conus/hrrr.t05z.wrfsfcf00.grib2', signal);
        await store.get('hrrr.20190920/conus/hrrr.t05z.wrfsfcf00.grib2', signal);
        await store.put('scratch/listener', bytes('x'), signal);
        await store.delete('scratch/listener', signal);
        await assert.rejects(store.get('nothing-here', signal), ObjectNotFoundError);
      }
      for await (const _ of store.list('hrrr.20190920/', signal)) break;
      // The SDK lets go of a request's listener when its socket's request closes, which can come just after it returns.
      assert.ok(listeners() <= 1, `${listeners()} abort listeners left after 121 requests`);
    });

    it('keeps binary content byte for byte', async () => {
      const data = new Uint8Array(300_000).map((_, i) => (i * 7919) % 256);
      await store.put('scratch/binary', data);
      assert.deepEqual(await store.get('scratch/binary'), data);
    });
  });
}

describe('folder store specifics', () => {
  it('refuses, with a StoreError naming the key, an object the folder cannot hold: one under a file, one where a folder is', async () => {
    const store = await setup.kinds[0]!.create();
    await store.put('file', bytes('x'));
    await store.put('folder/inside', bytes('y'));
    for (const key of ['file/under', 'folder']) {
      await assert.rejects(store.put(key, bytes('z')), (error: unknown) => error instanceof StoreError && error.kind === 'invalid' && error.message.includes(key));
    }
    assert.deepEqual(await keys(store, ''), ['file', 'folder/inside']);
  });

  it('lists what symbolic links lead to, as head and get read it: a day folder and a file linked into a mirror; a link to a folder above it is not walked again', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'hrrr-embed-links-'));
    try {
      const [archive, mirror] = [join(scratch, 'archive'), join(scratch, 'mirror')];
      await mkdir(join(archive, 'hrrr.20190920/conus'), { recursive: true });
      await writeFile(join(archive, 'hrrr.20190920/conus/hrrr.t05z.wrfsfcf00.grib2'), 'day');
      await writeFile(join(archive, 'single'), 'file');
      await mkdir(join(mirror, 'hrrr.20190921/conus'), { recursive: true });
      await symlink(join(archive, 'hrrr.20190920'), join(mirror, 'hrrr.20190920'));
      await symlink(join(archive, 'single'), join(mirror, 'hrrr.20190921/conus/hrrr.t00z.wrfsfcf00.grib2'));
      await symlink(mirror, join(mirror, 'hrrr.20190921/conus/loop'));
      await symlink(join(archive, 'gone'), join(mirror, 'hrrr.20190921/conus/dangling'));
      const store = new FolderStore(mirror);
      const listed = ['hrrr.20190920/conus/hrrr.t05z.wrfsfcf00.grib2', 'hrrr.20190921/conus/hrrr.t00z.wrfsfcf00.grib2'];
      assert.deepEqual(await keys(store, 'hrrr.'), listed);
      assert.deepEqual(await keys(store, 'hrrr.20190920/conus/hrrr.t05z'), listed.slice(0, 1));
      for (const key of listed) assert.notEqual(await store.head(key), undefined);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });

  it('fails to list a folder it cannot read with a StoreError naming it, so that a fallback lists the next store', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'hrrr-embed-unreadable-'));
    try {
      // A link to itself: no folder can be read there, whoever runs the test (root reads any folder despite its mode).
      await mkdir(join(scratch, 'broken'));
      await symlink('hrrr.20190920', join(scratch, 'broken/hrrr.20190920'));
      const broken = new FolderStore(join(scratch, 'broken'));
      const prefix = 'hrrr.20190920/conus/hrrr.t05z';
      await assert.rejects(keys(broken, prefix), (error: unknown) => error instanceof StoreError && error.message.startsWith(`${broken.url}/hrrr.20190920/conus/`) && /ELOOP/.test(error.message));
      const good = await setup.kinds[0]!.create();
      await good.put('hrrr.20190920/conus/hrrr.t05z.wrfsfcf00.grib2', bytes('x'));
      assert.deepEqual(await keys(new FallbackStore([broken, good]), prefix), ['hrrr.20190920/conus/hrrr.t05z.wrfsfcf00.grib2']);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
});

describe('folder store compare-and-swap', () => {
  let store: FolderStore;
  let folder: string;
  before(async () => {
    store = (await setup.kinds[0]!.create()) as FolderStore;
    folder = fileURLToPath(store.url);
  });

  it('of many writers holding the same read at once, exactly one wins and the others are refused', async () => {
    await store.put('promoted', bytes('0'));
    const read = await store.get('promoted');
    const race = await Promise.allSettled(['a', 'b', 'c', 'd', 'e', 'f'].map((who) => store.put('promoted', bytes(who), { ifHolds: read })));
    assert.equal(race.filter(({ status }) => status === 'fulfilled').length, 1);
    assert.ok(race.every((result) => result.status === 'fulfilled' || result.reason instanceof ObjectChangedError));
    assert.deepEqual(await readdir(folder).then((names) => names.filter((name) => name.startsWith('promoted'))), ['promoted'], 'a lock or temporary file was left');
  });
});

describe('S3 store specifics (moto server)', () => {
  it('says a bucket that does not exist is missing, not an object in it: a mistyped --source or --state bucket', async () => {
    const absent = new S3Store({ bucket: 'no-such-bucket-here', endpoint: setup.server.endpoint, forcePathStyle: true, credentials: testCredentials });
    await assert.rejects(absent.get('hrrr.20190920/conus/hrrr.t00z.wrfsfcf00.grib2'), (error: unknown) => error instanceof ObjectNotFoundError && /^s3:\/\/no-such-bucket-here\/hrrr\.20190920\/conus\/hrrr\.t00z\.wrfsfcf00\.grib2: no such bucket "no-such-bucket-here"/.test((error as Error).message));
    await assert.rejects(async () => {
      for await (const _ of absent.list('hrrr.20190920/')) void _;
    }, /no such bucket "no-such-bucket-here"/);
  });

  it('the server refuses a write whose If-Match names an ETag the object no longer has (412), or an object no longer there (404): what ifHolds relies on between its read and its write', async () => {
    const bucket = await setup.kinds[1]!.create();
    const client = setup.server.client();
    const Bucket = bucket.url.slice('s3://'.length);
    try {
      const { ETag: first } = await client.send(new PutObjectCommand({ Bucket, Key: 'pointer', Body: 'v1' }));
      await client.send(new PutObjectCommand({ Bucket, Key: 'pointer', Body: 'v2' }));
      const stale = await client.send(new PutObjectCommand({ Bucket, Key: 'pointer', Body: 'v3', IfMatch: first })).catch((error: unknown) => error);
      assert.equal(classify(stale), 'exists', String(stale));
      assert.equal(text(await bucket.get('pointer')), 'v2');
      await bucket.delete('pointer');
      const gone = await client.send(new PutObjectCommand({ Bucket, Key: 'pointer', Body: 'v3', IfMatch: first })).catch((error: unknown) => error);
      assert.equal(classify(gone), 'not-found', String(gone));
      assert.equal(await bucket.head('pointer'), undefined);
    } finally {
      client.destroy();
    }
  });

  it('lists past a page: pagination by continuation token returns every key once', async () => {
    const store = (await setup.kinds[1]!.create()) as S3Store;
    const expected = Array.from({ length: 25 }, (_, i) => `page/${String(i).padStart(3, '0')}`);
    await Promise.all(expected.map((key) => store.put(key, bytes(key))));
    const paged = new S3Store({ bucket: store.url.slice('s3://'.length), endpoint: setup.server.endpoint, forcePathStyle: true, credentials: testCredentials, pageSize: 4 });
    assert.deepEqual(await keys(paged, 'page/'), expected);
    assert.deepEqual(await keys(paged, 'page/', 'page/020'), expected.slice(21));
  });

  it('reads and lists a public bucket anonymously when no AWS credentials are configured anywhere, as NOAA\'s bucket is read', async () => {
    const bucket = await setup.kinds[1]!.create();
    await bucket.put('hrrr.20190920/conus/hrrr.t05z.wrfsfcf00.grib2', bytes('public'));
    const name = bucket.url.slice('s3://'.length);
    const client = setup.server.client();
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: ['s3:GetObject', 's3:ListBucket'], Resource: [`arn:aws:s3:::${name}`, `arn:aws:s3:::${name}/*`] }] };
    await client.send(new PutBucketPolicyCommand({ Bucket: name, Policy: JSON.stringify(policy) })).finally(() => client.destroy());
    const saved = { ...process.env };
    for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name];
    Object.assign(process.env, { AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials', AWS_CONFIG_FILE: '/nonexistent/config', AWS_EC2_METADATA_DISABLED: 'true' });
    try {
      const anonymous = openStore(bucket.url, { endpoint: setup.server.endpoint, retry: { attempts: 1 } });
      assert.equal(text(await anonymous.get('hrrr.20190920/conus/hrrr.t05z.wrfsfcf00.grib2')), 'public');
      assert.deepEqual(await keys(anonymous, 'hrrr.'), ['hrrr.20190920/conus/hrrr.t05z.wrfsfcf00.grib2']);
    } finally {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
    }
  });

  /** Runs `work` with every AWS_ setting removed and the SDK's files and instance metadata out of reach, then `env` set. */
  async function withoutAwsCredentials<T>(env: Record<string, string>, work: () => Promise<T>): Promise<T> {
    const saved = { ...process.env };
    for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name];
    Object.assign(process.env, { AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials', AWS_CONFIG_FILE: '/nonexistent/config', AWS_EC2_METADATA_DISABLED: 'true' }, env);
    try {
      return await work();
    } finally {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
    }
  }

  it('signs with a shared credentials file, as `aws configure` leaves it, with no AWS_ variable set: a private bucket is read', async () => {
    const bucket = await setup.kinds[1]!.create();
    await bucket.put('private', bytes('mine'));
    const folder = await mkdtemp(join(tmpdir(), 'hrrr-embed-aws-'));
    try {
      const { accessKeyId, secretAccessKey } = testCredentials;
      await mkdir(join(folder, '.aws'));
      await writeFile(join(folder, '.aws', 'credentials'), `[default]\naws_access_key_id = ${accessKeyId}\naws_secret_access_key = ${secretAccessKey}\n`);
      const read = await withoutAwsCredentials({ HOME: folder }, async () => {
        delete process.env.AWS_SHARED_CREDENTIALS_FILE;
        return text(await openStore(bucket.url, { endpoint: setup.server.endpoint, retry: { attempts: 1 } }).get('private'));
      });
      assert.equal(read, 'mine');
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('an unsigned request a bucket refuses says it was unsigned and how to sign, and HRRR_EMBED_S3_SIGNED=true signs with the SDK\'s whole chain (an instance role)', async () => {
    const bucket = await setup.kinds[1]!.create();
    await bucket.put('private', bytes('mine'));
    const refused = await withoutAwsCredentials({}, () => openStore(bucket.url, { endpoint: setup.server.endpoint, retry: { attempts: 1 } }).get('private').catch((error: unknown) => error));
    assert.ok(refused instanceof StoreError && refused.kind === 'denied', String(refused));
    assert.match(refused.message, /sent unsigned: no AWS credentials found .*HRRR_EMBED_S3_SIGNED=true/);
    // The chain finds nothing here (no instance metadata): the request is signed, so it fails looking for credentials.
    const signed = await withoutAwsCredentials({ HRRR_EMBED_S3_SIGNED: 'true' }, () => openStore(bucket.url, { endpoint: setup.server.endpoint, retry: { attempts: 1 } }).get('private').catch((error: unknown) => error));
    assert.ok(signed instanceof StoreError && signed.kind === 'denied', String(signed));
    assert.match(signed.message, /CredentialsProviderError/);
    await assert.rejects(withoutAwsCredentials({ HRRR_EMBED_S3_SIGNED: 'yes' }, async () => openStore(bucket.url)), /HRRR_EMBED_S3_SIGNED: "yes" is not true or false/);
  });

  it('a missing bucket is a not-found error, and a refused connection a retriable network error', async () => {
    const missing = new S3Store({ bucket: 'no-such-bucket', endpoint: setup.server.endpoint, forcePathStyle: true, credentials: testCredentials });
    await assert.rejects(missing.get('x'), ObjectNotFoundError);
    const nowhere = new S3Store({ bucket: 'b', endpoint: 'http://127.0.0.1:9', forcePathStyle: true, credentials: testCredentials });
    await assert.rejects(nowhere.get('x'), (error: unknown) => error instanceof StoreError && error.kind === 'network' && error.retriable);
  });

  it('a ranged answer holding fewer bytes than its Content-Range says (sent chunked, with no Content-Length) is a retriable download error, not a short object', async () => {
    const server = createServer((_, response) => {
      response.writeHead(206, { 'content-range': 'bytes 0-99/1000', 'transfer-encoding': 'chunked' });
      response.end(new Uint8Array(50));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const store = new S3Store({ bucket: 'b', endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, forcePathStyle: true, credentials: testCredentials });
      await assert.rejects(store.get('k', { range: { start: 0, end: 99 } }), (error: unknown) => error instanceof StoreError && error.retriable && /s3:\/\/b\/k: .*50 of 100 bytes/.test(error.message));
    } finally {
      server.close();
    }
  });

  it('credentials the store does not take (expired token, unknown key, signed for another region) are denied, never taken for a bad object', async () => {
    const codes = ['ExpiredToken', 'InvalidToken', 'AuthorizationHeaderMalformed', 'InvalidAccessKeyId', 'SignatureDoesNotMatch'];
    let next = 0;
    const server = createServer((_, response) => {
      const code = codes[next++ % codes.length]!;
      response.writeHead(code.startsWith('Invalid') || code === 'SignatureDoesNotMatch' ? 403 : 400, { 'content-type': 'application/xml' });
      response.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>refused</Message></Error>`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const store = new S3Store({ bucket: 'b', endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, forcePathStyle: true, credentials: testCredentials });
      for (const code of codes) {
        await assert.rejects(store.get('k'), (error: unknown) => error instanceof StoreError && error.kind === 'denied' && error.message.includes(code), code);
      }
    } finally {
      server.close();
    }
  });

  it('a listing page that says there is more but gives no continuation token is an error, not the end of the listing', async () => {
    // What moto never answers: a server of its own on loopback.
    const server = createServer((_, response) => {
      response.writeHead(200, { 'content-type': 'application/xml' });
      response.end('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>p/</Prefix><KeyCount>1</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>true</IsTruncated><Contents><Key>p/1</Key><Size>1</Size></Contents></ListBucketResult>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const store = new S3Store({ bucket: 'b', endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, forcePathStyle: true, credentials: testCredentials });
      await assert.rejects(keys(store, 'p/'), (error: unknown) => error instanceof StoreError && error.kind === 'invalid' && /s3:\/\/b\/p\/: the listing says there is more but gives no continuation token/.test(error.message));
    } finally {
      server.close();
    }
  });
});

