/**
 * A moving average of latency that forgets with time rather than with samples, as Finagle's and
 * Linkerd's peak-EWMA balancers do: an instance that was slow a minute ago is not slow for ever.
 */
export class LatencyEwma {
  private valueMs = 0;
  private updatedAt = 0;

  /** @param decayMs how long until an old sample weighs 1/e of a new one. */
  constructor(private readonly decayMs = 10_000) {}

  /**
   * The current average; 0 until the first sample (a new instance is tried at once). It decays
   * while no sample comes, so an instance avoided for being slow is tried again after a while.
   */
  get ms(): number {
    return this.at(performance.now());
  }

  at(now: number): number {
    if (this.updatedAt === 0) return 0;
    return this.valueMs * Math.exp(-Math.max(0, now - this.updatedAt) / this.decayMs);
  }

  record(sampleMs: number, now = performance.now()): void {
    const current = this.at(now);
    const weight = Math.exp(-Math.max(0, now - this.updatedAt) / this.decayMs);
    // Peak-sensitive: a sample above the average counts in full at once, so a sudden slowdown is
    // avoided on the next pick; recovery is gradual.
    this.valueMs =
      this.updatedAt === 0 || sampleMs > current ? sampleMs : current * weight + sampleMs * (1 - weight);
    this.updatedAt = now;
  }

  reset(): void {
    this.valueMs = 0;
    this.updatedAt = 0;
  }
}
