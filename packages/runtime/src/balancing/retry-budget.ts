/**
 * Caps retries at a fraction of calls, as Finagle's and Envoy's retry budgets do, so that a sick
 * service sees at most `1 + ratio` times its normal traffic instead of `maxAttempts` times.
 * A floor (`minPerSecond`) keeps retries possible when traffic is light.
 */
export class RetryBudget {
  private readonly buckets: { second: number; calls: number; retries: number }[] = [];

  constructor(
    /** @defaultValue 0.2 */
    private readonly ratio = 0.2,
    /** @defaultValue 5 */
    private readonly minPerSecond = 5,
    /** @defaultValue 10 */
    private readonly windowSeconds = 10,
  ) {}

  /** Counts a call (not a retry). */
  recordCall(now = Date.now()): void {
    this.bucket(now).calls++;
  }

  /** Takes one retry from the budget; false when it is spent. */
  tryRetry(now = Date.now()): boolean {
    this.bucket(now);
    let calls = 0;
    let retries = 0;
    for (const bucket of this.buckets) {
      calls += bucket.calls;
      retries += bucket.retries;
    }
    const allowed = Math.max(this.minPerSecond * this.windowSeconds, calls * this.ratio);
    if (retries >= allowed) return false;
    this.buckets.at(-1)!.retries++;
    return true;
  }

  private bucket(now: number) {
    const second = Math.floor(now / 1000);
    const last = this.buckets.at(-1);
    if (last?.second === second) return last;
    while (this.buckets.length > 0 && this.buckets[0]!.second <= second - this.windowSeconds)
      this.buckets.shift();
    const bucket = { second, calls: 0, retries: 0 };
    this.buckets.push(bucket);
    return bucket;
  }
}
