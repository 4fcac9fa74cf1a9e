import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Readiness } from './readiness.js';

export interface OperationsServer {
  /** http://HOST:PORT, with the port chosen when 0 was asked for. */
  readonly url: string;
  readonly registry: Registry;
  close(): Promise<void>;
}

/**
 * The consumer's HTTP face for its supervisor: `GET /metrics` (Prometheus text format),
 * `GET /healthz` (liveness: answered by the event loop, so an answer means the loop turns) and
 * `GET /readyz` (200 when ready, with a note when it serves a model version other than the promoted
 * one; else 503 with the reason).
 */
export async function startOperationsServer({ host, port, registry, readiness }: { host: string; port: number; registry: Registry; readiness: Readiness }): Promise<OperationsServer> {
  const server = createServer((request, response) => {
    const reply = (status: number, contentType: string, body: string) => response.writeHead(status, { 'content-type': contentType }).end(body);
    // A request target that makes no URL with this base ("//a:99999/") would throw out of the handler and end the process.
    if (!URL.canParse(request.url ?? '/', 'http://localhost')) return reply(400, 'text/plain', 'the request target is not a URL path\n');
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (request.method !== 'GET' && request.method !== 'HEAD') return reply(405, 'text/plain', 'only GET\n');
    if (path === '/healthz') return reply(200, 'text/plain', 'alive\n');
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
