/**
 * A client connected on first use and shared after: a failed connection is forgotten, so that the
 * next use tries again instead of failing for good.
 */
export class Lazy<T> {
  private value: Promise<T> | undefined;

  constructor(private readonly make: () => Promise<T>) {}

  get(): Promise<T> {
    if (!this.value) {
      const value = this.make();
      this.value = value;
      value.catch(() => {
        if (this.value === value) this.value = undefined;
      });
    }
    return this.value;
  }

  /** The value if it was made, without making it. */
  peek(): Promise<T> | undefined {
    return this.value;
  }

  forget(): void {
    this.value = undefined;
  }
}
