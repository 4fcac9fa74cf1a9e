import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { UsageError } from '../../cli/usage.js';
import { storeOption } from '../../cli/sources.js';
import { S3Server } from '../../infra/s3-server.js';
import { openStore } from '../../store/open.js';

interface Seen {
  url: string;
  authorization: string | undefined;
}

/** A loopback HTTP server that answers 404 to every request (no such object) and records each request's target and Authorization header. */
async function recordingServer(): Promise<{ server: Server; url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((request, response) => {
    seen.push({ url: request.url ?? '/', authorization: request.headers.authorization });
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** A forward proxy on loopback that records the CONNECT tunnels asked of it, and refuses them: where a request was going, without going there. */
async function refusingProxy(): Promise<{ server: Server; url: string; tunnels: string[] }> {
  const tunnels: string[] = [];
  const server = createServer((_request, response) => response.writeHead(405).end());
  server.on('connect', (request, client) => {
    tunnels.push(request.url ?? '');
    client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, tunnels };
}

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);
const once = { retry: { attempts: 1 } };
/** An address nothing answers at: a request sent there fails. */
const NOWHERE = 'http://127.0.0.1:9';

// Two real S3 servers: one stands for the site's MinIO, the other for AWS, where NOAA's bucket is.
let minio: S3Server;
let aws: S3Server;
let recorder: Awaited<ReturnType<typeof recordingServer>>;
const saved = { ...process.env };

before(async () => {
  [minio, aws, recorder] = await Promise.all([S3Server.start(), S3Server.start(), recordingServer()]);
  await minio.createBucket('hrrr-mirror');
  await aws.createBucket('noaa-hrrr-bdp-pds');
});
after(async () => {
  process.env = saved;
  await Promise.all([minio.stop(), aws.stop(), new Promise((resolve) => recorder.server.close(resolve))]);
});
beforeEach(() => {
  process.env = { ...saved };
  for (const name of Object.keys(process.env)) if (name.startsWith('AWS_') || name.startsWith('HRRR_EMBED_S3') || /_proxy$/i.test(name)) delete process.env[name];
  // MinIO's keys, as an on-premises deployment gives them: moto takes any.
  process.env.AWS_ACCESS_KEY_ID = 'AKIAMINIO';
  process.env.AWS_SECRET_ACCESS_KEY = 'minio-secret';
  recorder.seen.length = 0;
});

describe('settings written in an s3:// location', () => {
  it('read a chain from two servers: the first location at the endpoint written in it, the second at --endpoint, and the environment\'s endpoint at neither', async () => {
    await openStore(`s3://hrrr-mirror?endpoint=${minio.endpoint}`).put('hrrr.20190920/conus/mirrored', bytes('from minio'));
    await openStore(`s3://noaa-hrrr-bdp-pds?endpoint=${aws.endpoint}`).put('hrrr.20190920/conus/archived', bytes('from aws'));
    process.env.AWS_ENDPOINT_URL = NOWHERE;
    const chains = [
      openStore(`s3://hrrr-mirror?endpoint=${minio.endpoint},s3://noaa-hrrr-bdp-pds`, { endpoint: aws.endpoint, ...once }),
      openStore(`s3://hrrr-mirror?endpoint=${minio.endpoint}, s3://noaa-hrrr-bdp-pds?endpoint=${aws.endpoint}&region=us-east-1`, once),
    ];
    for (const chain of chains) {
      assert.equal(text(await chain.get('hrrr.20190920/conus/mirrored')), 'from minio');
      assert.equal(text(await chain.get('hrrr.20190920/conus/archived')), 'from aws');
      const keys: string[] = [];
      for await (const { key } of chain.list('hrrr.20190920/')) keys.push(key);
      assert.deepEqual(keys.sort(), ['hrrr.20190920/conus/archived', 'hrrr.20190920/conus/mirrored']);
    }
  });

  it('leave the store named s3://BUCKET, as --endpoint does, so that a retrain request and the trainer name one model store alike however each was told the server', () => {
    const named = [openStore(`s3://hrrr-models?endpoint=${minio.endpoint}&region=us-east-1`), openStore('s3://hrrr-models', { endpoint: minio.endpoint }), openStore(`s3://hrrr-models/?signed=true&endpoint=${minio.endpoint}`)];
    assert.deepEqual(named.map((store) => store.url), ['s3://hrrr-models', 's3://hrrr-models', 's3://hrrr-models']);
  });

  it('signed=false sends no Authorization header, while another location of the same process signs with the keys the environment gives', async () => {
    process.env.HRRR_EMBED_S3_SIGNED = 'false';
    const stores = {
      state: openStore(`s3://state?endpoint=${recorder.url}&signed=true`, once),
      noaa: openStore(`s3://noaa-hrrr-bdp-pds?endpoint=${recorder.url}&signed=false`, once),
      plain: openStore('s3://plain', { endpoint: recorder.url, ...once }),
    };
    delete process.env.HRRR_EMBED_S3_SIGNED;
    const keysSigned = openStore(`s3://keys?endpoint=${recorder.url}`, once);
    for (const store of [...Object.values(stores), keysSigned]) assert.equal(await store.head('hrrr.20190920/conus/a.idx'), undefined);
    const authorizationOf = (bucket: string) => recorder.seen.filter(({ url }) => url.startsWith(`/${bucket}/`)).map(({ authorization }) => authorization ?? 'none');
    assert.deepEqual(authorizationOf('noaa-hrrr-bdp-pds'), ['none']);
    assert.deepEqual(authorizationOf('plain'), ['none'], 'HRRR_EMBED_S3_SIGNED=false still holds for a location without settings');
    assert.match(authorizationOf('state')[0]!, /Credential=AKIAMINIO\//);
    assert.match(authorizationOf('keys')[0]!, /Credential=AKIAMINIO\//);
    await openStore(`s3://hrrr-mirror?endpoint=${minio.endpoint}`, once).put('private', bytes('mine'));
    const refused = openStore(`s3://hrrr-mirror?endpoint=${minio.endpoint}&signed=false`, once).get('private');
    await assert.rejects(refused, /s3:\/\/hrrr-mirror\/private: HTTP 403.*; sent unsigned: the location says signed=false$/);
  });

  it('a refusal of a request sent unsigned because HRRR_EMBED_S3_SIGNED=false says so, not that no credentials were found (the environment has keys)', async () => {
    await openStore(`s3://hrrr-mirror?endpoint=${minio.endpoint}`, once).put('private-too', bytes('mine'));
    process.env.HRRR_EMBED_S3_SIGNED = 'false';
    const refused = openStore(`s3://hrrr-mirror?endpoint=${minio.endpoint}`, once).get('private-too');
    await assert.rejects(refused, /s3:\/\/hrrr-mirror\/private-too: HTTP 403.*; sent unsigned: HRRR_EMBED_S3_SIGNED=false$/);
  });

  it('an endpoint written in the location picks the proxy, not --endpoint or the environment\'s', async () => {
    const proxy = await refusingProxy();
    try {
      process.env.HTTP_PROXY = proxy.url;
      const direct = openStore(`s3://hrrr-mirror?endpoint=${minio.endpoint}`, { endpoint: 'http://minio.example:9000', ...once });
      await direct.put('through/nothing', bytes('x'));
      assert.deepEqual(proxy.tunnels, [], 'loopback is reached directly');
      process.env.AWS_ENDPOINT_URL = minio.endpoint;
      const proxied = openStore('s3://hrrr-mirror?endpoint=http://minio.example:9000', once);
      await assert.rejects(proxied.head('through/proxy'), /the proxy http:\/\/127\.0\.0\.1:\d+ refused the connection: HTTP 403/);
      assert.deepEqual(proxy.tunnels, ['minio.example:9000']);
      // AWS named as an endpoint (the environment's being MinIO's): the bucket stays in the host name, as AWS wants.
      process.env.HTTPS_PROXY = proxy.url;
      await assert.rejects(openStore('s3://noaa-hrrr-bdp-pds?endpoint=https://s3.us-east-1.amazonaws.com&signed=false', once).head('k'), /refused the connection/);
      assert.deepEqual(proxy.tunnels, ['minio.example:9000', 'noaa-hrrr-bdp-pds.s3.us-east-1.amazonaws.com:443']);
    } finally {
      proxy.server.closeAllConnections();
      await new Promise((resolve) => proxy.server.close(resolve));
    }
  });

  it('that are wrong are refused, naming the location and the setting, never repeating a secret', () => {
    const refusals: [string, RegExp][] = [
      ['s3://state?endpont=http://minio:9000', /^store location s3:\/\/state: unknown setting "endpont" \(known: endpoint, region, signed\)$/],
      ['s3://state?endpoint=http://minio:9000&endpoint=http://other:9000', /^store location s3:\/\/state: endpoint is given twice$/],
      ['s3://state?endpoint=minio:9000', /^store location s3:\/\/state: endpoint "minio:9000" is not an http:\/\/ or https:\/\/ URL$/],
      ['s3://state?endpoint=ftp://minio', /^store location s3:\/\/state: endpoint "ftp:\/\/minio" is not an http:\/\/ or https:\/\/ URL$/],
      ['s3://state?endpoint=http://AKIASECRET:S3cretKey@minio:9000', /^store location s3:\/\/state: endpoint "http:\/\/\*\*\*@minio:9000" holds credentials: give them as AWS_ACCESS_KEY_ID/],
      ['s3://state?aws_secret_access_key=S3cretKey', /^store location s3:\/\/state: unknown setting "aws_secret_access_key"/],
      ['s3://noaa-hrrr-bdp-pds?signed=yes', /^store location s3:\/\/noaa-hrrr-bdp-pds: signed="yes" is not true or false$/],
      ['s3://state?region=us east', /^store location s3:\/\/state: region "us east" is no region's name/],
      ['file:///mirror,s3://state?signed=maybe', /^store location s3:\/\/state: signed="maybe"/],
    ];
    for (const [location, message] of refusals) {
      assert.throws(() => openStore(location), (error: unknown) => error instanceof Error && message.test(error.message) && !/S3cret|AKIASECRET/.test(error.message), location);
    }
    assert.throws(() => storeOption('--state', 's3://state?signed=1', 'usage', {}), (error: unknown) => error instanceof UsageError && /^--state: store location s3:\/\/state: signed="1"/.test(error.message));
  });
});
