import type { BusConsumer, ConsumedRecord, OutgoingRecord } from '../../bus/bus.js';

/** The first `count` records the consumer delivers; fails after `timeoutMs` rather than hanging. */
export async function take(consumer: BusConsumer, count: number, timeoutMs = 60_000): Promise<ConsumedRecord[]> {
  const taken: ConsumedRecord[] = [];
  const signal = AbortSignal.timeout(timeoutMs);
  if (count > 0) {
    for await (const record of consumer.records(signal)) {
      taken.push(record);
      if (taken.length === count) break;
    }
  }
  if (taken.length < count) throw new Error(`got ${taken.length} of ${count} records within ${timeoutMs} ms`);
  return taken;
}

/** Records whose key and value are the text given, for tests that only care about order. */
export function textRecords(texts: string[], key?: (text: string) => string): OutgoingRecord[] {
  return texts.map((text) => ({ key: key ? Buffer.from(key(text)) : null, value: Buffer.from(text) }));
}

export function text(bytes: Uint8Array | null): string | null {
  return bytes === null ? null : Buffer.from(bytes).toString('utf8');
}

export function numbered(prefix: string, count: number, from = 0): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${from + i}`);
}
