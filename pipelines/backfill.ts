import { writeIdx } from '../grib2/index.js';
import type { ObjectStore } from '../store/object-store.js';
import type { StageContext } from '../stages/stage.js';
import type { DecodedField } from '../stages/types.js';
import { runIngest, type IngestConfig, type IngestEvent, type IngestSummary, type IngestedAnalysis } from './ingest.js';
import type { LeaseKind } from '../store/lease.js';

export interface BackfillConfig extends Omit<IngestConfig, 'state' | 'progressKey' | 'to' | 'once'> {
  to: Date;
  /** Where the selected messages are kept, in the bucket's layout, with an .idx each; progress is kept here too. */
  out: ObjectStore;
  onEvent?: (event: IngestEvent) => void;
}

export const BACKFILL_PROGRESS_KEY = 'progress/backfill.json';

/** Held by the backfill that keeps BACKFILL_PROGRESS_KEY: two at once each overwrite the other's record, losing the hours it did. */
export const BACKFILL_LEASE: LeaseKind = { folder: 'progress/backfill-lease/', holder: 'backfill', of: `${BACKFILL_PROGRESS_KEY} in this --out` };

/**
 * The ingest stages over a range of hours, many analyses at once: each analysis's selected
 * messages (REFC by default), checked and decoded, are written to the output store under the
 * same key with a fresh .idx, so the output is a small mirror of the archive that the other
 * pipelines can read instead. Hours already done (by progress) are skipped.
 */
export function runBackfill(config: BackfillConfig, context: StageContext): Promise<IngestSummary> {
  const { out, onEvent, ...ingest } = config;
  return runIngest(
    { ...ingest, state: out, progressKey: BACKFILL_PROGRESS_KEY },
    { deliver: (result) => writeMirror(out, result), ...(onEvent && { onEvent }) },
    context,
  );
}

/** Writes the decoded fields' messages, once each and in order, and their .idx (first, as NOAA does). */
async function writeMirror(out: ObjectStore, { analysis, fields }: IngestedAnalysis): Promise<void> {
  const messages = new Map<string, { bytes: Uint8Array; fields: DecodedField[] }>();
  for (const decoded of fields) {
    const { source, field } = decoded;
    const id = `${source.range?.start ?? 0}+${field.message.offset}`;
    const piece = messages.get(id);
    if (piece) piece.fields.push(decoded);
    else messages.set(id, { bytes: decoded.field.packed.bytes.subarray(field.message.offset, field.message.offset + field.message.length), fields: [decoded] });
  }
  let offset = 0;
  const lines = [];
  for (const { bytes, fields: messageFields } of messages.values()) {
    const { identification, parameter, product } = messageFields[0]!.field;
    lines.push({ offset, referenceTime: identification.referenceTime, variable: parameter.shortName, level: product.level, forecast: product.forecast });
    offset += bytes.length;
  }
  const body = new Uint8Array(offset);
  offset = 0;
  for (const { bytes } of messages.values()) body.set(bytes, offset), (offset += bytes.length);
  await out.put(`${analysis.key}.idx`, new TextEncoder().encode(writeIdx(lines)), { contentType: 'text/plain' });
  await out.put(analysis.key, body, { contentType: 'application/octet-stream' });
}
