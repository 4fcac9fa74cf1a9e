import { readFileSync } from 'node:fs';
import { KAFKA_SASL_MECHANISMS, type KafkaSaslMechanism, type KafkaSecurity } from '../bus/kafka/kafka-bus.js';
import { UsageError } from './usage.js';

export const kafkaSecurityUsage = `  --kafka-tls        connect to Kafka over TLS (the system's CAs); --kafka-ca FILE trusts the
                     PEM certificates of FILE instead (and implies --kafka-tls)
  --kafka-sasl-mechanism M  plain, scram-sha-256 or scram-sha-512, with --kafka-username U and
                     the password from HRRR_EMBED_KAFKA_PASSWORD (never logged; a command line
                     is visible to every user of the machine)`;

export interface KafkaSecurityValues {
  kafka?: string | undefined;
  kafkaTls: boolean;
  kafkaCa?: string | undefined;
  kafkaSaslMechanism?: string | undefined;
  kafkaUsername?: string | undefined;
  kafkaPassword?: string | undefined;
}

type SecurityKey = 'kafka' | 'kafkaTls' | 'kafkaCa' | 'kafkaSaslMechanism' | 'kafkaUsername' | 'kafkaPassword';

/** TLS and SASL for the Kafka client, checked: each setting names what is wrong by where it came from (`origin`). */
export function kafkaSecurityOption(values: KafkaSecurityValues, origin: (key: SecurityKey) => string, usage: string): KafkaSecurity | undefined {
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
