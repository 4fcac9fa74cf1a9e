import { createServer, request, type IncomingMessage, type Server } from 'node:http';

/** What the proxy does to the next request that `when` accepts (any request, by default). */
export type Fault =
  | { kind: 'status'; status: number; code: string; when?: (request: SeenRequest) => boolean }
  | { kind: 'reset'; when?: (request: SeenRequest) => boolean }
  /** Never answers: the client's timeout has to end it. */
  | { kind: 'stall'; when?: (request: SeenRequest) => boolean }
  /** Forwards the request, then sends only the first `afterBytes` of the answer's body and drops the connection, or goes silent. */
  | { kind: 'cut'; afterBytes: number; then: 'reset' | 'stall'; when?: (request: SeenRequest) => boolean }
  /** Forwards the request with its Range header replaced (undefined: removed), as a server or cache that mishandles ranges would answer. */
  | { kind: 'range'; range: string | undefined; when?: (request: SeenRequest) => boolean };

export interface SeenRequest {
  method: string;
  path: string;
  range: string | undefined;
  /** Body bytes sent back to the client (as the server sent them, or the fault's error document). */
  responseBytes: number;
  status: number;
  fault: Fault['kind'] | undefined;
}

/**
 * An HTTP proxy on loopback in front of a real S3 server, for tests: it records every request
 * with the bytes it sent back, and answers chosen requests with an S3 error (500, 503 SlowDown),
 * a dropped connection or silence instead of forwarding them; or forwards them and cuts the
 * answer's body short, or asks the server for another byte range than the client did.
 */
export class FaultProxy {
  readonly requests: SeenRequest[] = [];
  private readonly faults: Fault[] = [];
  private inFlight = 0;
  maxInFlight = 0;

  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
  ) {}

  static async start(target: string): Promise<FaultProxy> {
    const upstream = new URL(target);
    let proxy!: FaultProxy;
    const server = createServer((incoming, response) => proxy.handle(incoming, response, upstream));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new FaultProxy(server, `http://127.0.0.1:${(server.address() as { port: number }).port}`);
    return proxy;
  }

  inject(...faults: Fault[]): void {
    this.faults.push(...faults);
  }

  reset(): void {
    this.requests.length = 0;
    this.faults.length = 0;
    this.maxInFlight = 0;
  }

  /** Body bytes of successful GET responses: what was downloaded. */
  get bytesDownloaded(): number {
    return this.requests.filter((seen) => seen.method === 'GET' && seen.status < 300 && !seen.path.includes('list-type')).reduce((sum, seen) => sum + seen.responseBytes, 0);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private handle(incoming: IncomingMessage, response: import('node:http').ServerResponse, upstream: URL): void {
    const seen: SeenRequest = { method: incoming.method ?? 'GET', path: incoming.url ?? '/', range: incoming.headers.range, responseBytes: 0, status: 0, fault: undefined };
    this.requests.push(seen);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    response.once('close', () => this.inFlight--);
    const index = this.faults.findIndex((fault) => !fault.when || fault.when(seen));
    const fault = index >= 0 ? this.faults.splice(index, 1)[0] : undefined;
    if (fault) seen.fault = fault.kind;
    if (fault && fault.kind !== 'cut' && fault.kind !== 'range') {
      incoming.resume();
      incoming.once('end', () => {
        if (fault.kind === 'reset') return void incoming.socket.destroy();
        if (fault.kind === 'stall') return;
        const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${fault.code}</Code><Message>injected by the test proxy</Message></Error>`;
        seen.status = fault.status;
        seen.responseBytes = Buffer.byteLength(body);
        response.writeHead(fault.status, { 'content-type': 'application/xml', 'content-length': seen.responseBytes }).end(body);
      });
      return;
    }
    const headers = { ...incoming.headers, host: upstream.host };
    if (fault?.kind === 'range') {
      delete headers.range;
      if (fault.range !== undefined) headers.range = fault.range;
    }
    const forward = request({ host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers }, (answer) => {
      seen.status = answer.statusCode ?? 0;
      response.writeHead(seen.status, answer.headers);
      if (fault?.kind === 'cut') return cut(answer, response, seen, fault);
      answer.on('data', (chunk: Buffer) => (seen.responseBytes += chunk.length));
      answer.pipe(response);
    });
    forward.on('error', () => response.destroy());
    incoming.pipe(forward);
  }
}

/** Passes on the first `afterBytes` of an answer's body, then drops the connection or goes silent. */
function cut(answer: IncomingMessage, response: import('node:http').ServerResponse, seen: SeenRequest, fault: Extract<Fault, { kind: 'cut' }>): void {
  answer.on('data', (chunk: Buffer) => {
    const left = fault.afterBytes - seen.responseBytes;
    if (left <= 0) return;
    const part = chunk.subarray(0, left);
    seen.responseBytes += part.length;
    response.write(part);
    if (seen.responseBytes < fault.afterBytes) return;
    answer.destroy();
    if (fault.then === 'reset') response.socket?.destroy();
  });
}
