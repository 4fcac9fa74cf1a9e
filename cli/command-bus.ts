import { AvroCodec } from '../bus/avro/codec.js';
import { SchemaRegistryClient } from '../bus/avro/schema-registry.js';
import { topicNames, type TopicBus, type TopicRole } from '../bus/bus.js';
import { openBus } from '../bus/open.js';
import { kafkaSecurityFromFlags, readerKafkaRetries, type KafkaSecurityFlagValues } from './kafka-security.js';
import { optionOrUsage, UsageError } from './usage.js';

/** The bus options of the commands that write a record or two for a service to hear (model promote, request-retrain), for parseArgs. */
export const commandBusFlags = {
  data: { type: 'string' },
  kafka: { type: 'string' },
  registry: { type: 'string' },
  'registry-lookup-only': { type: 'boolean' },
  'topic-prefix': { type: 'string' },
} as const;

export interface CommandBusOptions extends KafkaSecurityFlagValues {
  data?: string | undefined;
  kafka?: string | undefined;
  registry?: string | undefined;
  'registry-lookup-only'?: boolean | undefined;
  'topic-prefix'?: string | undefined;
}

/**
 * The bus and codec a command writes to, opened as the trainer opens them (the topic prefix, the
 * schema registry), with the schemas of `roles` registered (or, lookup only, found) before
 * anything is written; none without --data or --kafka. A broker that does not answer fails it
 * after readerKafkaRetries tries: a person waits for it. `purpose` ("announcing") names what the
 * bus is for in the error about a bus option given without a bus.
 */
export async function openCommandBus(options: CommandBusOptions, roles: TopicRole[], purpose: string, usage: string): Promise<{ bus: TopicBus; codec: AvroCodec } | undefined> {
  if (options.data !== undefined && options.kafka !== undefined) throw new UsageError('--data and --kafka name two buses: give one', usage);
  const kafkaSecurity = kafkaSecurityFromFlags(options, process.env, usage);
  if (options.data === undefined && options.kafka === undefined) {
    const given = (['registry', 'registry-lookup-only', 'topic-prefix', 'kafka-client-id'] as const).find((option) => options[option] !== undefined);
    if (given !== undefined) throw new UsageError(`--${given} is for ${purpose}: give --data or --kafka`, usage);
    return undefined;
  }
  if (options['registry-lookup-only'] && options.registry === undefined) throw new UsageError('--registry-lookup-only needs --registry', usage);
  const topics = optionOrUsage('--topic-prefix', usage, () => topicNames(options['topic-prefix']));
  const registry = options.registry === undefined ? undefined : optionOrUsage('--registry', usage, () => new SchemaRegistryClient(options.registry!));
  const bus = optionOrUsage('--kafka', usage, () =>
    openBus({ ...(options.data !== undefined && { data: options.data }), ...(options.kafka !== undefined && { kafka: options.kafka }), ...(options['kafka-client-id'] !== undefined && { kafkaClientId: options['kafka-client-id'] }), ...(kafkaSecurity && { kafkaSecurity }), kafkaRetries: readerKafkaRetries }),
  );
  try {
    const codec = await AvroCodec.create({ topics, ...(registry && { registry, lookupOnly: options['registry-lookup-only'] ?? false }) });
    await codec.registerSchemas(roles);
    return { bus, codec };
  } catch (error) {
    await bus.close();
    throw error;
  }
}
