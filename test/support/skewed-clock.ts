/**
 * Sets this process's clock `offsetMs` off the true time: Date.now() and new Date(), as on a host
 * whose clock is off from its file server's. The times the file system sets (a file's mtime when
 * it is written) stay true, as a file server's on a shared folder.
 */
export function skewClock(offsetMs: number): void {
  const TrueDate = Date;
  class SkewedDate extends TrueDate {
    constructor(...args: unknown[]) {
      super(...((args.length === 0 ? [TrueDate.now() + offsetMs] : args) as [number]));
    }

    static override now(): number {
      return TrueDate.now() + offsetMs;
    }
  }
  globalThis.Date = SkewedDate as DateConstructor;
}
