import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import avro from 'avsc';

/**
 * A schema registry on loopback that answers the Confluent Schema Registry HTTP API as its
 * documentation describes it (register, lookup, schema by id, per-subject compatibility, the
 * compatibility check), enforcing BACKWARD compatibility against the latest version. No real
 * registry can be installed here from the package registries this project reaches; this stands in
 * for one, and counts the requests so tests can see the client's caching.
 */
export class FakeSchemaRegistry {
  readonly requests: string[] = [];
  private readonly schemas: string[] = [];
  private readonly subjects = new Map<string, number[]>();
  private readonly compatibility = new Map<string, string>();
  private server: Server | undefined;
  url = '';

  /** With `credentials`, every request must carry them as HTTP basic authentication, or is answered 401 as Confluent's registry does. */
  constructor(private readonly credentials?: { user: string; password: string }) {}

  async start(): Promise<void> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { schema?: string; compatibility?: string }) : {};
    const path = new URL(request.url!, 'http://x').pathname;
    this.requests.push(`${request.method} ${path}`);
    const reply = (status: number, answer: object) => {
      response.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
      response.end(JSON.stringify(answer));
    };
    if (this.credentials) {
      const expected = `Basic ${Buffer.from(`${this.credentials.user}:${this.credentials.password}`).toString('base64')}`;
      if (request.headers.authorization !== expected) return reply(401, { error_code: 401, message: 'Unauthorized' });
    }
    let match: RegExpMatchArray | null;
    if (request.method === 'POST' && (match = path.match(/^\/subjects\/([^/]+)\/versions$/))) {
      const subject = decodeURIComponent(match[1]!);
      const canonical = canonicalText(body.schema!);
      const versions = this.subjects.get(subject) ?? [];
      const existing = versions.find((id) => this.schemas[id - 1] === canonical);
      if (existing) return reply(200, { id: existing });
      if (!this.readsLatest(subject, body.schema!)) return reply(409, { error_code: 409, message: 'Schema being registered is incompatible with an earlier schema' });
      let id = this.schemas.indexOf(canonical) + 1;
      if (id === 0) id = this.schemas.push(canonical);
      this.subjects.set(subject, [...versions, id]);
      return reply(200, { id });
    }
    if (request.method === 'POST' && (match = path.match(/^\/subjects\/([^/]+)$/))) {
      const subject = decodeURIComponent(match[1]!);
      const versions = this.subjects.get(subject);
      if (!versions) return reply(404, { error_code: 40401, message: `Subject '${subject}' not found.` });
      const canonical = canonicalText(body.schema!);
      const index = versions.findIndex((id) => this.schemas[id - 1] === canonical);
      if (index < 0) return reply(404, { error_code: 40403, message: 'Schema not found' });
      return reply(200, { subject, id: versions[index], version: index + 1, schema: this.schemas[versions[index]! - 1] });
    }
    if (request.method === 'GET' && (match = path.match(/^\/schemas\/ids\/(\d+)$/))) {
      const schema = this.schemas[Number(match[1]) - 1];
      return schema ? reply(200, { schema }) : reply(404, { error_code: 40403, message: 'Schema not found' });
    }
    if (request.method === 'PUT' && (match = path.match(/^\/config\/([^/]+)$/))) {
      this.compatibility.set(decodeURIComponent(match[1]!), body.compatibility!);
      return reply(200, { compatibility: body.compatibility });
    }
    if (request.method === 'POST' && (match = path.match(/^\/compatibility\/subjects\/([^/]+)\/versions\/latest$/))) {
      return reply(200, { is_compatible: this.readsLatest(decodeURIComponent(match[1]!), body.schema!) });
    }
    reply(404, { error_code: 404, message: `no route ${request.method} ${path}` });
  }

  /** BACKWARD (the registry's default): the new schema can read what the latest version wrote. */
  private readsLatest(subject: string, schema: string): boolean {
    const versions = this.subjects.get(subject);
    if (!versions?.length || this.compatibility.get(subject) === 'NONE') return true;
    try {
      avro.Type.forSchema(JSON.parse(schema)).createResolver(avro.Type.forSchema(JSON.parse(this.schemas[versions.at(-1)! - 1]!)));
      return true;
    } catch {
      return false;
    }
  }
}

function canonicalText(schema: string): string {
  return JSON.stringify(JSON.parse(schema));
}
