/**
 * A one-line progress report on a terminal's stderr, redrawn in place: count, percentage, rate and
 * time left. Off a terminal a command logs its progress as JSON lines instead.
 */
export class ProgressBar {
  private count = 0;
  private lastDrawn = 0;
  private readonly started = Date.now();
  private readonly everyMs = 200;

  constructor(
    private readonly total: number,
    private readonly unit: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  tick(n = 1): void {
    this.count += n;
    const now = Date.now();
    if (now - this.lastDrawn >= this.everyMs || this.count >= this.total) {
      this.lastDrawn = now;
      this.draw(now);
    }
  }

  finish(): void {
    this.draw(Date.now());
    this.stream.write('\n');
  }

  private draw(now: number): void {
    const seconds = Math.max((now - this.started) / 1000, 1e-3);
    const rate = this.count / seconds;
    const fraction = this.total > 0 ? Math.min(1, this.count / this.total) : 1;
    const left = rate > 0 ? (this.total - this.count) / rate : Infinity;
    const width = 30;
    const bar = '#'.repeat(Math.round(fraction * width)).padEnd(width, '-');
    const line = `[${bar}] ${this.count}/${this.total} ${this.unit} ${(fraction * 100).toFixed(1)}%  ${rate.toFixed(2)}/s  ETA ${duration(left)}`;
    this.stream.write(`\r${line}\x1b[K`);
  }
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
