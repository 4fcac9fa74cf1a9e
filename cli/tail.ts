import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { AvroCodec } from '../bus/avro/codec.js';
import { SchemaRegistryClient } from '../bus/avro/schema-registry.js';
import { SkippingDecoder } from '../bus/avro/skipping-decoder.js';
import { requireTopic } from '../bus/bus.js';
import { defaultDataFolder, openBus } from '../bus/open.js';
import { kafkaSecurityFlags, kafkaSecurityFromFlags, readerKafkaRetries } from './kafka-security.js';
import { commandLogger } from './sources.js';
import { optionOrUsage, UsageError } from './usage.js';

export const tailUsage = `usage: hrrr-embed tail TOPIC [--data DIR | --kafka HOST:PORT] [--from-beginning] [--max N] [--registry URL]

Prints the records of TOPIC as they arrive, one JSON line each: topic, partition, offset,
timestamp, and the key and value decoded from Avro (with the schemas in schemas/, or the schema
registry's). Runs until N records were printed, or until interrupted. A record that is not Avro
of a known schema is skipped with a warning on stderr naming its partition and offset, and the
count of those skipped comes last. Commits nothing: tailing a topic moves no consumer group.
A TOPIC the bus does not have is an error naming the topics it has (\`run\` creates its topics).

  --data DIR          the embedded bus's data folder (default ${defaultDataFolder})
  --kafka HOST:PORT   read from Kafka instead (several brokers: HOST:PORT,HOST:PORT); when no
                      broker answers, it fails after 6 tries, about 10 s
  --kafka-client-id ID, --kafka-tls, --kafka-ca FILE, --kafka-sasl-mechanism M, --kafka-username U
                      the client id, TLS and SASL as for run, the password from HRRR_EMBED_KAFKA_PASSWORD
  --from-beginning    start at the topic's first record (default: only records from now on)
  --max N             stop after N records
  --registry URL      a Confluent-compatible schema registry, for records in its wire format`;

export async function tailCommand(args: string[], out: (line: string) => void): Promise<void> {
  const { values: options, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      data: { type: 'string' },
      kafka: { type: 'string' },
      'from-beginning': { type: 'boolean', default: false },
      max: { type: 'string' },
      registry: { type: 'string' },
      ...kafkaSecurityFlags,
    },
  });
  if (positionals.length !== 1) throw new UsageError('tail takes exactly one TOPIC', tailUsage);
  if (options.data !== undefined && options.kafka !== undefined) throw new UsageError('--data and --kafka name two buses: give one', tailUsage);
  const max = options.max === undefined ? Infinity : Number(options.max);
  if (!(Number.isInteger(max) && max >= 1) && max !== Infinity) throw new UsageError(`--max: ${options.max} is not a whole number of at least 1`, tailUsage);
  const topic = positionals[0]!;

  const kafkaSecurity = kafkaSecurityFromFlags(options, process.env, tailUsage);
  const codec = await AvroCodec.create(options.registry === undefined ? {} : { registry: optionOrUsage('--registry', tailUsage, () => new SchemaRegistryClient(options.registry!)) });
  const log = commandLogger(false);
  let bus;
  try {
    bus = openBus({ ...(options.data !== undefined ? { data: options.data } : {}), ...(options.kafka !== undefined ? { kafka: options.kafka } : {}), ...(options['kafka-client-id'] !== undefined && { kafkaClientId: options['kafka-client-id'] }), ...(kafkaSecurity && { kafkaSecurity }), kafkaRetries: readerKafkaRetries, log });
  } catch (error) {
    throw new UsageError(`--kafka: ${(error as Error).message}`, tailUsage);
  }
  const decoder = new SkippingDecoder(codec, log);
  const interrupted = new AbortController();
  const interrupt = () => interrupted.abort();
  try {
    await requireTopic(bus, topic);
    // Only from here: while no broker has answered there is nothing to close, and Ctrl-C ends the
    // tail at once, as it ends any command, instead of once kafkajs's tries run out.
    process.once('SIGINT', interrupt);
    process.once('SIGTERM', interrupt);
    // A group of its own that never commits: the tail reads where --from-beginning says, every time.
    const consumer = bus.consumer({ group: `hrrr-embed-tail-${randomUUID()}`, topics: [topic], fromBeginning: options['from-beginning'] });
    let printed = 0;
    for await (const record of consumer.records(interrupted.signal)) {
      const decoded = await decoder.decode(record);
      if (!decoded) continue;
      out(JSON.stringify({ topic, partition: record.partition, offset: record.offset, timestamp: record.timestamp, ...decoded }));
      if (++printed >= max) break;
    }
  } finally {
    decoder.logSkipped(topic);
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    await bus.close();
  }
}
