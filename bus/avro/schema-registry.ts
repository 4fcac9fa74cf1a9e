/**
 * A client for the HTTP API of a Confluent-compatible schema registry (Confluent Schema Registry,
 * Karapace, Apicurio's ccompat API): register a schema under a subject, look one up, fetch a schema
 * by id. Ids never change meaning, so what is learnt is cached for the client's lifetime.
 */
export type Compatibility = 'BACKWARD' | 'BACKWARD_TRANSITIVE' | 'FORWARD' | 'FORWARD_TRANSITIVE' | 'FULL' | 'FULL_TRANSITIVE' | 'NONE';

export class SchemaRegistryError extends Error {
  override readonly name = 'SchemaRegistryError';
  constructor(
    readonly status: number,
    /** The registry's own code, e.g. 40401 subject not found, 40403 schema not found, 409 incompatible. */
    readonly errorCode: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** A registry holds Protobuf and JSON Schema schemas too, under ids of the same sequence as Avro's. */
export interface RegisteredSchema {
  /** AVRO, PROTOBUF or JSON. */
  type: string;
  text: string;
}

const mediaType = 'application/vnd.schemaregistry.v1+json';

export class SchemaRegistryClient {
  private readonly ids = new Map<string, Promise<number>>();
  private readonly schemas = new Map<number, Promise<RegisteredSchema>>();
  private readonly base: string;
  private readonly authorization: string | undefined;

  /**
   * `url` may hold credentials, https://KEY:SECRET@host (percent-encoded), for a registry that wants
   * them (Confluent Cloud's API key): they are sent as HTTP Basic, which fetch will not do from the
   * URL itself, and are left out of `url` and of every message.
   */
  constructor(url: string) {
    // Checked here: otherwise a wrong URL fails only at the first record, after everything started.
    const parsed = /^https?:\/\/[^/]/.test(url) && URL.canParse(url) ? new URL(url) : undefined;
    if (!parsed) throw new Error(`schema registry URL ${JSON.stringify(url.replace(/\/\/[^/]*@/, '//…@'))} is not an http:// or https:// URL`);
    if (parsed.username || parsed.password) {
      let credentials;
      try {
        credentials = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
      } catch {
        throw new Error('schema registry URL: its KEY:SECRET is not percent-encoded');
      }
      this.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
      parsed.username = parsed.password = '';
    }
    this.base = parsed.href.replace(/\/+$/, '');
  }

  get url(): string {
    return this.base;
  }

  /** Registers the schema under the subject (a no-op if it is there) and gives its id. */
  register(subject: string, schema: object | string): Promise<number> {
    const text = schemaText(schema);
    return this.cachedId(`register\u0000${subject}\u0000${text}`, async () => {
      const { id } = await this.request<{ id: number }>('POST', `/subjects/${encodeURIComponent(subject)}/versions`, { schema: text });
      return id;
    });
  }

  /** The id of a schema already registered under the subject; a SchemaRegistryError (404) if it is not. */
  lookup(subject: string, schema: object | string): Promise<number> {
    const text = schemaText(schema);
    return this.cachedId(`lookup\u0000${subject}\u0000${text}`, async () => {
      const { id } = await this.request<{ id: number }>('POST', `/subjects/${encodeURIComponent(subject)}`, { schema: text });
      return id;
    });
  }

  /** The schema registered with this id: its type and its text (JSON for Avro). */
  schemaById(id: number): Promise<RegisteredSchema> {
    let schema = this.schemas.get(id);
    if (!schema) {
      // A registry leaves out the type of an Avro schema, the first it could hold.
      schema = this.request<{ schemaType?: string; schema: string }>('GET', `/schemas/ids/${id}`).then((answer) => ({ type: answer.schemaType ?? 'AVRO', text: answer.schema }));
      this.schemas.set(id, schema);
      schema.catch(() => this.schemas.delete(id));
    }
    return schema;
  }

  /** Sets the compatibility rule the registry enforces when a new version of the subject is registered. */
  async setCompatibility(subject: string, compatibility: Compatibility): Promise<void> {
    await this.request('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility });
  }

  /** Whether the registry would accept the schema as the subject's next version. */
  async isCompatible(subject: string, schema: object | string): Promise<boolean> {
    const answer = await this.request<{ is_compatible: boolean }>('POST', `/compatibility/subjects/${encodeURIComponent(subject)}/versions/latest`, { schema: schemaText(schema) });
    return answer.is_compatible;
  }

  private cachedId(cacheKey: string, fetchId: () => Promise<number>): Promise<number> {
    let id = this.ids.get(cacheKey);
    if (!id) {
      id = fetchId();
      this.ids.set(cacheKey, id);
      id.catch(() => this.ids.delete(cacheKey));
    }
    return id;
  }

  private async request<T>(method: string, path: string, body?: object): Promise<T> {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: { accept: mediaType, ...(body ? { 'content-type': mediaType } : {}), ...(this.authorization && { authorization: this.authorization }) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    }).catch((error: Error) => {
      // fetch says only "fetch failed"; its cause says why (ECONNREFUSED, a name not found).
      throw new Error(`schema registry ${this.base} cannot be reached (${method} ${path}): ${(error.cause as Error | undefined)?.message ?? error.message}`, { cause: error });
    });
    const text = await response.text();
    let answer: unknown;
    try {
      answer = text ? JSON.parse(text) : {};
    } catch {
      answer = { message: text };
    }
    if (!response.ok) {
      const { error_code: errorCode, message } = answer as { error_code?: number; message?: string };
      throw new SchemaRegistryError(response.status, errorCode, `schema registry ${method} ${path}: ${response.status} ${message ?? response.statusText}`);
    }
    return answer as T;
  }
}

function schemaText(schema: object | string): string {
  return typeof schema === 'string' ? schema : JSON.stringify(schema);
}
