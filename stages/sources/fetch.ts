import { readIndicator, selectRanges } from '../../grib2/index.js';
import type { ByteRange, ObjectStore } from '../../store/object-store.js';
import type { Stage } from '../stage.js';
import type { Analysis, GribBytes } from '../types.js';

export interface FetchConfig {
  store: ObjectStore;
  /** The .idx lines of the messages to read, e.g. /:REFC:entire atmosphere:anl:/. */
  match: RegExp;
}

/**
 * The most bytes read in one piece: HRRR's largest files (wrfnat) are about 700 MB, and a piece is
 * held in memory whole. An object, or an .idx range, past this is refused before it is read.
 */
const MAX_PIECE_BYTES = 2 ** 30;

/** What arrived is not what the object should hold: bad input, never retried. */
export class InvalidObjectError extends Error {
  override readonly name = 'InvalidObjectError';
}

/**
 * Analysis -> the GRIB2 messages that match, read by the byte ranges its .idx gives (adjacent
 * ranges merged into one request), or, with no .idx, the whole object. Each piece is checked
 * before it goes on: whole messages back to back, each with "GRIB", edition 2, its declared
 * length and "7777". An .idx whose ranges hold no such messages (written for another upload of
 * the object, or another field list) is treated as unreadable: the object is read whole.
 */
export function createFetchStage({ store, match }: FetchConfig): Stage<Analysis, GribBytes> {
  return {
    name: 'fetch',
    async *process(analysis, { log, signal }) {
      const location = `${analysis.store}/${analysis.key}`;
      const whole = { start: 0, end: analysis.size - 1 };
      const read = async (range: Required<ByteRange>) => {
        const where = `${location} bytes ${range.start}-${range.end}`;
        const length = range.end - range.start + 1;
        if (length > MAX_PIECE_BYTES) {
          throw new InvalidObjectError(`${where}: ${length} bytes to read at once, more than the ${MAX_PIECE_BYTES} a piece may have (the largest HRRR files hold about 700 MB): not read`);
        }
        const bytes = await store.get(analysis.key, { range, signal });
        if (bytes.length !== length) {
          throw new InvalidObjectError(`${where}: ${bytes.length} of ${length} bytes arrived: the object is shorter than its .idx says (truncated?)`);
        }
        log.debug({ key: analysis.key, range, bytes: bytes.length }, 'fetched');
        return { piece: { source: { store: analysis.store, key: analysis.key, range }, bytes }, where };
      };
      if (!analysis.idx) {
        log.warn({ key: analysis.key }, 'no readable .idx: reading the whole object');
        const { piece, where } = await read(whole);
        checkWholeMessages(piece.bytes, where);
        yield piece;
        return;
      }
      const ranges = mergeAdjacent(selectRanges(analysis.idx.entries, match, analysis.size).map(({ start, end }) => ({ start, end: end! })));
      if (ranges.length === 0) throw new InvalidObjectError(`${location}: no line of its .idx matches ${match}`);
      // All ranges are checked before any goes on, so that a whole read does not repeat a piece.
      const pieces: GribBytes[] = [];
      for (const range of ranges) {
        const { piece, where } = await read(range);
        try {
          checkWholeMessages(piece.bytes, where);
        } catch (error) {
          if (range.start === whole.start && range.end === whole.end) throw error;
          log.warn({ key: analysis.key, idx: analysis.idx.key, err: (error as Error).message }, 'the .idx does not match the object: reading the whole object');
          const { piece: all, where: everywhere } = await read(whole);
          checkWholeMessages(all.bytes, everywhere);
          yield all;
          return;
        }
        pieces.push(piece);
      }
      yield* pieces;
    },
  };
}

function mergeAdjacent(ranges: Required<ByteRange>[]): Required<ByteRange>[] {
  const merged: Required<ByteRange>[] = [];
  for (const range of [...ranges].sort((a, b) => a.start - b.start)) {
    const last = merged.at(-1);
    if (last && range.start <= last.end + 1) last.end = Math.max(last.end, range.end);
    else merged.push({ ...range });
  }
  return merged;
}

/** Throws an InvalidObjectError unless `bytes` is whole GRIB2 messages back to back. */
function checkWholeMessages(bytes: Uint8Array, where: string): void {
  try {
    for (let offset = 0; offset < bytes.length; ) offset += readIndicator(bytes, offset).length;
  } catch (error) {
    throw new InvalidObjectError(`${where}: ${(error as Error).message}`, { cause: error });
  }
}
