import { type Metric, type Registry, register } from 'prom-client';

/**
 * A counter and a histogram for what every call records, registered with prom-client's registry
 * and scraped like its own metrics (the same text, line for line). A label set is resolved once
 * into a child that is then counted into directly: prom-client's `inc(labels)` and
 * `observe(labels, value)` validate and hash the label object on every call, and a histogram keys
 * its buckets by their bound turned into a string, which together cost a service more per call
 * than its logging.
 */
abstract class HotMetric<Names extends readonly string[], Child> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: Names;
  readonly aggregator = 'sum';
  /** Every label set, in the order first seen. */
  protected readonly children: { labels: Record<string, string>; child: Child }[] = [];
  /**
   * The children by label value, one map level per label: a caller passes the same string objects
   * again and again (a service name, an instance URL, an outcome), whose hashes V8 keeps, where a
   * key joined from them would be a new string to hash on every call.
   */
  readonly #byValue = new Map<string, unknown>();

  constructor(config: { name: string; help: string; labelNames: Names; registers?: Registry[] }) {
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames;
    for (const registry of config.registers ?? [register]) {
      registry.registerMetric(this as unknown as Metric);
    }
  }

  /** The child of these label values, given in the order of `labelNames`; made on first use. */
  labels(...values: { [Index in keyof Names]: string }): Child {
    const last = this.labelNames.length - 1;
    if (values.length !== last + 1) {
      throw new Error(`${this.name} takes ${last + 1} label values, not ${values.length}`);
    }
    let level = this.#byValue;
    for (let index = 0; index < last; index++) {
      let next = level.get(values[index]!) as Map<string, unknown> | undefined;
      if (!next) {
        next = new Map();
        level.set(values[index]!, next);
      }
      level = next;
    }
    let child = level.get(values[last]!) as Child | undefined;
    if (!child) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((name, index) => {
        labels[name] = String(values[index]);
      });
      child = this.createChild();
      this.children.push({ labels, child });
      level.set(values[last]!, child);
    }
    return child;
  }

  protected abstract createChild(): Child;

  /** Zeroes every label set; children stay valid, as callers may keep them. */
  abstract reset(): void;
}

export interface HotCounterChild {
  inc(value?: number): void;
}

class CounterChild implements HotCounterChild {
  value = 0;

  inc(value = 1): void {
    if (!(value >= 0 && value < Number.POSITIVE_INFINITY)) {
      throw new Error(`A counter only grows, by a finite amount: ${value}`);
    }
    this.value += value;
  }
}

/** prom-client's Counter, for label sets resolved once with `labels(…)`. */
export class HotCounter<Names extends readonly string[]> extends HotMetric<Names, HotCounterChild> {
  readonly type = 'counter';

  protected createChild(): CounterChild {
    return new CounterChild();
  }

  reset(): void {
    for (const { child } of this.children) (child as CounterChild).value = 0;
  }

  async get() {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: this.children.map(({ labels, child }) => ({
        value: (child as CounterChild).value,
        labels,
      })),
    };
  }
}

export interface HotHistogramChild {
  observe(value: number): void;
}

class HistogramChild implements HotHistogramChild {
  /** Observations per bucket, not cumulative; one past the last bound holds those above it. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    const { bounds } = this;
    let index = 0;
    while (index < bounds.length && value > bounds[index]!) index++;
    this.counts[index]! += 1;
    this.sum += value;
    this.count += 1;
  }
}

/** prom-client's Histogram, for label sets resolved once with `labels(…)`. */
export class HotHistogram<Names extends readonly string[]> extends HotMetric<Names, HotHistogramChild> {
  readonly type = 'histogram';
  readonly buckets: readonly number[];

  constructor(config: {
    name: string;
    help: string;
    labelNames: Names;
    buckets: readonly number[];
    registers?: Registry[];
  }) {
    super(config);
    this.buckets = [...config.buckets].sort((a, b) => a - b);
  }

  protected createChild(): HistogramChild {
    return new HistogramChild(this.buckets);
  }

  reset(): void {
    for (const { child } of this.children) {
      const histogram = child as HistogramChild;
      histogram.counts.fill(0);
      histogram.sum = 0;
      histogram.count = 0;
    }
  }

  /** As prom-client's histogram gives it to the registry: `le` first, then the label set. */
  async getForPromString() {
    const bucketName = `${this.name}_bucket`;
    const values: {
      labels: Record<string, string | number>;
      sharedLabels: Record<string, string>;
      value: number;
      metricName: string;
    }[] = [];
    for (const { labels, child } of this.children) {
      const histogram = child as HistogramChild;
      let cumulative = 0;
      this.buckets.forEach((bound, index) => {
        cumulative += histogram.counts[index]!;
        values.push({
          labels: { le: bound },
          sharedLabels: labels,
          value: cumulative,
          metricName: bucketName,
        });
      });
      values.push(
        { labels: { le: '+Inf' }, sharedLabels: labels, value: histogram.count, metricName: bucketName },
        { labels: {}, sharedLabels: labels, value: histogram.sum, metricName: `${this.name}_sum` },
        { labels: {}, sharedLabels: labels, value: histogram.count, metricName: `${this.name}_count` },
      );
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  async get() {
    const metric = await this.getForPromString();
    return {
      ...metric,
      values: metric.values.map(({ labels, sharedLabels, ...value }) => ({
        ...value,
        labels: { ...labels, ...sharedLabels },
      })),
    };
  }
}
