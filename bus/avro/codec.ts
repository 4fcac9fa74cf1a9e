import { createHash } from 'node:crypto';
import type avro from 'avsc';
import { checkBlockCounts } from './block-counts.js';
import { defaultTopics, topicNames, type ConsumedRecord, type Headers, type OutgoingRecord, type TopicRole } from '../bus.js';
import type { TopicRecords } from '../records.js';
import { loadPastSchemas, loadTopicSchemas, type TopicSchemas } from './schema-files.js';
import { SchemaRegistryError, type SchemaRegistryClient } from './schema-registry.js';
import { avroType } from './timestamp.js';

type Part = 'key' | 'value';

/**
 * Without a registry, each record carries the SHA-256 fingerprint of its writer schema's parsing
 * canonical form in these headers (the Avro specification's schema fingerprint).
 */
export const fingerprintHeaders: Record<Part, string> = { key: 'avro.key.schema-sha256', value: 'avro.value.schema-sha256' };

/** Confluent's wire format: magic byte 0, the schema's registry id (4 bytes, big-endian), the Avro body. */
const confluentMagic = 0;
const confluentHeaderBytes = 5;

/**
 * A record no retry will read: bytes that are not Avro of their writer schema, or a writer schema
 * this codec cannot have. Other errors of `decode` (a registry that cannot be reached) may pass.
 */
export class UnreadableRecordError extends Error {
  override readonly name: string = 'UnreadableRecordError';
}

export class UnknownSchemaError extends UnreadableRecordError {
  override readonly name = 'UnknownSchemaError';
}

export interface AvroCodecOptions {
  /** Topic names by role; default the default names with no prefix. */
  topics?: Record<TopicRole, string>;
  /** With a registry: Confluent wire format, schemas registered under TOPIC-key and TOPIC-value. */
  registry?: SchemaRegistryClient;
  /**
   * With a registry: look the current schemas up under their subjects, never register them (a
   * registry where writers may not register, as Confluent's auto.register.schemas=false).
   */
  lookupOnly?: boolean;
  /** The current schemas by role; default schemas/. */
  schemas?: Record<TopicRole, TopicSchemas>;
  /** Older writer schemas still to be read; default schemas/past/. */
  pastSchemas?: avro.Schema[];
}

interface Writer {
  type: avro.Type;
  fingerprint: string;
  /**
   * SHA-256 of the schema as avsc reads it, logical types included. The fingerprint leaves them out
   * (the parsing canonical form has none), so a foreign timestamp-micros field and the topic's
   * timestamp-millis share one: reading the first as the second took microseconds for milliseconds.
   */
  readAs: string;
}

/**
 * Turns topic records into Avro bytes and back. Records are read with the current schema of
 * their topic, whatever compatible schema they were written with: the writer schema comes from the
 * registry (by the id in the bytes) or from the schemas this codec knows (by the fingerprint in the
 * headers), and avsc resolves it to the reader's.
 */
export class AvroCodec {
  private readonly roles = new Map<string, TopicRole>();
  private readonly current = new Map<TopicRole, Record<Part, Writer & { schema: avro.Schema }>>();
  private readonly known = new Map<string, Writer>();
  private readonly readAs = new Map<string, Writer>();
  private readonly byId = new Map<number, Promise<Writer>>();
  private readonly resolvers = new Map<string, avro.Resolver>();

  private constructor(
    readonly topics: Record<TopicRole, string>,
    schemas: Record<TopicRole, TopicSchemas>,
    pastSchemas: avro.Schema[],
    private readonly registry: SchemaRegistryClient | undefined,
    private readonly lookupOnly: boolean,
  ) {
    for (const [role, topic] of Object.entries(topics) as Array<[TopicRole, string]>) {
      this.roles.set(topic, role);
      const { key, value } = schemas[role];
      this.current.set(role, { key: { ...this.learn(key), schema: key }, value: { ...this.learn(value), schema: value } });
    }
    for (const schema of pastSchemas) this.learn(schema);
  }

  static async create(options: AvroCodecOptions = {}): Promise<AvroCodec> {
    const [schemas, past] = await Promise.all([options.schemas ?? loadTopicSchemas(), options.pastSchemas ?? loadPastSchemas()]);
    return new AvroCodec(options.topics ?? topicNames(), schemas, past, options.registry, options.lookupOnly ?? false);
  }

