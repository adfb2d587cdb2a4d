import {
  BrokenCircuitError,
  BulkheadRejectedError,
  type CircuitBreakerPolicy,
  circuitBreaker,
  ExponentialBackoff,
  handleWhen,
  type RetryPolicy,
  retry,
  SamplingBreaker,
  TaskCancelledError,
} from 'cockatiel';
import type { ServiceInstance } from '../discovery/service-registry';
import { withTimeout } from '../with-timeout';
import { balancerEjections, balancerRefusals, balancerRetries } from './balancer-metrics';
import { CallAbort } from './call-abort';
import { Endpoint, type EndpointOptions, type EndpointState } from './endpoint';
import {
  connectionRefused,
  InstanceFailure,
  NotSentError,
  neverReached,
  ServiceUnavailableError,
} from './errors';
import { RetryBudget } from './retry-budget';
import { createStrategy, type Strategy, type StrategyName } from './strategies';

export interface ServicePoolOptions extends EndpointOptions {
  service: string;
  /** @defaultValue 'p2c-ewma' */
  strategy?: StrategyName;
  /**
   * Attempts per call at most, the first included, each on another instance.
   * @defaultValue 3
   */
  maxAttempts?: number;
  /**
   * Retries allowed as a fraction of calls (over 10 s), besides a floor of 5 per second.
   * @defaultValue 0.2
   */
  retryBudgetRatio?: number;
}

/** How one call may be handled. */
export interface CallOptions<T> {
  /**
   * Whether the call may run twice: a query, an idempotent mutation, or one carrying an idempotency
   * key. An unsafe call is retried only when it provably never reached an instance.
   */
  safe: boolean;
  /** The whole call, every attempt included, ends by then (the caller's remaining deadline). */
  timeoutMs: number;
  /** Whether an answer is a failure of the instance (a 5xx), to be counted and retried. */
  isFailure?: (result: T) => boolean;
  /** Whether an answer says the instance refused the call before doing anything (it is draining). */
  wasNotProcessed?: (result: T) => boolean;
}

/** One instance as `system.topology` shows it: its registration and what the balancer knows of it. */
export interface EndpointView
  extends Pick<ServiceInstance, 'id' | 'url' | 'version' | 'weight' | 'startedAt' | 'procedureHash'> {
  state: EndpointState;
  breaker: 'closed' | 'open' | 'half-open';
  inFlight: number;
  /** The latency moving average; null before the first call. */
  latencyMs: number | null;
  requests: number;
  failures: number;
  ejections: number;
}

export interface ServiceView {
  service: string;
  strategy: StrategyName;
  /** The service-wide circuit breaker: open means every call is refused for a moment. */
  breaker: 'closed' | 'open' | 'half-open';
  /** Instances serve different procedure lists: a rollout in progress, or a forgotten instance. */
  versionSkew: boolean;
  instances: EndpointView[];
}

/**
 * The instances of one service and how calls are spread over them: a strategy picks among the ready
 * instances that are not ejected and have room; failures eject an instance for a growing period
 * (its circuit breaker); safe calls are retried on another instance with jittered backoff within a
 * retry budget; a service-wide breaker refuses calls at once while most of them fail; and the whole
 * call ends at the caller's deadline. Every policy but that deadline is cockatiel's.
 */
export class ServicePool {
  readonly service: string;
  readonly strategyName: StrategyName;
  private readonly strategy: Strategy;
  private endpoints = new Map<string, Endpoint>();
  private list: Endpoint[] = [];
  private readonly budget: RetryBudget;
  private readonly retryPolicy: RetryPolicy;
  private readonly serviceBreaker: CircuitBreakerPolicy;

  constructor(private readonly options: ServicePoolOptions) {
    this.service = options.service;
    this.strategyName = options.strategy ?? 'p2c-ewma';
    this.strategy = createStrategy(this.strategyName);
    this.budget = new RetryBudget(options.retryBudgetRatio ?? 0.2);
    this.retryPolicy = retry(
      handleWhen((error) => {
        if (!(error instanceof AttemptError) || (!error.reached && !error.hasAlternative)) return false;
        if (error.reached && !error.safe) return false;
        // A call that never reached an instance adds no load to the service: it needs no budget.
        if (error.reached && !this.budget.tryRetry()) {
          balancerRefusals.inc({ service: this.service, reason: 'retry-budget' });
          return false;
        }
        balancerRetries.inc({ service: this.service, reason: error.reached ? 'failed' : 'not-sent' });
        return true;
      }),
      {
        maxAttempts: (options.maxAttempts ?? 3) - 1,
        backoff: new ExponentialBackoff({ initialDelay: 5, maxDelay: 200 }),
      },
    );
    this.serviceBreaker = circuitBreaker(
      handleWhen((error) => !(error instanceof ServiceUnavailableError && error.reason === 'overloaded')),
      {
        halfOpenAfter: 5_000,
        breaker: new SamplingBreaker({ threshold: 0.5, duration: 10_000, minimumRps: 5 }),
      },
    );
  }

