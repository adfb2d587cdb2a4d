/**
 * `promise`, or a rejection once `timeoutMs` has passed without an answer: with `onTimeout()`'s
 * error when given, else a plain one. `onTimeout` runs when the time is up, just before the result
 * rejects with its error, so whatever it starts (an abort) cannot settle the result first.
 */
export function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number,
  onTimeout: () => Error = () => new Error(`no answer within ${timeoutMs} ms`),
): Promise<T> {
  // One promise and a timer: no race, no `finally`, which cost a balanced call three more promises.
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
