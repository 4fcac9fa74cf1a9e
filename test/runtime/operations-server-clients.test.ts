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
  return childProcess(`process.stdin.once('data', () => process.stdin.destroy());`);
}

/** A process that serves operations, printing its URL, then runs the code `then`; `bash` runs before it (a ulimit). */
function childProcess(then: string, bash = ''): { child: ChildProcess; url: Promise<string> } {
  const script = `
    import { closeSync, openSync } from 'node:fs';
    import { Registry } from 'prom-client';
    import { startOperationsServer } from ${JSON.stringify(serverModule)};
    const server = await startOperationsServer({ host: '127.0.0.1', port: 0, registry: new Registry(), readiness: { check: () => ({ ready: false, reason: 'starting' }) } });
    console.log(server.url);
    ${then}
  `;
  const child = spawn('bash', ['-c', `${bash} exec "${process.execPath}" --input-type=module -e "$0"`, script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const url = once(child.stdout!, 'data').then(([line]) => String(line).trim());
  return { child, url };
}

/** A client sending the start of a request's headers, then nothing: what slowloris keeps many of. */
function slowClient(url: string): { socket: Socket; settled: Promise<unknown>; closed: Promise<string> } {
  const socket = connect(Number(new URL(url).port), '127.0.0.1', () => socket.write('GET /metrics HTTP/1.1\r\nHo'));
  let answer = '';
  socket.on('data', (chunk) => (answer += String(chunk))).on('error', () => {});
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(answer.split('\r\n')[0]!)));
  return { socket, settled: Promise.race([new Promise((resolve) => socket.once('connect', resolve)), closed]), closed };
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

  it('are held to 64 at once: 200 clients that send half a request and wait leave the process files to open, where they took every descriptor it had (ulimit 128) and the next open failed with EMFILE', { timeout: 30_000 }, async () => {
    const openFile = `process.stdin.on('data', () => { try { closeSync(openSync('/dev/null', 'r')); console.log('opened'); } catch (error) { console.log(error.code); } });`;
    const { child, url } = childProcess(openFile, 'ulimit -n 128 &&');
    const clients = Array.from({ length: 200 }, async () => slowClient(await url));
    try {
      const held = await Promise.all(clients);
      await Promise.all(held.map(({ settled }) => settled));
      // Connected means in the kernel's backlog: the server has taken each in once those it turned away are closed.
      const open = () => held.filter(({ socket }) => !socket.destroyed && !socket.readableEnded).length;
      for (let waited = 0; open() > 64 && waited < 10_000; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
      assert.ok(open() <= 64, `${open()} connections held open`);
      const answer = once(child.stdout!, 'data').then(([line]) => String(line).trim());
      child.stdin!.write('open a file\n');
      assert.equal(await answer, 'opened');
    } finally {
      for (const { socket } of await Promise.all(clients)) socket.destroy();
      child.kill();
    }
  });

  it('that send half their headers and wait are answered 408 and cut off within seconds, not kept for the minute and a half of the defaults of Node', { timeout: 40_000 }, async () => {
    const { child, url } = processServingOperations();
    try {
      const { closed } = slowClient(await url);
      const outcome = await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 25_000, 'still open 25 s later'))]);
      assert.equal(outcome, 'HTTP/1.1 408 Request Timeout');
    } finally {
      child.kill();
    }
  });
});