  /** Replaces the instances with the registry's current view, keeping what is known of each. */
  setInstances(instances: readonly ServiceInstance[]): void {
    const next = new Map<string, Endpoint>();
    for (const instance of instances) {
      const known = this.endpoints.get(instance.id);
      if (known && known.url === instance.url) {
        known.instance = instance;
        next.set(instance.id, known);
      } else {
        const endpoint = new Endpoint(instance, this.options);
        endpoint.breaker.onBreak(() =>
          balancerEjections.inc({ service: this.service, service_instance: endpoint.url }),
        );
        next.set(instance.id, endpoint);
      }
    }
    this.endpoints = next;
    this.list = [...next.values()];
  }

  get instances(): readonly Endpoint[] {
    return this.list;
  }

  /**
   * Runs `send` against instances until one answers, within the policies above. Returns the answer,
   * or, when every attempt failed with an answer, the last one; throws ServiceUnavailableError when
   * no instance answered at all.
   */
  async call<T>(
    send: (endpoint: Endpoint, abort: CallAbort) => Promise<T>,
    options: CallOptions<T>,
  ): Promise<T> {
    this.budget.recordCall();
    const tried = new Set<Endpoint>();
    let lastFailure: InstanceFailure<T> | undefined;
    try {
      return await this.serviceBreaker.execute(() =>
        // The retry policy is not given the abort: an attempt made after it fails at once, unretried.
        withDeadline(options.timeoutMs, (abort) =>
          this.retryPolicy.execute(() => this.attempt(send, options, tried, abort)),
        ),
      );
    } catch (error) {
      const cause = error instanceof AttemptError ? error.cause : error;
      if (cause instanceof InstanceFailure) lastFailure = cause as InstanceFailure<T>;
      if (lastFailure) return lastFailure.result;
      throw this.unavailable(cause);
    }
  }

  view(): ServiceView {
    const now = Date.now();
    const hashes = new Set(this.list.map((endpoint) => endpoint.instance.procedureHash).filter(Boolean));
    return {
      service: this.service,
      strategy: this.strategyName,
      breaker:
        this.serviceBreaker.state === 0 ? 'closed' : this.serviceBreaker.state === 2 ? 'half-open' : 'open',
      versionSkew: hashes.size > 1,
      instances: this.list.map((endpoint) => ({
        id: endpoint.id,
        url: endpoint.url,
        version: endpoint.instance.version,
        weight: endpoint.instance.weight,
        startedAt: endpoint.instance.startedAt,
        procedureHash: endpoint.instance.procedureHash,
        state: endpoint.state(now),
        breaker: endpoint.breakerState(),
        inFlight: endpoint.inFlight,
        latencyMs: endpoint.requests > 0 ? Math.round(endpoint.latency.ms * 100) / 100 : null,
        requests: endpoint.requests,
        failures: endpoint.failures,
        ejections: endpoint.ejections,
      })),
    };
  }

