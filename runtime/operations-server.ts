import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { ReadinessCheck } from './readiness.js';
import type { LivenessCheck } from './watchdog.js';

export interface OperationsServer {
  /** http://HOST:PORT, with the port chosen when 0 was asked for. */
  readonly url: string;
  readonly registry: Registry;
  close(): Promise<void>;
}

/**
 * Its clients are a scraper and a few probes, each a short GET; anyone else (a scanner, slowloris:
 * connections opened and fed a byte now and then) must not take what the consumer needs, its file
 * descriptors above all. Node's defaults keep a half-sent request for 60 s, checked every 30 s,
 * and any number of them.
 */
const clientLimits = {
  /** Beyond it a new connection is closed at once; the file descriptors it could take are bounded. */
  maxConnections: 64,
  /** For a request's headers, and for the whole request: a GET is one packet. */
  headersTimeout: 10_000,
  requestTimeout: 10_000,
  /** How often connections are checked against those two. */
  connectionsCheckingInterval: 1_000,
  /** An idle kept-alive connection (Node's default, said here). */
  keepAliveTimeout: 5_000,
  maxHeaderSize: 8 * 1024,
  maxHeadersCount: 64,
};

/** Liveness with no watchdog: an answer means the event loop turns. */
const eventLoopOnly: LivenessCheck = { check: () => ({ alive: true }) };

/**
 * The HTTP face of a consumer or a trainer for its supervisor: `GET /metrics` (Prometheus text
 * format), `GET /healthz` (liveness: 200 while the pipeline moves, else 503 with what has not moved;
 * an answer at all means the event loop turns)
 * and `GET /readyz` (200 when ready, with a note when there is one to add; else 503 with the reason).
 */
export async function startOperationsServer({ host, port, registry, readiness, liveness = eventLoopOnly }: { host: string; port: number; registry: Registry; readiness: ReadinessCheck; liveness?: LivenessCheck }): Promise<OperationsServer> {
  const { maxConnections, headersTimeout, requestTimeout, connectionsCheckingInterval, keepAliveTimeout, maxHeaderSize, maxHeadersCount } = clientLimits;
  const server = createServer({ headersTimeout, requestTimeout, connectionsCheckingInterval, keepAliveTimeout, maxHeaderSize }, (request, response) => {
    const reply = (status: number, contentType: string, body: string) => response.writeHead(status, { 'content-type': contentType }).end(body);
    // A request target that makes no URL with this base ("//a:99999/") would throw out of the handler and end the process.
    if (!URL.canParse(request.url ?? '/', 'http://localhost')) return reply(400, 'text/plain', 'the request target is not a URL path\n');
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (request.method !== 'GET' && request.method !== 'HEAD') return reply(405, 'text/plain', 'only GET\n');
    if (path === '/healthz') {
      const state = liveness.check();
      return state.alive ? reply(200, 'text/plain', 'alive\n') : reply(503, 'text/plain', `${state.reason}\n`);
    }
    if (path === '/readyz') {
      const state = readiness.check();
      if (state.ready) return reply(200, 'text/plain', state.note === undefined ? 'ready\n' : `ready: ${state.note}\n`);
      return reply(503, 'text/plain', `not ready: ${state.reason}\n`);
    }
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => reply(200, registry.contentType, text),
        (error: Error) => reply(500, 'text/plain', `${error.message}\n`),
      );
      return;
    }
    reply(404, 'text/plain', 'not found: /metrics, /healthz and /readyz are here\n');
  });
  server.maxConnections = maxConnections;
  server.maxHeadersCount = maxHeadersCount;
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  // Never what keeps the process alive: the pipeline is, and a command that fails before it starts must still exit,
  // whoever is connected (a client polling on a kept-alive connection would otherwise hold it for ever).
  server.unref();
  server.on('connection', (socket) => socket.unref());
  const address = server.address() as AddressInfo;
  return {
    registry,
    url: `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
