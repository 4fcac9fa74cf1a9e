import { IdxFormatError, parseIdx, type IdxEntry } from '../../grib2/index.js';
import { ObjectNotFoundError, StoreError } from '../../store/errors.js';
import type { ObjectInfo, ObjectStore } from '../../store/object-store.js';
import { abortableSleep } from '../../store/retrying.js';
import type { Source, StageContext } from '../stage.js';
import type { Analysis } from '../types.js';
import { floorHour, formatHour, gribKey, HOUR_MS, hourlyAnalysis, idxKey, type HrrrProduct } from './hrrr-archive.js';

export interface DiscoveryConfig {
  store: ObjectStore;
  product?: HrrrProduct;
  /** The first hour to look for. */
  from: Date;
  /** The last hour to look for; none: follow new analyses as they are published, without end. */
  to?: Date;
  /** Look once at what is there, then end (hours not there yet are left for the next run). */
  once?: boolean;
  /** Hours already done (by an earlier run): skipped. */
  isDone?: (time: Date) => boolean;
  /** Told of each hour declared a gap. */
  onGap?: (time: Date) => void | Promise<void>;
  /** How long to wait between looks when nothing new came. Default 30 s. */
  pollIntervalMs?: number;
  /** An hour still missing this long after its cycle time, with a later hour there (or the range ended), is a gap. Default 3 h. */
  gapAfterMs?: number;
  /** A GRIB2 object with no readable .idx is taken whole once it has stayed the same this long (NOAA writes the .idx first). Default 2 min. */
  idxWaitMs?: number;
  /** Hours looked at in one pass: bounds the requests of a pass. Default 48. */
  lookaheadHours?: number;
  /** Hours looked at at once (each look is a listing and an .idx read); they still come in order. Default 8. */
  lookConcurrency?: number;
  clock?: () => number;
  /** Ends discovery at the next analysis or wait, without an error: the graceful way to stop. */
  stop?: AbortSignal;
}

/** GRIB2's section 0: "GRIB", discipline, edition and the message's length in its last 8 bytes. */
const INDICATOR_BYTES = 16;
/** HRRR's longest .idx (wrfnat) is well under 1 MB; one past this limit, held and parsed whole, is not read: the object is read without it. */
const MAX_IDX_BYTES = 4 * 2 ** 20;

/** `waiting`: the GRIB2 object is there without a readable .idx and has not stayed the same for the wait for one: no gap, whenever its hour. */
type Look = { state: 'complete'; analysis: Analysis } | { state: 'absent' } | { state: 'waiting' } | { state: 'incomplete'; why: string; analysis: Analysis };

/**
 * Finds each analysis of the product in the store as it becomes complete: the GRIB2 object is
 * there and holds every message its .idx lists, or, with no readable .idx, has stayed the same for
 * the wait for one (it is then read whole). Hours come in time order; an hour that shows up late,
 * or waits for its .idx, comes when it does. An hour that never shows up is reported as a gap,
 * never waited on forever: later hours are not held back by it.
 */
