import avro from 'avsc';

/** Avro's timestamp-millis as a JavaScript Date (avsc leaves logical types to the application). */
export class TimestampMillis extends avro.types.LogicalType {
  protected override _fromValue(millis: number): Date {
    return new Date(millis);
  }

  protected override _toValue(date: unknown): number | undefined {
    return date instanceof Date ? date.getTime() : undefined;
  }

  protected override _resolve(type: avro.Type): ((value: number) => Date) | undefined {
    if (avro.Type.isType(type, 'long', 'logical:timestamp-millis')) return (millis) => this._fromValue(millis);
    return undefined;
  }
}

/** Parses a schema with the logical types this project uses. */
export function avroType(schema: avro.Schema): avro.Type {
  return avro.Type.forSchema(schema, { logicalTypes: { 'timestamp-millis': TimestampMillis } });
}
