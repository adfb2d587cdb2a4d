import { expect, test } from 'vitest';
import { formatOrdersBench, runOrdersBench } from '../../../bench/orders';

test('the orders benchmark confirms every order and compares it with the no-op baseline', async () => {
  const result = await runOrdersBench({ orders: 5, concurrency: 2, customers: 2, noopJobs: 200 });
  expect(result).toMatchObject({ ordersPlaced: 5, createErrors: 0, confirmed: 5, failed: 0, unsettled: 0 });
  expect(result.confirmedPerSecond).toBeGreaterThan(0);
  expect(result.latencyMs.p50).toBeGreaterThan(0);
  expect(result.latencyMs.p99).toBeGreaterThanOrEqual(result.latencyMs.p50);
  expect(result.baseline).toMatchObject({ jobs: 200 });
  expect(result.baseline.jobsPerSecond).toBeGreaterThan(0);
  expect(result.ratio).toBeGreaterThan(0);
  // How many jobs an order takes is the saga's to pin (saga.test.ts); here only that some were counted.
  expect(result.jobsPerOrder).toBeGreaterThanOrEqual(1);
  expect(formatOrdersBench(result)).toContain('confirmed orders/s ÷ no-op jobs/s');
}, 120_000);
