import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

/**
 * postgres.js's internal queue (src/queue.js), which patches/postgres@3.4.9.patch changes: its pool
 * moves each connection between queues on every query, and `remove` scanned every slot the queue had
 * ever shifted out until it was next empty, so a pool that stayed busy slowed down with every query
 * it ran (porsager/postgres#747). Not exported by the package: loaded from its files, both builds.
 */
interface Queue<T> {
  readonly length: number;
  push(x: T): T;
  shift(): T | undefined;
  remove(x: T): T | null;
}
type QueueFactory = <T>(initial?: T[]) => Queue<T>;

const packageDir = join(dirname(createRequire(import.meta.url).resolve('postgres')), '../..');
const builds: [string, QueueFactory][] = [
  ['esm', (await import(pathToFileURL(join(packageDir, 'src/queue.js')).href)).default],
  ['cjs', createRequire(import.meta.url)(join(packageDir, 'cjs/src/queue.js'))],
];

type Command = { op: 'push'; value: number } | { op: 'shift' } | { op: 'remove'; value: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ op: fc.constant('push' as const), value: fc.integer({ min: 0, max: 50 }) }),
  fc.record({ op: fc.constant('shift' as const) }),
  fc.record({ op: fc.constant('remove' as const), value: fc.integer({ min: 0, max: 50 }) }),
);

/** An array that records how many slots each `indexOf` looked through. */
class ScanCountingArray<T> extends Array<T> {
  static scans: number[] = [];
  override indexOf(value: T, fromIndex = 0): number {
    ScanCountingArray.scans.push(this.length - fromIndex);
    return super.indexOf(value, fromIndex);
  }
}

describe.each(builds)('postgres.js queue (%s build)', (_, Queue) => {
  test('behaves as a plain first-in first-out array for any sequence of push, shift and remove', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 3000 }), (commands) => {
        const queue = Queue<number>();
        const model: number[] = [];
        for (const step of commands) {
          if (step.op === 'push') {
            expect(queue.push(step.value)).toBe(step.value);
            model.push(step.value);
          } else if (step.op === 'shift') {
            expect(queue.shift()).toBe(model.shift());
          } else {
            const at = model.indexOf(step.value);
            expect(queue.remove(step.value)).toBe(at === -1 ? null : step.value);
            if (at !== -1) model.splice(at, 1);
          }
          expect(queue.length).toBe(model.length);
        }
        while (model.length) expect(queue.shift()).toBe(model.shift());
        expect(queue.length).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  test('a queue that never empties scans only what it holds, however much has passed through it', () => {
    // What a pool busy without pause does on every query: shift a connection out of `busy`, then
    // move it back in (remove, which finds nothing, and push).
    const connections = Array.from({ length: 10 }, (_, index) => ({ index }));
    ScanCountingArray.scans = [];
    const busy = Queue(ScanCountingArray.from(connections));
    for (let query = 0; query < 100_000; query++) {
      const connection = busy.shift()!;
      expect(busy.remove(connection)).toBeNull();
      busy.push(connection);
    }
    expect(busy.length).toBe(10);
    expect(ScanCountingArray.scans).toHaveLength(100_000);
    // Before the patch the last scans covered about 100,000 slots.
    expect(Math.max(...ScanCountingArray.scans)).toBeLessThanOrEqual(10);
  });
});
