import { abortableSleep } from '../../store/retrying.js';

/**
 * A poll interval that can be cut short: a source waits on it between polls, and an
 * object-created event pokes it so the source looks again at once.
 */
export class Wakeup {
  private poked = false;
  private wake: (() => void) | undefined;

  poke(): void {
    this.poked = true;
    this.wake?.();
  }

  /** Waits `ms`, or less if poked meanwhile (or since the last wait). */
  async wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (!this.poked) {
      const controller = new AbortController();
      const stop = () => controller.abort();
      signal?.addEventListener('abort', stop, { once: true });
      this.wake = stop;
      try {
        await abortableSleep(ms, controller.signal).catch(() => undefined);
      } finally {
        this.wake = undefined;
        signal?.removeEventListener('abort', stop);
      }
      signal?.throwIfAborted();
    }
    this.poked = false;
  }
}
