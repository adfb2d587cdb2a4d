import { describe, expect, test, vi } from 'vitest';
import { CallAbort } from '../src/balancing/call-abort';
import { withTimeout } from '../src/with-timeout';

describe('CallAbort', () => {
  test('tells each listener once, with the reason, and forgets one that stopped listening', () => {
    const abort = new CallAbort();
    const told = { callAborted: vi.fn() };
    const gone = { callAborted: vi.fn() };
    abort.listen(told);
    abort.listen(gone);
    abort.unlisten(gone);
    const reason = new Error('deadline passed');
    abort.abort(reason);
    abort.abort(new Error('again'));
    expect(told.callAborted).toHaveBeenCalledTimes(1);
    expect(told.callAborted).toHaveBeenCalledWith(reason);
    expect(gone.callAborted).not.toHaveBeenCalled();
    expect(abort.aborted).toBe(true);
    expect(abort.reason).toBe(reason);
  });

  test('a listener that comes after the abort is told at once', () => {
    const abort = new CallAbort();
    abort.abort();
    const late = { callAborted: vi.fn() };
    abort.listen(late);
    expect(late.callAborted).toHaveBeenCalledTimes(1);
    expect((abort.reason as DOMException).name).toBe('AbortError');
  });

  test('its signal, made before or after the abort, aborts with the same reason', () => {
    const early = new CallAbort();
    const signal = early.signal;
    expect(signal.aborted).toBe(false);
    early.abort(new Error('early'));
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).message).toBe('early');

    const late = new CallAbort();
    late.abort(new Error('late'));
    expect(late.signal.aborted).toBe(true);
    expect((late.signal.reason as Error).message).toBe('late');
    expect(late.signal).toBe(late.signal);
  });
});

describe('withTimeout', () => {
  test('settles as the promise does when it answers in time, and clears its timer', async () => {
    vi.useFakeTimers();
    try {
      await expect(withTimeout(Promise.resolve('answer'), 1_000)).resolves.toBe('answer');
      await expect(withTimeout(Promise.reject(new Error('failed')), 1_000)).rejects.toThrow('failed');
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  test("rejects with onTimeout's error when the time is up, even if the promise then fails first", async () => {
    const abort = new CallAbort();
    const pending = new Promise<never>((_, reject) =>
      abort.listen({ callAborted: () => reject(new Error('aborted')) }),
    );
    const answer = withTimeout(pending, 20, () => {
      abort.abort();
      return new Error('too late');
    });
    await expect(answer).rejects.toThrow('too late');
    await expect(withTimeout(new Promise(() => {}), 10)).rejects.toThrow('no answer within 10 ms');
  });
});
