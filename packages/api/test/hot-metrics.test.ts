import fc from 'fast-check';
import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, test } from 'vitest';
import { HotCounter, HotHistogram } from '../src/hot-metrics';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LABELS = ['procedure', 'type', 'outcome'] as const;

/** The same metrics, once as prom-client's and once as the hot ones, each in a registry of its own. */
function pair() {
  const stock = new Registry();
  const hot = new Registry();
  const config = { help: 'help text', labelNames: LABELS };
  return {
    stock,
    hot,
    stockCounter: new Counter({ ...config, name: 'calls_total', registers: [stock] }),
    hotCounter: new HotCounter({ ...config, name: 'calls_total', registers: [hot] }),
    stockHistogram: new Histogram({
      ...config,
      name: 'duration_seconds',
      buckets: BUCKETS,
      registers: [stock],
    }),
    hotHistogram: new HotHistogram({
      ...config,
      name: 'duration_seconds',
      buckets: BUCKETS,
      registers: [hot],
    }),
  };
}

/** Metrics as JSON without exemplars, which Bindery does not record (prom-client gives them as null). */
function withoutExemplars(metrics: Awaited<ReturnType<Registry['getMetricsAsJSON']>>) {
  return metrics.map((metric) => ({
    ...metric,
    values: metric.values.map((value) => {
      const { exemplar: _, ...rest } = value as typeof value & { exemplar?: unknown };
      return rest;
    }),
  }));
}

const labelValue = fc.constantFrom(
  'catalog.books.byId',
  'users.me',
  'a"b\\c\nd',
  'query',
  'ok',
  'FORBIDDEN',
  '',
);
const observation = fc.tuple(
  labelValue,
  labelValue,
  labelValue,
  fc.oneof(fc.constantFrom(...BUCKETS, 0, 11), fc.double({ min: 0, max: 20, noNaN: true })),
  fc.integer({ min: 0, max: 5 }),
);

describe('hot metrics', () => {
  test('are scraped as the same text and JSON as prom-client gives for the same calls', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(observation, { maxLength: 40 }), async (observations) => {
        const metrics = pair();
        for (const [procedure, type, outcome, seconds, count] of observations) {
          metrics.stockCounter.inc({ procedure, type, outcome }, count);
          metrics.hotCounter.labels(procedure, type, outcome).inc(count);
          metrics.stockHistogram.observe({ procedure, type, outcome }, seconds);
          metrics.hotHistogram.labels(procedure, type, outcome).observe(seconds);
        }
        expect(await metrics.hot.metrics()).toBe(await metrics.stock.metrics());
        expect(withoutExemplars(await metrics.hot.getMetricsAsJSON())).toEqual(
          withoutExemplars(await metrics.stock.getMetricsAsJSON()),
        );
      }),
      { numRuns: 200 },
    );
  });

  test('a child stays counted into after a reset, from zero', async () => {
    const metrics = pair();
    const child = metrics.hotHistogram.labels('ping', 'query', 'ok');
    child.observe(0.003);
    metrics.hot.resetMetrics();
    child.observe(0.2);
    const metric = (await metrics.hot.getMetricsAsJSON()).find((each) => each.name === 'duration_seconds');
    const count = metric!.values.find(
      (value) => (value as { metricName?: string }).metricName === 'duration_seconds_count',
    );
    expect(count?.value).toBe(1);
  });

  test('refuse what prom-client refuses: a shrinking counter, a value that is not a number', () => {
    const metrics = pair();
    expect(() => metrics.hotCounter.labels('ping', 'query', 'ok').inc(-1)).toThrow();
    expect(() => metrics.hotHistogram.labels('ping', 'query', 'ok').observe(Number.NaN)).toThrow(TypeError);
    // @ts-expect-error: two label values for three names
    expect(() => metrics.hotCounter.labels('ping', 'query')).toThrow('takes 3 label values');
  });
});
