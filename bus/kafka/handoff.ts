interface Entry<T> {
  item: T;
  taken: () => void;
}

/**
 * Hands items from a push source (kafkajs calls a function per message) to a pull reader (an
 * async iterator): put() resolves only once the reader has taken the item, so the source goes no
 * faster than the reader. After close(), waiting and later items are dropped and put() resolves.
 */
export class Handoff<T> {
  private readonly waiting: Entry<T>[] = [];
  private reader: ((entry: Entry<T> | undefined) => void) | undefined;
  private closed = false;

  put(item: T): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((taken) => {
      const reader = this.reader;
      this.reader = undefined;
      if (reader) reader({ item, taken });
      else this.waiting.push({ item, taken });
    });
  }

  /** The next item, or undefined once closed or when the signal aborts first (the item stays for the next take). */
  async take(signal?: AbortSignal): Promise<T | undefined> {
    let entry = this.waiting.shift();
    if (!entry && !this.closed && !signal?.aborted) {
      entry = await new Promise<Entry<T> | undefined>((resolve) => {
        const abort = () => {
          this.reader = undefined;
          resolve(undefined);
        };
        signal?.addEventListener('abort', abort, { once: true });
        this.reader = (delivered) => {
          signal?.removeEventListener('abort', abort);
          resolve(delivered);
        };
      });
    }
    if (!entry) return undefined;
    entry.taken();
    return entry.item;
  }

  close(): void {
    this.closed = true;
    for (const entry of this.waiting.splice(0)) entry.taken();
    this.reader?.(undefined);
    this.reader = undefined;
  }
}
