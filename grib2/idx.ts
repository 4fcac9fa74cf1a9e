/**
 * NCEP's .idx sidecar files, one line per GRIB2 message as wgrib2 writes them:
 * `N:BYTE_OFFSET:d=YYYYMMDDHH:VAR:LEVEL:FORECAST:` (more fields may follow).
 */
export interface IdxEntry {
  /** 1-based line number in the file. */
  line: number;
  /** Message number as written: "5", or "5.2" for the second field of message 5. */
  messageNumber: string;
  offset: number;
  referenceTime: Date;
  variable: string;
  level: string;
  forecast: string;
  /** The line as written, for matching with regular expressions. */
  text: string;
}

/** An HTTP-style byte range: `end` is inclusive, undefined for "to the end of the object". */
export interface ByteRange {
  start: number;
  end: number | undefined;
  entries: IdxEntry[];
}

export class IdxFormatError extends Error {
  override readonly name = 'IdxFormatError';
  constructor(readonly line: number, detail: string) {
    super(`.idx line ${line}: ${detail}`);
  }
}

const LINE = /^(\d+(?:\.\d+)?):(\d+):d=(\d{4})(\d{2})(\d{2})(\d{2}):([^:]*):([^:]*):([^:]*)(?::|$)/;

export function parseIdx(text: string): IdxEntry[] {
  const entries: IdxEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    if (raw.trim() === '') return;
    const match = LINE.exec(raw);
    if (!match) throw new IdxFormatError(i + 1, `not "N:OFFSET:d=YYYYMMDDHH:VAR:LEVEL:FORECAST:" but ${JSON.stringify(raw.slice(0, 120))}`);
    const [, messageNumber, offset, year, month, day, hour, variable, level, forecast] = match;
    if (!Number.isSafeInteger(Number(offset))) throw new IdxFormatError(i + 1, `offset ${offset!.slice(0, 40)}${offset!.length > 40 ? '...' : ''} is not a byte offset`);
    const referenceTime = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour)));
    if (Number(hour) > 23 || referenceTime.getUTCMonth() !== Number(month) - 1 || referenceTime.getUTCDate() !== Number(day)) {
      throw new IdxFormatError(i + 1, `d=${year}${month}${day}${hour} is not a date and hour`);
    }
    const entry: IdxEntry = {
      line: i + 1,
      messageNumber: messageNumber!,
      offset: Number(offset),
      referenceTime,
      variable: variable!,
      level: level!,
      forecast: forecast!,
      text: raw,
    };
    const previous = entries.at(-1);
    if (previous && entry.offset < previous.offset) {
      throw new IdxFormatError(entry.line, `offset ${entry.offset} is before the previous line's ${previous.offset}`);
    }
    entries.push(entry);
  });
  if (entries.length === 0) throw new IdxFormatError(1, 'no lines: an .idx lists at least one message');
  return entries;
}

/**
 * The byte ranges of the messages whose lines match `search` (e.g. /:REFC:entire atmosphere:/).
 * A message runs to the byte before the next message's offset; the last one to the end of the
 * object (`objectSize` - 1 when known). Fields of one message (N.1, N.2) make one range.
 */
export function selectRanges(entries: IdxEntry[], search: RegExp, objectSize?: number): ByteRange[] {
  const matcher = new RegExp(search.source, search.flags.replace("g", ""));
  const offsets = [...new Set(entries.map((entry) => entry.offset))];
  // A map, not offsets.indexOf per line: that made an .idx of a million matching lines a hang.
  const nextOffset = new Map(offsets.map((offset, i) => [offset, offsets[i + 1]]));
  const ranges = new Map<number, ByteRange>();
  for (const entry of entries) {
    if (!matcher.test(entry.text)) continue;
    const existing = ranges.get(entry.offset);
    if (existing) {
      existing.entries.push(entry);
      continue;
    }
    const next = nextOffset.get(entry.offset);
    const end = next !== undefined ? next - 1 : objectSize !== undefined ? objectSize - 1 : undefined;
    ranges.set(entry.offset, { start: entry.offset, end, entries: [entry] });
  }
  return [...ranges.values()];
}
