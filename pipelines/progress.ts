import { ObjectNotFoundError } from '../store/errors.js';
import type { ObjectStore } from '../store/object-store.js';
import { formatHour, HOUR_MS, parseHour } from '../stages/sources/hrrr-archive.js';
import { HourRuns } from './hour-runs.js';

/**
 * What is kept in the store, as JSON: every hour from `since` to `through` is done or a gap; besides
 * them, those listed, each an hour or a run of hours ("FIRST/LAST"). Version 1 listed every hour
 * alone, so that a record behind an hour that kept failing grew by an hour each hour; a record
 * without a run is still written as version 1. A record with no `since` (written before it was
 * kept, or by hand) covers every hour up to `through`; an older build reads a record with one so too.
 */
interface ProgressRecord {
  version: 1 | 2;
  since?: string;
  through: string | null;
  done: string[];
  gaps: string[];
  updatedAt: string;
}

/**
 * An hour of the record as the command line reads hours (UTC, zone or not: a record edited by hand
 * may say "2019-09-20T05Z" or "2019-09-20T05:00:00"), or NaN. Date.parse took the first for no time
 * at all (run then failed with "Invalid time value", naming nothing) and the second for the
 * machine's local time (hours skipped or done again, by the zone's offset).
 */
function readHour(text: string): number {
  try {
    return parseHour(String(text)).getTime();
  } catch {
    return NaN;
  }
}

/**
 * Refuses a record, typically edited by hand, whose keys are missing or of the wrong kind, naming
 * the record and the key (a missing "done" once failed with "record.done is not iterable").
 */
function checkShape(record: ProgressRecord, where: string): void {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) throw new Error(`${where} is not a JSON object`);
  if (record.version === undefined) throw new Error(`${where} has no "version", this build reads versions 1 and 2`);
  if (record.version !== 1 && record.version !== 2) throw new Error(`${where} has version ${JSON.stringify(record.version)}, this build reads versions 1 and 2`);
  if (record.through === undefined) throw new Error(`${where}: "through" is missing (null when no hour is done)`);
  for (const list of ['done', 'gaps'] as const) {
    const entries: unknown = record[list];
    if (!Array.isArray(entries) || !entries.every((entry) => typeof entry === 'string')) throw new Error(`${where}: "${list}" is missing or not a list of hours`);
  }
}

/** Gaps kept in the record (the most recent ones); older ones stay in the logs. */
const GAPS_KEPT = 1000;

/**
 * A pipeline's durable progress over hours: which analyses are done, so that a restarted
 * consumer resumes with no gap and no repeat, and which hours were gaps. Work may finish out of
 * order: the mark's run (`since` to `through`) only grows over hours that are all done; hours
 * outside it that no run did are never taken as done, so that a range done after a later one
 * (a backfill of January after one of July) is done too. Saved as one small JSON object,
 * written whole after each change (writes are serialised, the last one wins); the hours done
 * after `through` are kept as runs, so it stays small behind an hour that keeps failing.
 */
