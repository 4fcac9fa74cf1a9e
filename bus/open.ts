import type { StageLogger } from '../stages/stage.js';
import type { TopicBus } from './bus.js';
import { FileBus } from './files/file-bus.js';
import { KafkaBus, type KafkaSecurity } from './kafka/kafka-bus.js';

/** Where the embedded bus keeps its topics when no folder is named. */
export const defaultDataFolder = '.work/data';

export interface BusLocation {
  /** The embedded bus's data folder. */
  data?: string;
  /** Kafka's bootstrap brokers, "HOST:PORT[,HOST:PORT...]"; wins over `data`. */
  kafka?: string;
  /** How the Kafka client names itself to the brokers (default hrrr-embed). */
  kafkaClientId?: string;
  /** TLS and SASL for `kafka`. */
  kafkaSecurity?: KafkaSecurity;
  /** How many times a failed Kafka request, a connection first, is retried (KafkaBusOptions.retries). */
  kafkaRetries?: number;
  log?: StageLogger;
}

/** The bus a location names: Kafka when brokers are given, else the files under the data folder. */
export function openBus({ data, kafka, kafkaClientId, kafkaSecurity, kafkaRetries, log }: BusLocation): TopicBus {
  if (kafka !== undefined) {
    const brokers = kafkaBrokers(kafka);
    return new KafkaBus({ brokers, ...(kafkaClientId !== undefined && { clientId: kafkaClientId }), ...(kafkaSecurity && { security: kafkaSecurity }), ...(kafkaRetries !== undefined && { retries: kafkaRetries }), ...(log ? { log } : {}) });
  }
  return new FileBus(data ?? defaultDataFolder);
}

/** The brokers `--kafka` names (HOST:PORT[,HOST:PORT...]); an error saying what is wrong with any other text. */
export function kafkaBrokers(kafka: string): string[] {
  // A broker address has no '@': this is a connection string's user and password, which the error below would repeat.
  if (kafka.includes('@')) {
    const shown = kafka.replace(/^([a-z][a-z0-9+._-]*:\/\/)?.*@/i, '$1***@');
    throw new Error(`the brokers "${shown}" hold a user and password: give them as --kafka-sasl-mechanism, --kafka-username and the password in HRRR_EMBED_KAFKA_PASSWORD (HRRR_EMBED_TRAINER_KAFKA_PASSWORD for retrain and trainer), never in the brokers`);
  }
  const brokers = kafka.split(',').map((broker) => broker.trim()).filter(Boolean);
  if (brokers.length === 0 || brokers.some((broker) => !/^[^:\s]+:\d+$/.test(broker))) throw new Error(`${JSON.stringify(kafka)} is not HOST:PORT[,HOST:PORT...]`);
  // kafkajs would try such a port as long as any broker that does not answer.
  const badPort = brokers.map((broker) => Number(broker.slice(broker.lastIndexOf(':') + 1))).find((port) => port < 1 || port > 65535);
  if (badPort !== undefined) throw new Error(`${JSON.stringify(kafka)}: port ${badPort} is not one from 1 to 65535`);
  return brokers;
}
