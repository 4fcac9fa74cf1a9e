import { readFileSync } from 'node:fs';
import { KAFKA_SASL_MECHANISMS, type KafkaSaslMechanism, type KafkaSecurity } from '../bus/kafka/kafka-bus.js';
import { UsageError } from './usage.js';

export const kafkaSecurityUsage = `  --kafka-client-id ID  how it names itself to the brokers, for quotas and ACLs (default hrrr-embed)
  --kafka-tls        connect to Kafka over TLS (the system's CAs); --kafka-ca FILE trusts the
                     PEM certificates of FILE instead (and implies --kafka-tls)
  --kafka-sasl-mechanism M  plain, scram-sha-256 or scram-sha-512, with --kafka-username U and
                     the password from HRRR_EMBED_KAFKA_PASSWORD (never logged; a command line
                     is visible to every user of the machine)`;

export interface KafkaSecurityValues {
  kafka?: string | undefined;
  kafkaClientId?: string | undefined;
  kafkaTls: boolean;
  kafkaCa?: string | undefined;
  kafkaSaslMechanism?: string | undefined;
  kafkaUsername?: string | undefined;
  kafkaPassword?: string | undefined;
}

type SecurityKey = 'kafka' | 'kafkaClientId' | 'kafkaTls' | 'kafkaCa' | 'kafkaSaslMechanism' | 'kafkaUsername' | 'kafkaPassword';

/** TLS and SASL for the Kafka client, checked with its client id: each setting names what is wrong by where it came from (`origin`). */
export function kafkaSecurityOption(values: KafkaSecurityValues, origin: (key: SecurityKey) => string, usage: string): KafkaSecurity | undefined {
  // The brokers would take a client with no name, and quotas, ACLs and their logs go by it.
  if (values.kafkaClientId?.trim() === '') throw new UsageError(`${origin('kafkaClientId')}: an empty client id names no client: give one, or leave it out for hrrr-embed`, usage);
  const given = (['kafkaTls', 'kafkaCa', 'kafkaSaslMechanism', 'kafkaUsername', 'kafkaPassword'] as const).filter((key) => (key === 'kafkaTls' ? values.kafkaTls : values[key] !== undefined));
  if (given.length === 0) return undefined;
  if (values.kafka === undefined) throw new UsageError(`${given.map((key) => origin(key)).join(', ')}: only for --kafka`, usage);
  const security: KafkaSecurity = {};
  if (values.kafkaCa !== undefined) security.tls = { ca: certificates(values.kafkaCa, origin('kafkaCa'), usage) };
  else if (values.kafkaTls) security.tls = {};
  const { kafkaSaslMechanism: mechanism, kafkaUsername: username, kafkaPassword: password } = values;
  if (mechanism === undefined) {
    if (username !== undefined || password !== undefined) throw new UsageError(`${origin(username !== undefined ? 'kafkaUsername' : 'kafkaPassword')} needs --kafka-sasl-mechanism`, usage);
    return security;
  }
  if (!(KAFKA_SASL_MECHANISMS as readonly string[]).includes(mechanism)) throw new UsageError(`${origin('kafkaSaslMechanism')}: ${JSON.stringify(mechanism)} is not one of ${KAFKA_SASL_MECHANISMS.join(', ')}`, usage);
  if (username === undefined || password === undefined) throw new UsageError(`${origin('kafkaSaslMechanism')} needs --kafka-username and a password (HRRR_EMBED_KAFKA_PASSWORD)`, usage);
  security.sasl = { mechanism: mechanism as KafkaSaslMechanism, username, password };
  return security;
}

/**
 * How often tail, similar and reconstruct retry a Kafka request: a person waits for them, so a
 * broker that does not answer fails them after 6 tries, about 10 s of kafkajs's backoff (0.3 s,
 * doubling), where `run`, a service, keeps trying for 2 minutes.
 */
export const readerKafkaRetries = 5;

/** The same, and the client id, for the commands whose options are plain flags (tail, similar, reconstruct), for parseArgs. */
export const kafkaSecurityFlags = {
  'kafka-client-id': { type: 'string' },
  'kafka-tls': { type: 'boolean', default: false },
  'kafka-ca': { type: 'string' },
  'kafka-sasl-mechanism': { type: 'string' },
  'kafka-username': { type: 'string' },
} as const;

export interface KafkaSecurityFlagValues {
  kafka?: string | undefined;
  'kafka-client-id'?: string | undefined;
  'kafka-tls'?: boolean | undefined;
  'kafka-ca'?: string | undefined;
  'kafka-sasl-mechanism'?: string | undefined;
  'kafka-username'?: string | undefined;
}

/** TLS and SASL from kafkaSecurityFlags (the client id checked), the password from HRRR_EMBED_KAFKA_PASSWORD in `env`. */
export function kafkaSecurityFromFlags(flags: KafkaSecurityFlagValues, env: NodeJS.ProcessEnv, usage: string): KafkaSecurity | undefined {
  const values = {
    kafka: flags.kafka,
    kafkaClientId: flags['kafka-client-id'],
    kafkaTls: flags['kafka-tls'] ?? false,
    kafkaCa: flags['kafka-ca'],
    kafkaSaslMechanism: flags['kafka-sasl-mechanism'],
    kafkaUsername: flags['kafka-username'],
    kafkaPassword: env.HRRR_EMBED_KAFKA_PASSWORD,
  };
  return kafkaSecurityOption(values, (key) => (key === 'kafkaPassword' ? 'HRRR_EMBED_KAFKA_PASSWORD' : `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`), usage);
}

function certificates(file: string, label: string, usage: string): string {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${label}: cannot read ${file}: ${(error as Error).message}`, usage);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`${label}: ${file} holds no PEM certificate`, usage);
  return text;
}
