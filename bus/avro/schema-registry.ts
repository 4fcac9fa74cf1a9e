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

export interface SchemaRegistryOptions {
  /** How long one request may take, its answer's body included; default 30 s. */
  timeoutMs?: number;
}

const mediaType = 'application/vnd.schemaregistry.v1+json';

/**
 * The most an answer may have. A schema is one record of the registry's _schemas topic (1 MB at
 * most by Kafka's default), so this is only reached by something else than a registry answering.
 */
const maxAnswerBytes = 4 * 1024 * 1024;

export class SchemaRegistryClient {
  private readonly ids = new Map<string, Promise<number>>();
  private readonly schemas = new Map<number, Promise<RegisteredSchema>>();
  private readonly base: string;
  private readonly authorization: string | undefined;
  private readonly timeoutMs: number;

  /**
   * `url` may hold credentials, https://KEY:SECRET@host (percent-encoded), for a registry that wants
   * them (Confluent Cloud's API key): they are sent as HTTP Basic, which fetch will not do from the
   * URL itself, and are left out of `url` and of every message.
   */
  constructor(url: string, options: SchemaRegistryOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
    // Checked here: otherwise a wrong URL fails only at the first record, after everything started.
    const parsed = /^https?:\/\/[^/]/.test(url) && URL.canParse(url) ? new URL(url) : undefined;
    if (!parsed) {
      // Up to the last '@': a secret pasted as it is may hold '/' (Confluent Cloud's do), which ends a URL's authority.
      const shown = url.replace(/\/\/.*@/, '//…@');
      const hint = shown === url ? '' : ' (a KEY:SECRET in it must be percent-encoded: encodeURIComponent)';
      throw new Error(`schema registry URL ${JSON.stringify(shown)} is not an http:// or https:// URL${hint}`);
    }
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
    return this.cachedId(`register\u0000${subject}\u0000${text}`, () => {
      return this.request('POST', `/subjects/${encodeURIComponent(subject)}/versions`, { schema: text }, schemaId);
    });
  }

  /** The id of a schema already registered under the subject; a SchemaRegistryError (404) if it is not. */
  lookup(subject: string, schema: object | string): Promise<number> {
    const text = schemaText(schema);
    return this.cachedId(`lookup\u0000${subject}\u0000${text}`, () => {
      return this.request('POST', `/subjects/${encodeURIComponent(subject)}`, { schema: text }, schemaId);
    });
  }

  /** The schema registered with this id: its type and its text (JSON for Avro). */
  schemaById(id: number): Promise<RegisteredSchema> {
    let schema = this.schemas.get(id);
    if (!schema) {
      schema = this.request('GET', `/schemas/ids/${id}`, undefined, registeredSchema);
      this.schemas.set(id, schema);
      schema.catch(() => this.schemas.delete(id));
    }
    return schema;
  }

  /** Sets the compatibility rule the registry enforces when a new version of the subject is registered. */
  async setCompatibility(subject: string, compatibility: Compatibility): Promise<void> {
    await this.request('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility }, compatibilityRule);
  }

  /** Whether the registry would accept the schema as the subject's next version. */
  async isCompatible(subject: string, schema: object | string): Promise<boolean> {
    return this.request('POST', `/compatibility/subjects/${encodeURIComponent(subject)}/versions/latest`, { schema: schemaText(schema) }, compatibilityVerdict);
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

  private async request<T>(method: string, path: string, body: object | undefined, expected: Expected<T>): Promise<T> {
    // One deadline for the answer and its body: a registry that never answers, or dribbles, holds no reader for long.
    const deadline = AbortSignal.timeout(this.timeoutMs);
    const orTimeout = (error: Error) => (deadline.aborted ? new Error(`schema registry ${this.base} did not answer ${method} ${path} within ${this.timeoutMs / 1000} s`, { cause: error }) : error);
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: { accept: mediaType, ...(body ? { 'content-type': mediaType } : {}), ...(this.authorization && { authorization: this.authorization }) },
      ...(body ? { body: JSON.stringify(body) } : {}),
      signal: deadline,
    }).catch((error: Error) => {
      if (deadline.aborted) throw orTimeout(error);
      // fetch says only "fetch failed"; its cause says why (ECONNREFUSED, a name not found).
      throw new Error(`schema registry ${this.base} cannot be reached (${method} ${path}): ${(error.cause as Error | undefined)?.message ?? error.message}`, { cause: error });
    });
    const text = await boundedText(response, `schema registry ${this.base} ${method} ${path}`).catch((error: Error) => {
      throw orTimeout(error);
    });
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
    // A 200 from something else than the registry (a proxy's page, another service at the URL) must not pass for an answer.
    const value = answer !== null && typeof answer === 'object' ? expected.read(answer as Record<string, unknown>) : undefined;
    if (value === undefined) throw new Error(`schema registry ${this.base} ${method} ${path}: answered ${response.status} with no ${expected.what}: ${text.slice(0, 200)}`);
    return value;
  }
}

/** What an answer must hold: `read` gives it, or undefined when the answer lacks it. */
interface Expected<T> {
  what: string;
  read(answer: Record<string, unknown>): T | undefined;
}

const schemaId: Expected<number> = {
  what: 'schema id',
  // Confluent's wire format has 4 bytes for it.
  read: ({ id }) => (Number.isInteger(id) && (id as number) >= 0 && (id as number) <= 0xffffffff ? (id as number) : undefined),
};

const registeredSchema: Expected<RegisteredSchema> = {
  what: 'schema',
  // A registry leaves out the type of an Avro schema, the first it could hold.
  read: ({ schemaType = 'AVRO', schema }) => (typeof schemaType === 'string' && typeof schema === 'string' ? { type: schemaType, text: schema } : undefined),
};

const compatibilityVerdict: Expected<boolean> = {
  what: 'is_compatible',
  read: ({ is_compatible: verdict }) => (typeof verdict === 'boolean' ? verdict : undefined),
};

const compatibilityRule: Expected<string> = {
  what: 'compatibility',
  read: ({ compatibility }) => (typeof compatibility === 'string' ? compatibility : undefined),
};

/** The answer's body as text; an error once it passes `maxAnswerBytes`, read no further. */
async function boundedText(response: Response, where: string): Promise<string> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  // Leaving the loop by the throw cancels the body: the connection is dropped, not read to its end.
  for await (const chunk of response.body ?? []) {
    length += chunk.byteLength;
    if (length > maxAnswerBytes) throw new Error(`${where}: answered more than ${maxAnswerBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function schemaText(schema: object | string): string {
  return typeof schema === 'string' ? schema : JSON.stringify(schema);
}
