import type { BusConsumer, ConsumedRecord } from '../../bus/bus.js';
import type { StageContext } from '../stage.js';
import { hourlyAnalysis, timeOfKey, type HrrrProduct } from './hrrr-archive.js';
import { ObjectEventError, parseObjectCreated } from './object-events.js';
import type { Wakeup } from './wakeup.js';

export interface ObjectEventWakeupsConfig {
  /** A consumer of the topic the object-created events arrive on (S3 notifications, plain or SNS-wrapped). */
  consumer: BusConsumer;
  product?: HrrrProduct;
  /** Discovery's wake-up: poked for each event that names an analysis of the product. */
  wakeup: Wakeup;
  /** Where a malformed event goes (the dead-letters topic); it must resolve once the letter is kept. */
  deadLetter: (record: ConsumedRecord, error: ObjectEventError) => Promise<void>;
}

/**
 * Drives discovery by object-created events instead of its poll interval alone: each event that
 * names a GRIB2 object or .idx of the product makes discovery look at once. Every event is
 * committed after it is handled; a malformed one is committed after its dead letter is kept, so it
 * never blocks the events behind it. Runs until the context's signal aborts.
 */
export async function followObjectEvents({ consumer, product = hourlyAnalysis, wakeup, deadLetter }: ObjectEventWakeupsConfig, { log, signal }: StageContext): Promise<void> {
  for await (const record of consumer.records(signal)) {
    try {
      const analyses = parseObjectCreated(record.value).filter((created) => timeOfKey(created.key, product) !== undefined);
      if (analyses.length > 0) {
        log.debug({ keys: analyses.map((created) => created.key) }, 'object-created event: looking now');
        wakeup.poke();
      }
    } catch (error) {
      if (!(error instanceof ObjectEventError)) throw error;
      log.warn({ topic: record.topic, partition: record.partition, offset: record.offset, err: error.message }, 'malformed object-created event: dead letter');
      await deadLetter(record, error);
    }
    await consumer.commit(record);
  }
}