export class Progress {
  /** The first hour of the mark's run: where work started, or -Infinity for a record that did not say. */
  private since = -Infinity;
  private through: number | undefined;
  private readonly done = new HourRuns();
  private readonly gaps: number[] = [];
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    private readonly store: ObjectStore,
    readonly key: string,
  ) {}

  static async load(store: ObjectStore, key: string): Promise<Progress> {
    const progress = new Progress(store, key);
    let record: ProgressRecord;
    try {
      record = JSON.parse(new TextDecoder().decode(await store.get(key)));
    } catch (error) {
      if (error instanceof ObjectNotFoundError) return progress;
      throw new Error(`progress record ${store.url}/${key} is unreadable: ${(error as Error).message}`, { cause: error });
    }
    const where = `progress record ${store.url}/${key}`;
    checkShape(record, where);
    const hourOf = (what: string, text: string): number => {
      const hour = readHour(text);
      if (Number.isNaN(hour)) throw new Error(`${where}: ${what}: ${JSON.stringify(text)} is not an hour`);
      return hour;
    };
    if (record.through !== null) progress.through = hourOf('"through"', record.through);
    if (record.since !== undefined) progress.since = hourOf('"since"', record.since);
    for (const entry of record.done) {
      const parts = entry.split('/');
      const [first, last = first] = parts.map(readHour);
      if (parts.length > 2 || !(first! <= last!)) throw new Error(`${where}: ${JSON.stringify(entry)} is not an hour or a run of hours`);
      for (let hour = first!; hour <= last!; hour += HOUR_MS) progress.done.add(hour);
    }
    // A run that reaches the mark's run joins it (a record edited by hand may have one).
    if (progress.through !== undefined) {
      progress.done.dropWithin(progress.since, progress.through);
      progress.absorbTouchingRuns();
    }
    progress.gaps.push(...record.gaps.map((gap) => hourOf('"gaps"', gap)));
    return progress;
  }

  /** The last hour such that it and every hour before it (from where work started) is done or a gap. */
  get doneThrough(): Date | undefined {
    return this.through === undefined ? undefined : new Date(this.through);
  }

  /**
   * Starts (or resumes) work at `start` and returns the first hour to do: the hour after
   * `doneThrough` when `start` is in the mark's run or just after it, else `start` (the hours done
   * after it are skipped with isDone). The first start of a record begins the mark's run there.
   */
  begin(start: Date): Date {
    const hour = start.getTime();
    if (this.through === undefined) {
      this.since = hour;
      this.through = hour - HOUR_MS;
    }
    return hour >= this.since && hour <= this.through + HOUR_MS ? new Date(this.through + HOUR_MS) : start;
  }

  isDone(time: Date): boolean {
    return this.inMarkedRun(time.getTime()) || this.done.has(time.getTime());
  }

  private inMarkedRun(hour: number): boolean {
    return this.through !== undefined && hour >= this.since && hour <= this.through;
  }

  /** Joins to the mark's run the done runs that touch it, on either side. */
  private absorbTouchingRuns(): void {
    this.through = this.done.takeRunFrom(this.through! + HOUR_MS) ?? this.through;
    this.since = this.done.takeRunTo(this.since - HOUR_MS) ?? this.since;
  }

  get recentGaps(): Date[] {
    return this.gaps.map((hour) => new Date(hour));
  }

  markDone(time: Date): Promise<void> {
    return this.mark(time.getTime());
  }

  markGap(time: Date): Promise<void> {
    this.gaps.push(time.getTime());
    if (this.gaps.length > GAPS_KEPT) this.gaps.splice(0, this.gaps.length - GAPS_KEPT);
    return this.mark(time.getTime());
  }

  private mark(hour: number): Promise<void> {
    if (this.through === undefined) throw new Error('progress: begin() comes before the first mark');
    if (!this.inMarkedRun(hour)) this.done.add(hour);
    this.absorbTouchingRuns();
    const iso = (h: number) => new Date(h).toISOString();
    const runs = [...this.done];
    const record: ProgressRecord = {
      // Version 1 when it says all (no run of hours, as a live consumer's record): builds before version 2 refuse one, so a rollback would fail at start.
      version: runs.every(({ first, last }) => first === last) ? 1 : 2,
      ...(Number.isFinite(this.since) && { since: iso(this.since) }),
      through: iso(this.through),
      done: runs.map(({ first, last }) => (first === last ? iso(first) : `${iso(first)}/${iso(last)}`)),
      gaps: this.gaps.map((h) => new Date(h).toISOString()),
      updatedAt: new Date().toISOString(),
    };
    const body = new TextEncoder().encode(`${JSON.stringify(record, null, 1)}\n`);
    this.saving = this.saving.catch(() => {}).then(() => this.store.put(this.key, body, { contentType: 'application/json' }));
    return this.saving;
  }

  /** A line for logs: "done through 2019-09-20T05Z, 3 more after it". */
  describe(): string {
    return this.through === undefined ? 'nothing done yet' : `done through ${formatHour(new Date(this.through))}, ${this.done.hours} more after it`;
  }
}