  private async attempt<T>(
    send: (endpoint: Endpoint, abort: CallAbort) => Promise<T>,
    options: CallOptions<T>,
    tried: Set<Endpoint>,
    abort: CallAbort,
  ): Promise<T> {
    if (abort.aborted) throw abort.reason;
    const endpoint = this.pick(tried);
    tried.add(endpoint);
    try {
      // The bulkhead, as cockatiel's with no queue: a call takes its slot at once (it may wait for
      // a half-open breaker's trial) and a call that finds none is refused, without a policy
      // layer of promises per call.
      if (endpoint.inFlight >= endpoint.maxConcurrent) {
        throw new BulkheadRejectedError(endpoint.maxConcurrent, 0);
      }
      endpoint.inFlight++;
      try {
        return await endpoint.breaker.execute(async () => {
          endpoint.requests++;
          const started = performance.now();
          try {
            const result = await send(endpoint, abort);
            if (options.wasNotProcessed?.(result)) throw new NotSentError(`${endpoint.url} is draining`);
            if (options.isFailure?.(result)) throw new InstanceFailure(result, endpoint.url);
            endpoint.latency.record(performance.now() - started);
            return result;
          } catch (error) {
            endpoint.failures++;
            // A failure counts as at least twice the usual latency: a fast failure must not make an
            // instance look good to the latency strategy, and repeated ones turn it away quickly
            // (the breaker ejects it after a few in a row).
            endpoint.latency.record(Math.max(performance.now() - started, endpoint.latency.ms * 2, 1));
            if (connectionRefused(error)) endpoint.healthy = false;
            throw error;
          }
        });
      } finally {
        endpoint.inFlight--;
      }
    } catch (error) {
      if (abort.aborted) throw error;
      const reached = !(
        neverReached(error) ||
        error instanceof BrokenCircuitError ||
        error instanceof BulkheadRejectedError
      );
      const hasAlternative = this.list.some((other) => !tried.has(other) && other.state() !== 'draining');
      throw new AttemptError(error, reached, options.safe, hasAlternative);
    }
  }

  /** An instance for the next attempt: one not tried yet if there is one. */
  private pick(tried: Set<Endpoint>): Endpoint {
    const now = Date.now();
    let candidates = this.list.filter((endpoint) => !tried.has(endpoint) && endpoint.available(now));
    if (candidates.length === 0) candidates = this.list.filter((endpoint) => endpoint.available(now));
    if (candidates.length > 0) return this.strategy(candidates);
    const serving = this.list.filter((endpoint) => endpoint.state(now) !== 'draining');
    if (serving.some((endpoint) => endpoint.state(now) === 'ready')) {
      balancerRefusals.inc({ service: this.service, reason: 'bulkhead' });
      throw new ServiceUnavailableError(
        this.service,
        'overloaded',
        `${this.service} is at its limit of concurrent calls; try again shortly`,
      );
    }
    // Panic mode, as Envoy's: when no instance looks ready, try those not ejected rather than none.
    const untried = serving.filter((endpoint) => !tried.has(endpoint) && endpoint.state(now) !== 'ejected');
    if (untried.length > 0) return this.strategy(untried);
    throw new NotSentError(
      serving.length === 0
        ? `${this.service} has no instance`
        : `every instance of ${this.service} is ejected after failures`,
    );
  }

  private unavailable(cause: unknown): ServiceUnavailableError {
    if (cause instanceof ServiceUnavailableError) return cause;
    if (cause instanceof TaskCancelledError)
      return new ServiceUnavailableError(this.service, 'timeout', `${this.service} did not answer in time`, {
        cause,
      });
    if (cause instanceof BrokenCircuitError) {
      balancerRefusals.inc({ service: this.service, reason: 'circuit-open' });
      return new ServiceUnavailableError(
        this.service,
        'circuit-open',
        `${this.service} is failing; calls are refused for a few seconds`,
        { cause },
      );
    }
    if (cause instanceof NotSentError && this.list.length === 0)
      return new ServiceUnavailableError(this.service, 'no-instance', `${this.service} has no instance`, {
        cause,
      });
    return new ServiceUnavailableError(this.service, 'failed', `${this.service} is unavailable`, { cause });
  }
}

/**
 * Runs `run` with an abort that fires after `timeoutMs`, and rejects with cockatiel's
 * TaskCancelledError then, whether or not `run` has settled: what cockatiel's aggressive `timeout`
 * policy does, without the derived controllers, events and executor it sets up for every call,
 * which cost the gateway more per request than balancing itself. The call is not aborted when
 * `run` returns: a peer reply's body is read after the call returns.
 */
function withDeadline<T>(timeoutMs: number, run: (abort: CallAbort) => Promise<T>): Promise<T> {
  const abort = new CallAbort();
  return withTimeout(run(abort), timeoutMs, () => {
    const timeout = new TaskCancelledError(`Operation timed out after ${timeoutMs}ms`);
    // The call fails with the timeout before the aborted attempt can fail it otherwise.
    abort.abort();
    return timeout;
  });
}

/** One failed attempt, with what the retry policy needs to decide. */
class AttemptError extends Error {
  override name = 'AttemptError';
  constructor(
    override readonly cause: unknown,
    readonly reached: boolean,
    readonly safe: boolean,
    readonly hasAlternative: boolean,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}