  /** The record for a topic, with its key and value in Avro, ready for bus.produce(topic, ...). */
  async encode<R extends TopicRole>(role: R, key: TopicRecords[R]['key'], value: TopicRecords[R]['value'], timestamp?: Date): Promise<{ topic: string; record: OutgoingRecord }> {
    const topic = this.topics[role];
    const schemas = this.current.get(role)!;
    const headers: Headers = {};
    const [keyBytes, valueBytes] = await Promise.all([this.encodePart(role, 'key', schemas.key, key, headers), this.encodePart(role, 'value', schemas.value, value, headers)]);
    return { topic, record: { key: keyBytes, value: valueBytes, headers, ...(timestamp ? { timestamp } : {}) } };
  }

  /**
   * Registers the current key and value schemas of these topics, as their first records would (a
   * no-op without a registry; lookup only, finds them). A registry that refuses one (its
   * compatibility rule), or lacks one, then fails the command at its start, not at the topic's
   * first record, which may come days later for dead letters, or after hours of training for a
   * promotion.
   */
  async registerSchemas(roles: TopicRole[]): Promise<Array<{ subject: string; id: number; file: string }>> {
    if (!this.registry) return [];
    const registered = [];
    for (const role of roles) {
      const schemas = this.current.get(role)!;
      for (const part of ['key', 'value'] as const) {
        registered.push({ subject: `${this.topics[role]}-${part}`, id: await this.registered(role, part, schemas[part].schema), file: schemaFile(role, part) });
      }
    }
    return registered;
  }

  /**
   * A consumed record's key and value, read with its topic's current schemas (or, on a topic this
   * codec has no schema for, with the writer's).
   */
  async decode(record: Pick<ConsumedRecord, 'topic' | 'key' | 'value' | 'headers'>): Promise<{ key: unknown; value: unknown }> {
    const [key, value] = await Promise.all([
      record.key === null ? null : this.decodePart(record.topic, 'key', record.key, record.headers),
      this.decodePart(record.topic, 'value', record.value, record.headers),
    ]);
    return { key, value };
  }

  /** Adds a writer schema this codec can read records of; gives its parsed type and fingerprint. */
  learn(schema: avro.Schema): Writer {
    const type = avroType(schema);
    const readAs = createHash('sha256').update(JSON.stringify(type.schema({ exportAttrs: true }))).digest('hex');
    const known = this.readAs.get(readAs);
    if (known) return known;
    const writer = { type, fingerprint: type.fingerprint('sha256').toString('hex'), readAs };
    this.readAs.set(readAs, writer);
    if (!this.known.has(writer.fingerprint)) this.known.set(writer.fingerprint, writer);
    return writer;
  }

  private async encodePart(role: TopicRole, part: Part, writer: Writer & { schema: avro.Schema }, value: unknown, headers: Headers): Promise<Buffer> {
    const body = writer.type.toBuffer(wellFormed(value));
    if (!this.registry) {
      headers[fingerprintHeaders[part]] = Buffer.from(writer.fingerprint, 'hex');
      return body;
    }
    const id = await this.registered(role, part, writer.schema);
    const framed = Buffer.allocUnsafe(confluentHeaderBytes + body.length);
    framed.writeUInt8(confluentMagic, 0);
    framed.writeUInt32BE(id, 1);
    body.copy(framed, confluentHeaderBytes);
    return framed;
  }

  private async decodePart(topic: string, part: Part, bytes: Uint8Array, headers: Headers): Promise<unknown> {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const { writer, body } = await this.writerOf(topic, part, buffer, headers);
    const role = this.roles.get(topic);
    const reader = role ? this.current.get(role)![part] : writer;
    if (reader.readAs === writer.readAs) {
      return readBody(topic, part, () => {
        checkBlockCounts(writer.type, body);
        return reader.type.fromBuffer(body);
      });
    }
    const id = `${writer.readAs}>${reader.readAs}`;
    let resolver = this.resolvers.get(id);
    if (!resolver) {
      try {
        resolver = reader.type.createResolver(writer.type);
      } catch (error) {
        throw new UnknownSchemaError(`${topic} ${part}: written with a schema the current one cannot read (${(error as Error).message})`, { cause: error });
      }
      this.resolvers.set(id, resolver);
    }
    return readBody(topic, part, () => {
      checkBlockCounts(writer.type, body);
      return reader.type.fromBuffer(body, resolver);
    });
  }

