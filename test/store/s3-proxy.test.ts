import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { S3Server, testCredentials } from '../../infra/s3-server.js';
import { StoreError } from '../../store/errors.js';
import { proxyAgentsFor } from '../../store/proxy.js';
import { S3Store } from '../../store/s3.js';

/** A name only the proxy knows: a store that reaches the server by it went through the proxy. */
const BEHIND_PROXY = 'objects-behind-proxy'; // one label: moto reads the bucket from the path, not the host

interface Tunnel {
  target: string;
  authorization: string | undefined;
}

/** A forward proxy on loopback that opens CONNECT tunnels (to BEHIND_PROXY: loopback), as corporate proxies do. */
class ConnectProxy {
  readonly tunnels: Tunnel[] = [];
  answer: number | undefined;
  private constructor(private readonly server: Server) {}

  static async start(): Promise<ConnectProxy> {
    const proxy = new ConnectProxy(createServer((_request, response) => response.writeHead(405).end()));
    proxy.server.on('connect', (request, client) => {
      proxy.tunnels.push({ target: request.url ?? '', authorization: request.headers['proxy-authorization'] });
      if (proxy.answer !== undefined) return client.end(`HTTP/1.1 ${proxy.answer} No\r\n\r\n`);
      const [host, port] = (request.url ?? '').split(':');
      const upstream = connect(Number(port), host === BEHIND_PROXY ? '127.0.0.1' : host!, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.pipe(client).pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

let server: S3Server;
let proxy: ConnectProxy;
before(async () => {
  [server, proxy] = await Promise.all([S3Server.start(), ConnectProxy.start()]);
});
after(async () => {
  await Promise.all([server.stop(), proxy.stop()]);
});

const port = () => new URL(server.endpoint).port;
const bytes = (text: string) => new TextEncoder().encode(text);

describe('S3 requests through the proxy the environment names', () => {
  it('reach an endpoint only the proxy can reach, with the user and password written into HTTP_PROXY', async () => {
    await server.store('proxied');
    proxy.tunnels.length = 0;
    const store = new S3Store({ bucket: 'proxied', endpoint: `http://${BEHIND_PROXY}:${port()}`, forcePathStyle: true, credentials: testCredentials, env: { HTTP_PROXY: proxy.url.replace('//', '//analyst:p%40ss@') } });
    await store.put('hrrr.20190920/conus/a', bytes('field'));
    assert.equal(new TextDecoder().decode(await store.get('hrrr.20190920/conus/a')), 'field');
    const keys: string[] = [];
    for await (const { key } of store.list('hrrr.')) keys.push(key);
    assert.deepEqual(keys, ['hrrr.20190920/conus/a']);
    store.destroy();
    assert.ok(proxy.tunnels.length >= 1);
    for (const tunnel of proxy.tunnels) {
      assert.equal(tunnel.target, `${BEHIND_PROXY}:${port()}`);
      assert.equal(tunnel.authorization, `Basic ${Buffer.from('analyst:p@ss').toString('base64')}`);
    }
  });

  it('go straight to loopback and to the hosts NO_PROXY names, never through the proxy', async () => {
    await server.store('direct');
    proxy.tunnels.length = 0;
    const loopback = new S3Store({ bucket: 'direct', endpoint: server.endpoint, forcePathStyle: true, credentials: testCredentials, env: { HTTP_PROXY: proxy.url } });
    await loopback.put('k', bytes('x'));
    loopback.destroy();
    const named = new S3Store({ bucket: 'direct', endpoint: `http://${BEHIND_PROXY}:${port()}`, forcePathStyle: true, credentials: testCredentials, env: { HTTP_PROXY: proxy.url, NO_PROXY: 'example.org, objects-behind-proxy' } });
    await assert.rejects(named.get('k'), (error: StoreError) => error.kind === 'network' && /ENOTFOUND|EAI_AGAIN/.test(error.message));
    named.destroy();
    assert.deepEqual(proxy.tunnels, []);
  });

  it('to AWS go through a CONNECT tunnel to the bucket\'s host, and a proxy that refuses is named with its answer, its password hidden', async () => {
    proxy.tunnels.length = 0;
    proxy.answer = 407;
    try {
      const store = new S3Store({ bucket: 'noaa-hrrr-bdp-pds', anonymous: true, env: { https_proxy: proxy.url.replace('//', '//analyst:secret@') } });
      await assert.rejects(store.get('hrrr.20190920/conus/hrrr.t00z.wrfsfcf00.grib2.idx'), (error: StoreError) => {
        assert.equal(error.kind, 'denied');
        assert.match(error.message, /the proxy http:\/\/\*\*\*@127\.0\.0\.1:\d+ refused the connection: HTTP 407 \(it wants credentials/);
        assert.doesNotMatch(error.message, /secret/);
        return true;
      });
      store.destroy();
    } finally {
      proxy.answer = undefined;
    }
    assert.deepEqual(proxy.tunnels.map(({ target }) => target), ['noaa-hrrr-bdp-pds.s3.us-east-1.amazonaws.com:443']);
  });
});

describe('which proxy the environment names for a target', () => {
  const via = (target: string, env: NodeJS.ProcessEnv) => proxyAgentsFor(target, env)?.shown;

  it('takes https_proxy or http_proxy by the target\'s scheme, then all_proxy, in either case, and http:// for a proxy written without a scheme', () => {
    assert.equal(via('https://b.s3.amazonaws.com', { HTTPS_PROXY: 'proxy.corp:3128', HTTP_PROXY: 'http://other:1' }), 'http://proxy.corp:3128');
    assert.equal(via('http://minio.corp:9000', { https_proxy: 'http://a:1', http_proxy: 'http://b:2' }), 'http://b:2');
    assert.equal(via('http://minio.corp:9000', { ALL_PROXY: 'https://c:3' }), 'https://c:3');
    assert.equal(via('https://b.s3.amazonaws.com', {}), undefined);
  });

  it('leaves out hosts no_proxy names: *, a domain and its subdomains, an address, a network, a port written after them', () => {
    const env = (noProxy: string) => ({ HTTPS_PROXY: 'http://proxy:3128', HTTP_PROXY: 'http://proxy:3128', NO_PROXY: noProxy });
    assert.equal(via('https://b.s3.amazonaws.com', env('*')), undefined);
    assert.equal(via('https://b.s3.amazonaws.com', env('localhost,.amazonaws.com')), undefined);
    assert.equal(via('https://b.s3.amazonaws.com', env('amazonaws.com')), undefined);
    assert.equal(via('http://minio.storage.svc:9000', env('.svc:9000')), undefined);
    assert.equal(via('http://10.4.2.1:9000', env('10.0.0.0/8')), undefined);
    assert.equal(via('http://10.4.2.1:9000', env('10.4.2.1')), undefined);
    assert.equal(via('http://[fd00::5]:9000', env('fd00::/8')), undefined);
    assert.equal(via('http://11.4.2.1:9000', env('10.0.0.0/8,10.4.2.1,svc')), 'http://proxy:3128');
    assert.equal(via('https://notamazonaws.com', env('amazonaws.com')), 'http://proxy:3128');
  });

  it('never proxies loopback, and refuses a proxy that is no http(s) URL without repeating its password', () => {
    assert.equal(via('http://127.0.0.1:9000', { HTTP_PROXY: 'http://proxy:3128' }), undefined);
    assert.equal(via('http://localhost:9000', { HTTP_PROXY: 'http://proxy:3128' }), undefined);
    assert.equal(via('http://[::1]:9000', { HTTP_PROXY: 'http://proxy:3128' }), undefined);
    assert.throws(() => proxyAgentsFor('https://b.s3.amazonaws.com', { HTTPS_PROXY: 'socks5://user:secret@proxy:1080' }), (error: Error) => /socks5:\/\/\*\*\*@proxy:1080 .* not an http:\/\/ or https:\/\/ proxy/.test(error.message) && !error.message.includes('secret'));
    assert.throws(() => proxyAgentsFor('https://b.s3.amazonaws.com', { HTTPS_PROXY: 'http://[bad' }), /no URL/);
  });
});
