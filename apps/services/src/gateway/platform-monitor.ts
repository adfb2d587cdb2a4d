import { randomBytes } from 'node:crypto';
import { type Logger, type QueueStats, withTimeout } from '@bindery/runtime';
import { histogramQuantile } from './histogram-quantile';
import type { InstanceRef, PlatformHealth } from './platform-health';
import { parsePrometheusText } from './prometheus-text';
import { RingBuffer } from './ring-buffer';
import { addTotals, emptyTotals, type RpcTotals, rpcTotals, totalsSince } from './rpc-totals';

/** A service's traffic over one scrape interval (or, for `window`, over all the points kept). */
export interface MetricsPoint {
  /** When the interval ended. */
  at: string;
  requestsPerSecond: number;
  errorsPerSecond: number;
  /** Failed calls (any outcome but `ok`) over all calls; null without calls. */
  errorRatio: number | null;
  /** Latency quantiles estimated from the histogram buckets; null without calls. */
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface ServiceMetrics {
  service: string;
  instances: { id: string; url: string; up: boolean }[];
  /** The last interval; null until two scrapes have been made. */
  current: MetricsPoint | null;
  /** All the points kept, summed: the last 15 minutes at the default interval. */
  window: MetricsPoint | null;
  /** One point per scrape interval, oldest first. */
  points: MetricsPoint[];
}

export interface PlatformMetrics {
  intervalMs: number;
  /** The span the points cover when full. */
  windowMs: number;
  scrapedAt: string | null;
  services: ServiceMetrics[];
}

/** What the console shows live: readiness, traffic and queues, as of one scrape. */
export interface PlatformSnapshot {
  health: PlatformHealth;
  metrics: PlatformMetrics;
  /** Null when Redis could not be asked in time. */
  queues: QueueStats[] | null;
}

export interface PlatformMonitorOptions {
  /** Every instance to scrape, as the registry lists them now; asked on each scrape. */
  instances: () => InstanceRef[];
  /** The services shown even without an instance. */
  services: readonly string[];
  /** Every instance's readiness, asked on each scrape. */
  health: () => Promise<PlatformHealth>;
  /** Queue counts, read on each scrape. */
  queueStats: () => Promise<QueueStats[]>;
  log: Logger;
  /** @defaultValue 10_000 */
  intervalMs?: number;
  /**
   * Points kept per service.
   * @defaultValue 90 (15 minutes at the default interval)
   */
  points?: number;
  /**
   * How long a scrape waits for an instance (or Redis) before counting it down.
   * @defaultValue 2_000 or `intervalMs`, whichever is shorter
   */
  timeoutMs?: number;
}

interface RawPoint {
  at: number;
  seconds: number;
  totals: RpcTotals;
}

/**
 * The gateway's view of the platform over time. Every interval it scrapes each instance's
 * `/metrics` and `/readyz` and the queue counts, keeps one point per service (rates from counter
 * deltas, latency quantiles from histogram bucket deltas), and publishes a snapshot to every
 * `system.live` subscriber.
 */
export class PlatformMonitor {
  readonly intervalMs: number;
  private readonly capacity: number;
  private readonly timeoutMs: number;
  private readonly history = new Map<string, RingBuffer<RawPoint>>();
  /** Each instance's counts at its last successful scrape: deltas are taken against them. */
  private readonly baselines = new Map<string, RpcTotals>();
  private readonly up = new Map<string, boolean>();
  private lastTickAt: number | undefined;
  private scrapedAt: string | null = null;
  private latest: { sequence: number; snapshot: PlatformSnapshot } | undefined;
  private readonly waiters = new Set<() => void>();
  /** Tells apart the sequence numbers of this gateway process from those of an earlier one. */
  private readonly epoch = randomBytes(4).toString('hex');
  private sequence = 0;
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();

  constructor(private readonly options: PlatformMonitorOptions) {
    this.intervalMs = options.intervalMs ?? 10_000;
    this.capacity = options.points ?? 90;
    this.timeoutMs = options.timeoutMs ?? Math.min(2_000, this.intervalMs);
  }

  /** Scrapes now, then every interval, until `stop`. */
  start(): void {
    const loop = () => {
      this.ticking = this.tick()
        .catch((error: unknown) => this.options.log.error({ err: error }, 'platform scrape failed'))
        .finally(() => {
          if (!this.stopping.signal.aborted) this.timer = setTimeout(loop, this.intervalMs).unref();
        });
    };
    loop();
  }

  /** Stops scraping and ends every subscriber's stream. */
  async stop(): Promise<void> {
    this.stopping.abort();
    clearTimeout(this.timer);
    await this.ticking;
  }

