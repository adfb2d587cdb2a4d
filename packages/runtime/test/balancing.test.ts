import { describe, expect, test } from 'vitest';
import {
  createStrategy,
  type Endpoint,
  RetryBudget,
  type ServiceInstance,
  ServicePool,
  ServiceUnavailableError,
} from '../src/index';

function instances(...specs: [id: string, weight?: number][]): ServiceInstance[] {
  return specs.map(([id, weight = 1]) => ({
    service: 'catalog',
    id,
    url: `http://${id}`,
    version: '1',
    weight,
    startedAt: new Date(0).toISOString(),
    procedureHash: 'h',
    state: 'serving',
  }));
}

function pool(
  options: ConstructorParameters<typeof ServicePool>[0] = { service: 'catalog' },
  ...ids: string[]
) {
  const created = new ServicePool(options);
  created.setInstances(instances(...ids.map((id) => [id] as [string])));
  return created;
}

/** An error as undici's fetch throws when nothing listens at the address. */
function refused(): Error {
  return Object.assign(new TypeError('fetch failed'), {
    cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
  });
}

/** An error as undici's fetch throws when the connection drops after the request was sent. */
function cutAfterSending(): Error {
  return Object.assign(new TypeError('fetch failed'), {
    cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
  });
}

describe('strategies', () => {
  const endpoints = (created: ServicePool) => created.instances as Endpoint[];

  test('round-robin takes each in turn', () => {
    const strategy = createStrategy('round-robin');
    const list = endpoints(pool(undefined, 'a', 'b', 'c'));
    expect(Array.from({ length: 6 }, () => strategy(list).id)).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  test('least-outstanding takes the instance with the fewest calls in flight', () => {
    const list = endpoints(pool(undefined, 'a', 'b', 'c'));
    list[0]!.inFlight = 3;
    list[1]!.inFlight = 1;
    list[2]!.inFlight = 2;
    expect(createStrategy('least-outstanding')(list).id).toBe('b');
  });

  test('weighted follows the registered weights exactly, without bursts', () => {
    const created = new ServicePool({ service: 'catalog' });
    created.setInstances(instances(['heavy', 3], ['light', 1]));
    const strategy = createStrategy('weighted');
    const picks = Array.from({ length: 8 }, () => strategy(created.instances).id);
    expect(picks.filter((id) => id === 'heavy')).toHaveLength(6);
    // Smooth: the light instance is not starved for three picks in a row after its turn.
    expect(picks.slice(0, 4).filter((id) => id === 'light')).toHaveLength(1);
  });

  test('p2c-ewma picks the cheaper of two: latency average × (calls in flight + 1)', () => {
    const list = endpoints(pool(undefined, 'fast', 'slow'));
    list[0]!.latency.record(5);
    list[1]!.latency.record(200);
    const strategy = createStrategy('p2c-ewma');
    expect(new Set(Array.from({ length: 20 }, () => strategy(list).id))).toEqual(new Set(['fast']));
    list[0]!.inFlight = 100;
    expect(strategy(list).id).toBe('slow');
  });
});

describe('the retry budget', () => {
  test('allows a floor of retries, then a fraction of calls', () => {
    const budget = new RetryBudget(0.2, 1, 10);
    const now = 1_000_000;
    let allowed = 0;
    while (budget.tryRetry(now)) allowed++;
    expect(allowed).toBe(10);
    for (let call = 0; call < 100; call++) budget.recordCall(now);
    expect(budget.tryRetry(now)).toBe(true);
    for (let retry = 0; retry < 9; retry++) budget.tryRetry(now);
    expect(budget.tryRetry(now)).toBe(false);
  });
});

describe('a service pool', () => {
  test('retries a safe call that failed on another instance, and returns its answer', async () => {
    const created = pool({ service: 'catalog', strategy: 'round-robin' }, 'a', 'b');
    const seen: string[] = [];
    const answer = await created.call(
      async (endpoint) => {
        seen.push(endpoint.id);
        return endpoint.id === 'a' ? { status: 500 } : { status: 200 };
      },
      { safe: true, timeoutMs: 1_000, isFailure: (reply) => reply.status >= 500 },
    );
    expect(answer).toEqual({ status: 200 });
    expect(seen).toEqual(['a', 'b']);
  });

  test('never retries an unsafe call that reached an instance; returns that instance’s answer', async () => {
    const created = pool({ service: 'catalog', strategy: 'round-robin' }, 'a', 'b');
    const seen: string[] = [];
    const answer = await created.call(
      async (endpoint) => {
        seen.push(endpoint.id);
        return { status: 500 };
      },
      { safe: false, timeoutMs: 1_000, isFailure: (reply) => reply.status >= 500 },
    );
    expect(answer).toEqual({ status: 500 });
    expect(seen).toEqual(['a']);

    seen.length = 0;
    await expect(
      created.call(
        async (endpoint) => {
          seen.push(endpoint.id);
          throw cutAfterSending();
        },
        { safe: false, timeoutMs: 1_000 },
      ),
    ).rejects.toBeInstanceOf(ServiceUnavailableError);
    expect(seen).toHaveLength(1);
  });

  test('retries any call that never reached an instance (connection refused, or refused while draining)', async () => {
    const created = pool({ service: 'catalog', strategy: 'round-robin' }, 'a', 'b');
    const seen: string[] = [];
    const answer = await created.call(
      async (endpoint) => {
        seen.push(endpoint.id);
        if (endpoint.id === 'a') throw refused();
        return { status: 200, notProcessed: false };
      },
      { safe: false, timeoutMs: 1_000, wasNotProcessed: (reply) => reply.notProcessed },
    );
    expect(answer.status).toBe(200);
    expect(seen).toEqual(['a', 'b']);
    // Refused: it is not ready until a health check says it is.
    expect(created.view().instances.find((instance) => instance.id === 'a')?.state).toBe('unready');
  });

  test('ejects an instance after consecutive failures, for a growing period, and tries it again after', async () => {
    const created = pool(
      {
        service: 'catalog',
        strategy: 'round-robin',
        consecutiveFailures: 3,
        ejectionMs: 200,
        maxAttempts: 1,
      },
      'a',
      'b',
    );
    let failing = true;
    const send = async (endpoint: Endpoint) => ({ status: endpoint.id === 'a' && failing ? 500 : 200 });
    const options = {
      safe: false,
      timeoutMs: 1_000,
      isFailure: (reply: { status: number }) => reply.status >= 500,
    };
    for (let call = 0; call < 6; call++) await created.call(send, options);
    const ejected = created.view().instances.find((instance) => instance.id === 'a')!;
    expect(ejected).toMatchObject({ state: 'ejected', breaker: 'open', ejections: 1, failures: 3 });
    const callsWhileEjected = await Promise.all(Array.from({ length: 4 }, () => created.call(send, options)));
    expect(callsWhileEjected.every((reply) => reply.status === 200)).toBe(true);

    failing = false;
    await new Promise((resolve) => setTimeout(resolve, 450));
    for (let call = 0; call < 4; call++) await created.call(send, options);
    expect(created.view().instances.find((instance) => instance.id === 'a')).toMatchObject({
      state: 'ready',
      breaker: 'closed',
    });
  });

  test('ends a call at its deadline, and refuses calls when every instance is full (bulkhead)', async () => {
    const created = pool({ service: 'catalog', maxConcurrent: 1 }, 'a');
    const slow = created.call(() => new Promise((resolve) => setTimeout(() => resolve('late'), 300)), {
      safe: true,
      timeoutMs: 50,
    });
    const full = created.call(async () => 'never', { safe: true, timeoutMs: 1_000 });
    await expect(full).rejects.toMatchObject({ reason: 'overloaded' });
    await expect(slow).rejects.toMatchObject({ reason: 'timeout' });
  });

  test('without instances, says so', async () => {
    await expect(
      pool({ service: 'catalog' }).call(async () => 'x', { safe: true, timeoutMs: 100 }),
    ).rejects.toMatchObject({ reason: 'no-instance', message: 'catalog has no instance' });
  });
});
