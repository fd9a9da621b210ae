/**
 * A queue between producers (listings running side by side) and consumers (readers): push
 * waits while the queue is full, so a fast listing cannot run far ahead of the reading.
 */
export class AsyncQueue<T> {
  private readonly items: T[] = [];
  private readonly takers: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void }[] = [];
  private readonly pushers: (() => void)[] = [];
  private closed = false;
  private failure: { error: unknown } | undefined;

  constructor(private readonly highWater = 1000) {}

  async push(item: T): Promise<void> {
    if (this.closed) return;
    const taker = this.takers.shift();
    if (taker) {
      taker.resolve({ done: false, value: item });
      return;
    }
    this.items.push(item);
    if (this.items.length >= this.highWater) await new Promise<void>((resolve) => this.pushers.push(resolve));
  }

  /** No more items: consumers finish once the queue is drained. */
  close(): void {
    this.closed = true;
    for (const taker of this.takers.splice(0)) taker.resolve({ done: true, value: undefined });
    for (const pusher of this.pushers.splice(0)) pusher();
  }

  /** Consumers get `error` once the items already queued are taken. */
  fail(error: unknown): void {
    this.failure ??= { error };
    this.closed = true;
    for (const taker of this.takers.splice(0)) taker.reject(error);
    for (const pusher of this.pushers.splice(0)) pusher();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) {
      const value = this.items.shift()!;
      if (this.items.length < this.highWater) this.pushers.shift()?.();
      return Promise.resolve({ done: false, value });
    }
    if (this.failure) return Promise.reject(this.failure.error);
    if (this.closed) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => this.takers.push({ resolve, reject }));
  }
}