  /** Makes one scrape and publishes its snapshot. */
  async tick(): Promise<void> {
    const refs = this.options.instances();
    const now = Date.now();
    const seconds = this.lastTickAt === undefined ? undefined : (now - this.lastTickAt) / 1000;
    this.lastTickAt = now;
    const [scrapes, health, queues] = await Promise.all([
      Promise.all(
        refs.map(async ({ service, url }) => ({
          service,
          url,
          totals: await this.scrape(service, url),
        })),
      ),
      this.options.health(),
      withTimeout(this.options.queueStats(), this.timeoutMs).catch(() => null),
    ]);
    if (this.stopping.signal.aborted) return;

    const pointsByService = new Map<string, RpcTotals>();
    for (const { service, url, totals } of scrapes) {
      const key = `${service} ${url}`;
      const baseline = this.baselines.get(key);
      this.up.set(key, totals !== null);
      if (totals === null) {
        // A delta across a gap would pile several intervals into one point: start afresh.
        this.baselines.delete(key);
        continue;
      }
      this.baselines.set(key, totals);
      if (!baseline || seconds === undefined) continue;
      const sum = pointsByService.get(service) ?? emptyTotals();
      pointsByService.set(service, addTotals(sum, totalsSince(totals, baseline)));
    }
    // Instances that left (a restart gives a new one) are forgotten.
    const current = new Set(scrapes.map(({ service, url }) => `${service} ${url}`));
    for (const key of [...this.baselines.keys(), ...this.up.keys()]) {
      if (!current.has(key)) {
        this.baselines.delete(key);
        this.up.delete(key);
      }
    }
    if (seconds !== undefined) {
      for (const service of this.serviceNames(refs)) {
        let buffer = this.history.get(service);
        if (!buffer) {
          buffer = new RingBuffer<RawPoint>(this.capacity);
          this.history.set(service, buffer);
        }
        buffer.push({ at: now, seconds, totals: pointsByService.get(service) ?? emptyTotals() });
      }
    }
    this.scrapedAt = new Date(now).toISOString();
    this.publish({ health, metrics: this.metrics(), queues });
  }

  /** Request rate, error rate and latency per service, from the points kept. */
  metrics(): PlatformMetrics {
    const refs = this.options.instances();
    return {
      intervalMs: this.intervalMs,
      windowMs: this.intervalMs * this.capacity,
      scrapedAt: this.scrapedAt,
      services: this.serviceNames(refs).map((service): ServiceMetrics => {
        const raw = this.history.get(service)?.toArray() ?? [];
        const points = raw.map(present);
        const whole = raw.reduce(
          (sum, point) => ({
            at: point.at,
            seconds: sum.seconds + point.seconds,
            totals: addTotals(sum.totals, point.totals),
          }),
          { at: 0, seconds: 0, totals: emptyTotals() },
        );
        return {
          service,
          instances: refs
            .filter((ref) => ref.service === service)
            .map((ref) => ({ id: ref.id, url: ref.url, up: this.up.get(`${service} ${ref.url}`) ?? false })),
          current: points.at(-1) ?? null,
          window: raw.length > 0 ? present(whole) : null,
          points,
        };
      }),
    };
  }

  /**
   * The snapshots as they come: the latest at once (unless `lastEventId` names it: a reconnecting
   * client has it), then one per scrape, until `signal` aborts or the monitor stops.
   */
  async *snapshots(
    signal: AbortSignal | undefined,
    lastEventId?: string | null,
  ): AsyncGenerator<{ id: string; snapshot: PlatformSnapshot }> {
    const stop = signal ? AbortSignal.any([signal, this.stopping.signal]) : this.stopping.signal;
    const [epoch, sequence] = (lastEventId ?? '').split(':');
    let seen = epoch === this.epoch ? Number(sequence) || 0 : 0;
    while (!stop.aborted) {
      const latest = this.latest;
      if (latest && latest.sequence > seen) {
        seen = latest.sequence;
        yield { id: `${this.epoch}:${latest.sequence}`, snapshot: latest.snapshot };
        continue;
      }
      await this.nextSnapshot(stop);
    }
  }

  private serviceNames(refs: readonly InstanceRef[]): string[] {
    return [...new Set([...this.options.services, ...refs.map((ref) => ref.service)])];
  }

  private publish(snapshot: PlatformSnapshot): void {
    this.latest = { sequence: ++this.sequence, snapshot };
    for (const wake of [...this.waiters]) wake();
  }

  private nextSnapshot(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        signal.removeEventListener('abort', wake);
        this.waiters.delete(wake);
        resolve();
      };
      this.waiters.add(wake);
      signal.addEventListener('abort', wake, { once: true });
    });
  }

  /** One instance's procedure counts, or null when it cannot be scraped. */
  private async scrape(service: string, url: string): Promise<RpcTotals | null> {
    try {
      const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(this.timeoutMs) });
      if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
      return rpcTotals(parsePrometheusText(await response.text()), service);
    } catch (error) {
      this.options.log.debug({ err: error, service, url }, 'metrics scrape failed');
      return null;
    }
  }
}

function present({ at, seconds, totals }: RawPoint): MetricsPoint {
  const perSecond = (count: number) => (seconds > 0 ? round(count / seconds, 3) : 0);
  const latencyMs = (q: number) => {
    const quantile = histogramQuantile(q, totals.latencyBuckets);
    return quantile === null ? null : round(quantile * 1000, 2);
  };
  return {
    at: new Date(at).toISOString(),
    requestsPerSecond: perSecond(totals.requests),
    errorsPerSecond: perSecond(totals.errors),
    errorRatio: totals.requests > 0 ? round(totals.errors / totals.requests, 4) : null,
    p50Ms: latencyMs(0.5),
    p99Ms: latencyMs(0.99),
  };
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
