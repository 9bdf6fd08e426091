/**
 * Micro-batching: calls made within `waitMs` of each other (up to `max`) share one run of
 * `flush` — the order writer's claims and confirmations become one transaction per batch instead
 * of one per ticket. Each caller gets its own result (or the batch's error); `flush` may answer
 * one item with an `ItemFailure`, which fails that caller alone.
 */
export class ItemFailure {
  constructor(public readonly err: unknown) {}
}

export class Batcher<I, O> {
  private queue: { item: I; resolve(v: O): void; reject(e: unknown): void }[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private flush: (items: I[]) => Promise<(O | ItemFailure)[]>,
    private max = 64,
    private waitMs = 2,
  ) {}

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.queue.length >= this.max) this.run();
      else this.timer ??= setTimeout(() => this.run(), this.waitMs);
    });
  }

  private run() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.queue.splice(0, this.max);
    if (!batch.length) return;
    this.flush(batch.map((b) => b.item)).then(
      (out) => batch.forEach((b, i) => {
        const o = out[i];
        if (o instanceof ItemFailure) b.reject(o.err);
        else b.resolve(o);
      }),
      (err) => batch.forEach((b) => b.reject(err)),
    );
    if (this.queue.length) this.timer = setTimeout(() => this.run(), 0);
  }

  stop() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
