import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';

const serverModule = new URL('../../runtime/operations-server.js', import.meta.url).href;

/**
 * A process that serves operations until told "done" on its stdin, then has nothing left to do but
 * never closes the server: as `run` leaves it when it fails while starting (a model that cannot be
 * loaded, a registry that refuses the schemas).
 */
function processServingOperations(): { child: ChildProcess; url: Promise<string> } {
  const script = `
    import { Registry } from 'prom-client';
    import { startOperationsServer } from ${JSON.stringify(serverModule)};
    const server = await startOperationsServer({ host: '127.0.0.1', port: 0, registry: new Registry(), readiness: { check: () => ({ ready: false, reason: 'starting' }) } });
    console.log(server.url);
    process.stdin.once('data', () => process.stdin.destroy());
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const url = once(child.stdout!, 'data').then(([line]) => String(line).trim());
  return { child, url };
}

/** A client on one kept-alive connection asking for /healthz every 200 ms, as a sidecar or load balancer polls. */
function poller(url: string): { socket: Socket; stop(): void } {
  const { port } = new URL(url);
  const socket = connect(Number(port), '127.0.0.1');
  socket.on('data', () => {}).on('error', () => {});
  const ask = () => socket.writable && socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  const timer = setInterval(ask, 200);
  ask();
  return { socket, stop: () => (clearInterval(timer), socket.destroy()) };
}

describe('clients of the operations server', () => {
  it('do not keep the process alive: one that ends its work without closing the server exits while a client goes on polling on a kept-alive connection', { timeout: 30_000 }, async () => {
    const { child, url } = processServingOperations();
    const client = poller(await url);
    try {
      await once(client.socket, 'data');
      const exited = once(child, 'exit');
      child.stdin!.end('done\n');
      const outcome = await Promise.race([exited.then(([code]) => `exited with ${code}`), new Promise((resolve) => setTimeout(resolve, 10_000, 'still running 10 s later'))]);
      assert.equal(outcome, 'exited with 0');
    } finally {
      client.stop();
      child.kill();
    }
  });
});
