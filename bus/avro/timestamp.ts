import avro from 'avsc';

/** The farthest a JavaScript Date reaches from 1970, either way (years -271821 to 275760). */
const DATE_LIMIT_MS = 8.64e15;

/**
 * The Date of `millis`, or a RangeError for a time no Date can hold: an Invalid Date would pass
 * for a time until something formats it (toISOString throws), and a trainer that logged a
 * request's time so ended on it, and on it again at each restart.
 */
function dateAt(millis: number, written: string): Date {
  if (!(Math.abs(millis) <= DATE_LIMIT_MS)) throw new RangeError(`${written} is beyond the times a JavaScript Date holds (years -271821 to 275760)`);
  return new Date(millis);
}

/** Avro's timestamp-millis as a JavaScript Date (avsc leaves logical types to the application). */
export class TimestampMillis extends avro.types.LogicalType {
  protected override _fromValue(millis: number): Date {
    return dateAt(millis, `timestamp-millis ${millis}`);
  }

  protected override _toValue(date: unknown): number | undefined {
    return date instanceof Date ? date.getTime() : undefined;
  }

  protected override _resolve(type: avro.Type): ((value: number | Date) => Date) | undefined {
    if (avro.Type.isType(type, 'logical:timestamp-millis', 'logical:timestamp-micros')) return (date) => date as Date;
    if (avro.Type.isType(type, 'long')) return (millis) => this._fromValue(millis as number);
    return undefined;
  }
}

/**
 * Avro's timestamp-micros, as other stacks write times (Python's datetime, Java's Instant), read as
 * the Date of its millisecond (the microseconds dropped, rounding down). Without it avsc reads
 * the field as a plain long, and a topic's timestamp-millis reader took it for milliseconds: a time
 * 1000 times as far from 1970.
 */
export class TimestampMicros extends avro.types.LogicalType {
  protected override _fromValue(micros: number): Date {
    return dateAt(Math.floor(micros / 1000), `timestamp-micros ${micros}`);
  }

  protected override _toValue(date: unknown): number | undefined {
    return date instanceof Date ? date.getTime() * 1000 : undefined;
  }

  protected override _resolve(type: avro.Type): ((value: number | Date) => Date) | undefined {
    if (avro.Type.isType(type, 'logical:timestamp-millis', 'logical:timestamp-micros')) return (date) => date as Date;
    if (avro.Type.isType(type, 'long')) return (micros) => this._fromValue(micros as number);
    return undefined;
  }
}

/** Parses a schema with the logical types this project uses or meets in others' records. */
export function avroType(schema: avro.Schema): avro.Type {
  return avro.Type.forSchema(schema, { logicalTypes: { 'timestamp-millis': TimestampMillis, 'timestamp-micros': TimestampMicros } });
}
