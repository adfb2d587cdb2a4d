import { describe, expect, test } from 'vitest';
import { reconnectDelaySeconds } from '../src/database';

describe('reconnectDelaySeconds, the wait of a pool connection before it connects again', () => {
  test('doubles with each failure from 50 ms, is never over 2 s, and is jittered between half and all of it', () => {
    for (let failures = 0; failures <= 40; failures++) {
      const ceiling = Math.min(0.05 * 2 ** failures, 2);
      const waits = Array.from({ length: 200 }, () => reconnectDelaySeconds(failures));
      for (const wait of waits) {
        expect(wait).toBeGreaterThanOrEqual(ceiling / 2);
        expect(wait).toBeLessThanOrEqual(ceiling);
      }
      // Jitter: the connections of a pool that failed together do not all come back at once.
      expect(new Set(waits).size).toBeGreaterThan(100);
    }
    // postgres.js's own backoff waits 10–20 s from the seventh failure on.
    expect(reconnectDelaySeconds(7)).toBeLessThanOrEqual(2);
  });
});
