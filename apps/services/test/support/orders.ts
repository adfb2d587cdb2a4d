import type { BinderyClient, RouterOutputs } from '@bindery/client';

type Order = RouterOutputs['orders']['byId'];

/** Polls an order until it reaches a final state (or `timeoutMs` passes) and returns it. */
export async function settled(client: BinderyClient, orderId: string, timeoutMs = 20_000): Promise<Order> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const order = await client.orders.byId.query({ id: orderId });
    if (order.status !== 'PENDING' || Date.now() > deadline) return order;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits until `check` holds, polling; throws with the last value when it never does. */
export async function eventually<T>(
  read: () => Promise<T>,
  check: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!check(value)) {
    if (Date.now() > deadline)
      throw new Error(`Condition not met in ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await read();
  }
  return value;
}