export function createDiscoverySource(config: DiscoveryConfig): Source<Analysis> {
  const {
    store,
    product = hourlyAnalysis,
    to,
    once = false,
    isDone = () => false,
    onGap = () => {},
    pollIntervalMs = 30_000,
    gapAfterMs = 3 * HOUR_MS,
    idxWaitMs = 120_000,
    lookaheadHours = 48,
    lookConcurrency = 8,
    clock = Date.now,
    stop,
  } = config;
  const from = floorHour(config.from.getTime());
  if (from !== config.from.getTime()) throw new RangeError(`discovery starts on the hour, not at ${config.from.toISOString()}`);

  /**
   * Waiting objects dated ahead of the clock (a store whose clock is ahead, a file dated ahead): the
   * size and write time they were first seen with, and when. An entry goes with its object's next
   * look that is not `waiting`: there are never more than lookaheadHours.
   */
  const datedAhead = new Map<string, { size: number; written: number; since: number }>();

  /**
   * How long the object has been as it is: by its write time, or, dated ahead, since it was first
   * seen with this size and write time. One still being copied onto a server whose clock is ahead
   * is dated ahead at each write: taken at once, part of it was read.
   */
  function unchangedFor(grib: ObjectInfo): number {
    const now = clock();
    const written = grib.lastModified.getTime();
    if (written <= now) return now - written;
    const seen = datedAhead.get(grib.key);
    if (seen?.size === grib.size && seen.written === written) return now - seen.since;
    datedAhead.set(grib.key, { size: grib.size, written, since: now });
    return 0;
  }

  async function look(hour: number, context: StageContext): Promise<Look> {
    const time = new Date(hour);
    const key = gribKey(time, product);
    const found = new Map<string, ObjectInfo>();
    for await (const info of store.list(key, { signal: context.signal })) found.set(info.key, info);
    const grib = found.get(key);
    const idxInfo = found.get(idxKey(time, product));
    const read = grib && idxInfo ? await readIdx(idxInfo, context) : undefined;
    const withoutIdx = !read || 'unreadable' in read;
    if (grib && withoutIdx && unchangedFor(grib) < idxWaitMs) return { state: 'waiting' };
    datedAhead.delete(key);
    if (!grib) return { state: 'absent' };
    if (withoutIdx) {
      // Said once, as the object is taken whole: not at each look while it waits for an .idx that may yet be rewritten.
      if (read) context.log.warn(read.unreadable.details, read.unreadable.message);
      return { state: 'complete', analysis: { time, store: store.url, key, size: grib.size } };
    }
    const last = read.entries.at(-1)!;
    const analysis = { time, store: store.url, key, size: grib.size, idx: read };
    if (last.offset >= grib.size) return { state: 'incomplete', why: `its .idx lists a message at byte ${last.offset}, the object has ${grib.size} bytes`, analysis };
    // A file still being copied into a folder holds the start of its last message but not all of it.
    const lastEnd = await messageEnd(key, last.offset, grib.size, context);
    if (lastEnd > grib.size) return { state: 'incomplete', why: `its last message, at byte ${last.offset}, runs to byte ${lastEnd}, the object has ${grib.size} bytes`, analysis };
    return { state: 'complete', analysis };
  }

  /**
   * Where the message at `offset` ends, by the length its indicator section declares; the
   * object's size when the bytes there are no GRIB2 message or cannot be read: the fetch stage
   * reads the object next and says what is wrong with it, or leaves it for the next run.
   */
  async function messageEnd(key: string, offset: number, size: number, context: StageContext): Promise<number> {
    if (size - offset < INDICATOR_BYTES) return offset + INDICATOR_BYTES;
    let bytes;
    try {
      bytes = await store.get(key, { range: { start: offset, end: offset + INDICATOR_BYTES - 1 }, signal: context.signal });
    } catch (error) {
      if (error instanceof StoreError) return size;
      throw error;
    }
    if (new TextDecoder().decode(bytes.subarray(0, 4)) !== 'GRIB' || bytes.length < INDICATOR_BYTES) return size;
    return offset + Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(8));
  }

  /** The .idx's lines; what makes it unreadable (for a warning once the object is taken whole without it); nothing when it is gone. */
  async function readIdx({ key, size }: ObjectInfo, context: StageContext): Promise<{ key: string; entries: IdxEntry[] } | { unreadable: { details: object; message: string } } | undefined> {
    if (size > MAX_IDX_BYTES) {
      return { unreadable: { details: { key, bytes: size, limit: MAX_IDX_BYTES }, message: `unreadable .idx: ${size} bytes, more than any .idx of HRRR holds; the whole object will be read` } };
    }
    try {
      const bytes = await store.get(key, { signal: context.signal });
      return { key, entries: parseIdx(new TextDecoder().decode(bytes)) };
    } catch (error) {
      if (error instanceof ObjectNotFoundError) return undefined;
      if (error instanceof IdxFormatError) return { unreadable: { details: { key, err: error.message }, message: 'unreadable .idx: the whole object will be read' } };
      throw error;
    }
  }

  return {
    name: 'discover',
    async *run(context) {
      const resolved = new Set<number>();
      let low = from;
      const advanceLow = () => {
        while (resolved.has(low) || isDone(new Date(low))) resolved.delete(low), (low += HOUR_MS);
      };
      for (;;) {
        context.signal.throwIfAborted();
        if (stop?.aborted) return;
        advanceLow();
        const now = clock();
        /** The newest hour there may be now: the range's last, or this hour. */
        const upper = Math.min(to?.getTime() ?? Infinity, floorHour(now));
        const high = Math.min(upper, low + (lookaheadHours - 1) * HOUR_MS);
        let newest = -Infinity;
        let progressed = false;
        const missing: number[] = [];
        const toLook: number[] = [];
        for (let hour = low; hour <= high; hour += HOUR_MS) {
          // Hours handled already (in this run or an earlier one) count as later hours that came.
          if (resolved.has(hour) || isDone(new Date(hour))) newest = hour;
          else toLook.push(hour);
        }
        const looks = lookAhead(toLook, lookConcurrency, (hour) => look(hour, context));
        for (const hour of toLook) {
          const result = await looks.next();
          if (result.state === 'complete') {
            resolved.add(hour);
            newest = Math.max(newest, hour);
            progressed = true;
            yield result.analysis;
            if (stop?.aborted) return;
          } else {
            if (result.state !== 'absent') context.log.debug({ hour: formatHour(new Date(hour)), why: result.state === 'waiting' ? 'waiting for its .idx' : result.why }, 'analysis not complete yet');
            missing.push(hour);
          }
        }
        // Once the range's last hour has come, an hour missing long after its time will not come, however far the window is from that last hour.
        const rangeEnded = to !== undefined && to.getTime() <= floorHour(now);
        // A window of hours all missing and due says nothing of the hours after it (an outage longer
        // than the lookahead): the newest hour there may be, or the one before, says whether they came again.
        if (newest === -Infinity && high < upper && missing.length > 0 && missing.every((hour) => now - hour >= gapAfterMs)) {
          for (const later of [upper, upper - HOUR_MS]) {
            if ((await look(later, context)).state !== 'absent') {
              newest = later;
              break;
            }
          }
        }
        for (const hour of missing) {
          if (now - hour < gapAfterMs || !(hour < newest || rangeEnded)) continue;
          // Its look may have come before a later hour's, and the hour with it since: looked at again, after.
          const again = await look(hour, context);
          // There, just written (a mirror being copied): looked at again once the wait for its .idx is over.
          if (again.state === 'waiting') continue;
          resolved.add(hour);
          progressed = true;
          if (again.state === 'complete') {
            yield again.analysis;
            if (stop?.aborted) return;
            continue;
          }
          if (again.state === 'incomplete') {
            // Still short long after it was due: not being written, but broken. Fetch will say how.
            context.log.warn({ hour: formatHour(new Date(hour)), key: again.analysis.key }, 'analysis still incomplete when due: passed on to be checked');
            yield again.analysis;
          } else {
            context.log.warn({ hour: formatHour(new Date(hour)), store: store.url }, 'analysis never appeared: a gap');
            await onGap(new Date(hour));
          }
        }
        advanceLow();
        if (once && !(progressed && high < Math.min(to?.getTime() ?? Infinity, floorHour(now)))) return;
        if (to !== undefined && low > to.getTime()) return;
        if (!progressed) await abortableSleep(pollIntervalMs, stop ? AbortSignal.any([context.signal, stop]) : context.signal).catch((error) => {
          if (!stop?.aborted) throw error;
        });
      }
    },
  };
}

/**
 * Runs `look` over `items` with up to `concurrency` at once, started in order; `next()` returns
 * the results in order. A failure comes out of the `next()` of its item.
 */
function lookAhead<T, R>(items: T[], concurrency: number, look: (item: T) => Promise<R>): { next(): Promise<R> } {
  const started: Promise<R>[] = [];
  let taken = 0;
  const fill = () => {
    while (started.length < items.length && started.length < taken + concurrency) {
      const result = look(items[started.length]!);
      result.catch(() => {}); // observed when its turn comes
      started.push(result);
    }
  };
  return {
    next() {
      fill();
      const result = started[taken++]!;
      fill();
      return result;
    },
  };
}
