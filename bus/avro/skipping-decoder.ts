/**
 * Decoding for the readers of a topic (`tail`, search): a record that is not Avro of a schema the
 * codec knows (an UnreadableRecordError: garbage, a record cut short, an unknown writer schema) is
 * passed over with a warning naming where it is and why, and counted, so that one bad record does
 * not hide the good ones after it. Any other error (a schema registry out of reach) still ends the
 * reading: the records after it would fail alike.
 */
import type { ConsumedRecord } from '../bus.js';
import type { StageLogger } from '../../stages/stage.js';
import { UnreadableRecordError, type AvroCodec } from './codec.js';

export class SkippingDecoder {
  private skipped = 0;

  constructor(
    private readonly codec: AvroCodec,
    private readonly log: StageLogger,
  ) {}

  /** The record's key and value, or undefined when it is unreadable (logged and counted). */
  async decode(record: ConsumedRecord): Promise<{ key: unknown; value: unknown } | undefined> {
    const where = `${record.topic}/${record.partition} offset ${record.offset}`;
    try {
      return await this.codec.decode(record);
    } catch (error) {
      if (!(error instanceof UnreadableRecordError)) throw new Error(`${where}: ${(error as Error).message}`, { cause: error });
      this.skipped++;
      this.log.warn({ topic: record.topic, partition: record.partition, offset: record.offset, reason: error.message }, `skipped ${where}: ${error.message}`);
      return undefined;
    }
  }

  /** Logs how many records of `topic` were skipped, when any were: for the end of a reading. */
  logSkipped(topic: string): void {
    if (this.skipped === 0) return;
    this.log.warn({ topic, skipped: this.skipped }, `${this.skipped} unreadable record${this.skipped === 1 ? '' : 's'} of ${topic} skipped`);
  }
}
