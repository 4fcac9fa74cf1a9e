import { AvroCodec } from '../bus/avro/codec.js';
import { SchemaRegistryClient } from '../bus/avro/schema-registry.js';
import { topicNames } from '../bus/bus.js';
import { defaultDataFolder, openBus } from '../bus/open.js';
import type { Embedding } from '../bus/records.js';
import type { StageLogger } from '../stages/stage.js';
import { fileBusQuiet, kafkaQuiet, readEmbeddings } from '../search/embeddings.js';
import { findEmbedding } from '../search/similar.js';
import { kafkaSecurityFlags, kafkaSecurityFromFlags, readerKafkaRetries, type KafkaSecurityFlagValues } from './kafka-security.js';
import { hourOption } from './sources.js';
import { optionOrUsage, UsageError } from './usage.js';

/** The options of the commands that look embeddings up on the embeddings topic. */
export const embeddingsTopicOptions = {
  time: { type: 'string' },
  field: { type: 'string', default: 'REFC' },
  'model-version': { type: 'string' },
  data: { type: 'string' },
  kafka: { type: 'string' },
  'topic-prefix': { type: 'string', default: '' },
  registry: { type: 'string' },
  ...kafkaSecurityFlags,
} as const;

export const embeddingsTopicHelp = `  --time T             the analysis's valid time, e.g. 2019-09-20T05Z (required)
  --field F            the field: REFC (default), or as an .idx line names it ("REFC:entire atmosphere:anl")
  --model-version V    the embedding of this model version, when several embedded that hour
                       (default: the one published last)
  --data DIR           the embedded bus's data folder (default ${defaultDataFolder})
  --kafka HOST:PORT    read the topic from Kafka instead; when no broker answers, it fails after
                       6 tries, about 10 s
  --kafka-client-id ID, --kafka-tls, --kafka-ca FILE, --kafka-sasl-mechanism M, --kafka-username U
                       the client id, TLS and SASL as for run, the password from HRRR_EMBED_KAFKA_PASSWORD
  --topic-prefix P     the topics' prefix, as \`run\` was given it (default none)
  --registry URL       a Confluent-compatible schema registry, for records in its wire format`;

export interface EmbeddingsTopicValues extends KafkaSecurityFlagValues {
  time?: string | undefined;
  field: string;
  'model-version'?: string | undefined;
  data?: string | undefined;
  kafka?: string | undefined;
  'topic-prefix': string;
  registry?: string | undefined;
}

/** Every embedding on the topic (latest per field, hour and model; unreadable records skipped, with a warning on `log`) and the one --time, --field and --model-version name. */
export async function lookUpEmbedding(values: EmbeddingsTopicValues, usage: string, log: StageLogger): Promise<{ query: Embedding; embeddings: Embedding[] }> {
  if (values.time === undefined) throw new UsageError('--time is required', usage);
  const validTime = hourOption('--time', values.time, usage);
  if (values.data !== undefined && values.kafka !== undefined) throw new UsageError('--data and --kafka name two buses: give one', usage);
  const topics = optionOrUsage('--topic-prefix', usage, () => topicNames(values['topic-prefix']));
  const registry = values.registry === undefined ? undefined : optionOrUsage('--registry', usage, () => new SchemaRegistryClient(values.registry!));
  const kafkaSecurity = kafkaSecurityFromFlags(values, process.env, usage);
  let bus;
  try {
    bus = openBus({ ...(values.data !== undefined && { data: values.data }), ...(values.kafka !== undefined && { kafka: values.kafka }), ...(values['kafka-client-id'] !== undefined && { kafkaClientId: values['kafka-client-id'] }), ...(kafkaSecurity && { kafkaSecurity }), kafkaRetries: readerKafkaRetries, log });
  } catch (error) {
    throw new UsageError(`--kafka: ${(error as Error).message}`, usage);
  }
  try {
    const codec = await AvroCodec.create({ topics, ...(registry && { registry }) });
    const embeddings = await readEmbeddings(bus, codec, { ...(values.kafka === undefined ? fileBusQuiet : kafkaQuiet), log });
    const field = fieldOf(values.field, embeddings);
    const query = findEmbedding(embeddings, { field, validTime, ...(values['model-version'] !== undefined && { modelVersion: values['model-version'] }) });
    return { query, embeddings };
  } finally {
    await bus.close();
  }
}

/** "REFC" names the field "REFC:entire atmosphere:anl" when that is the only REFC field on the topic. */
function fieldOf(given: string, embeddings: readonly Embedding[]): string {
  const fields = [...new Set(embeddings.map((e) => e.field))];
  if (fields.includes(given)) return given;
  const candidates = fields.filter((field) => field.startsWith(`${given}:`));
  if (candidates.length > 1) throw new Error(`--field ${given} could be any of ${candidates.map((f) => JSON.stringify(f)).join(', ')}: name one`);
  return candidates[0] ?? given;
}
