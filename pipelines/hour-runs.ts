import { HOUR_MS } from '../stages/sources/hrrr-archive.js';

interface Run {
  first: number;
  last: number;
}

/**
 * A set of hours (milliseconds, on the hour) kept as sorted runs of consecutive hours, so that
 * what it costs to keep and to write out grows with the holes between hours, not with the hours:
 * a year done after one hour that keeps failing is one run.
 */
export class HourRuns {
  private readonly runs: Run[] = [];

  /** How many hours it holds. */
  get hours(): number {
    return this.runs.reduce((sum, run) => sum + (run.last - run.first) / HOUR_MS + 1, 0);
  }

  has(hour: number): boolean {
    const run = this.runs[this.indexAfter(hour) - 1];
    return run !== undefined && hour <= run.last;
  }

  add(hour: number): void {
    const index = this.indexAfter(hour);
    const before = this.runs[index - 1];
    const next = this.runs[index];
    if (before && hour <= before.last) return;
    const joinsBefore = before?.last === hour - HOUR_MS;
    const joinsNext = next?.first === hour + HOUR_MS;
    if (before && joinsBefore && next && joinsNext) {
      before.last = next.last;
      this.runs.splice(index, 1);
    } else if (before && joinsBefore) before.last = hour;
    else if (next && joinsNext) next.first = hour;
    else this.runs.splice(index, 0, { first: hour, last: hour });
  }

  /** Takes away the run that starts at `hour`, if there is one, and gives its last hour. */
  takeRunFrom(hour: number): number | undefined {
    const index = this.indexAfter(hour) - 1;
    return this.runs[index]?.first === hour ? this.runs.splice(index, 1)[0]!.last : undefined;
  }

  /** Takes away the run that ends at `hour`, if there is one, and gives its first hour. */
  takeRunTo(hour: number): number | undefined {
    const index = this.indexAfter(hour) - 1;
    return this.runs[index]?.last === hour ? this.runs.splice(index, 1)[0]!.first : undefined;
  }

  /** Takes away every hour from `first` to `last`. */
  dropWithin(first: number, last: number): void {
    const kept = this.runs.flatMap((run) => [
      ...(run.first < first ? [{ first: run.first, last: Math.min(run.last, first - HOUR_MS) }] : []),
      ...(run.last > last ? [{ first: Math.max(run.first, last + HOUR_MS), last: run.last }] : []),
    ]);
    this.runs.splice(0, this.runs.length, ...kept);
  }

  /** The runs, first to last. */
  *[Symbol.iterator](): IterableIterator<Readonly<Run>> {
    yield* this.runs;
  }

  /** The index of the first run that starts after `hour`. */
  private indexAfter(hour: number): number {
    let low = 0;
    let high = this.runs.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.runs[middle]!.first <= hour) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