  private async writerOf(topic: string, part: Part, bytes: Buffer, headers: Headers): Promise<{ writer: Writer; body: Buffer }> {
    const fingerprint = headers[fingerprintHeaders[part]];
    if (fingerprint) {
      const hex = Buffer.from(fingerprint).toString('hex');
      const writer = this.known.get(hex);
      if (!writer) throw new UnknownSchemaError(`${topic} ${part}: ${unknownWriter(hex, this.roles.get(topic), part)}`);
      return { writer, body: bytes };
    }
    if (this.registry && bytes.length >= confluentHeaderBytes && bytes[0] === confluentMagic) {
      const id = bytes.readUInt32BE(1);
      const writer = await this.writerById(id).catch((error: unknown) => {
        if (error instanceof SchemaRegistryError && error.status === 404) throw new UnknownSchemaError(`${topic} ${part}: schema id ${id} is not in the registry`, { cause: error });
        if (error instanceof UnknownSchemaError) throw new UnknownSchemaError(`${topic} ${part}: ${error.message}`, { cause: error });
        throw error;
      });
      return { writer, body: bytes.subarray(confluentHeaderBytes) };
    }
    throw new UnknownSchemaError(`${topic} ${part}: no ${fingerprintHeaders[part]} header${this.registry ? ' and no Confluent magic byte' : ' (with a schema registry configured, Confluent framing would be read)'}`);
  }

  /** The registry's id of a current schema, registered (or, lookup only, found) under TOPIC-key or TOPIC-value (Confluent's TopicNameStrategy). */
  private async registered(role: TopicRole, part: Part, schema: avro.Schema): Promise<number> {
    const subject = `${this.topics[role]}-${part}`;
    const file = schemaFile(role, part);
    try {
      return await (this.lookupOnly ? this.registry!.lookup(subject, schema) : this.registry!.register(subject, schema));
    } catch (error) {
      if (this.lookupOnly && error instanceof SchemaRegistryError && error.status === 404) {
        throw new Error(`schema registry ${this.registry!.url} has no ${file} under subject ${JSON.stringify(subject)} (${error.errorCode ?? 404}), and lookup only registers nothing: register the topics' schemas first (hrrr-embed schemas register)`, { cause: error });
      }
      if (!(error instanceof SchemaRegistryError && error.status === 409)) throw error;
      throw new Error(`schema registry ${this.registry!.url} refuses ${file} as the next version of subject ${JSON.stringify(subject)} (409): incompatible with its earlier versions under the subject's compatibility rule (${error.message})`, { cause: error });
    }
  }

  private writerById(id: number): Promise<Writer> {
    let writer = this.byId.get(id);
    if (!writer) {
      writer = this.registry!.schemaById(id).then(({ type, text }) => {
        // A record of a Protobuf or JSON Schema serializer sharing the registry: no retry reads it here.
        if (type !== 'AVRO') throw new UnknownSchemaError(`schema id ${id} is a ${type} schema, not Avro`);
        try {
          return this.learn(JSON.parse(text) as avro.Schema);
        } catch (error) {
          throw new UnknownSchemaError(`schema id ${id} is not an Avro schema this codec can read (${(error as Error).message})`, { cause: error });
        }
      });
      this.byId.set(id, writer);
      writer.catch(() => this.byId.delete(id));
    }
    return writer;
  }
}

/**
 * The value with each lone surrogate of its strings replaced by U+FFFD. Avro strings are UTF-8,
 * and avsc writes a lone surrogate of a short string as the bytes of its UTF-16 code unit, which a
 * strict UTF-8 decoder (fastavro's and Python's avro by default) refuses: the whole record is unreadable there.
 */
function wellFormed(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(loneSurrogate, '\ufffd');
  if (Array.isArray(value)) return value.map(wellFormed);
  if (value && Object.getPrototypeOf(value) === Object.prototype) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, wellFormed(item)]));
  return value;
}

const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function readBody<T>(topic: string, part: Part, read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw new UnreadableRecordError(`${topic} ${part}: not Avro of its writer schema (${(error as Error).message})`, { cause: error });
  }
}

/**
 * Without a registry a reader knows only its own build's schemas: a fingerprint it lacks is most
 * often a later build's schema, met after a rollback or while old and new builds both run.
 */
function unknownWriter(fingerprint: string, role: TopicRole | undefined, part: Part): string {
  const files = role ? `${schemaFile(role, part)} nor one of schemas/past/` : 'a schema of schemas/ nor one of schemas/past/';
  return `written with a schema this build does not know (SHA-256 ${fingerprint}), neither ${files}: written by a later build of hrrr-embed (read it with that build) or by another writer`;
}

function schemaFile(role: TopicRole, part: Part): string {
  return `schemas/${defaultTopics[role]}.${part}.avsc`;
}
