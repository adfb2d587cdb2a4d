import {
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleAll,
  type IBackoff,
  type IBackoffFactory,
} from 'cockatiel';
import type { ServiceInstance } from '../discovery/service-registry';
import { LatencyEwma } from './latency-ewma';

export type EndpointState = 'ready' | 'unready' | 'ejected' | 'draining';

export interface EndpointOptions {
  /**
   * Failures in a row that eject an instance (passive outlier detection).
   * @defaultValue 5
   */
  consecutiveFailures?: number;
  /**
   * How long the first ejection lasts; each ejection that follows a failed trial lasts longer, up to
   * `maxEjectionMs`.
   * @defaultValue 1_000
   */
  ejectionMs?: number;
  /** @defaultValue 30_000 */
  maxEjectionMs?: number;
  /**
   * Calls in flight to one instance at most (bulkhead); more are sent elsewhere or refused.
   * @defaultValue 100
   */
  maxConcurrent?: number;
}

/**
 * One instance as a balancer sees it: its registration, calls in flight, latency, readiness from
 * active checks, its own circuit breaker (ejection, cockatiel's) and its bulkhead: at most
 * `maxConcurrent` calls in flight, counted by the pool itself.
 */
export class Endpoint {
  inFlight = 0;
  requests = 0;
  failures = 0;
  ejections = 0;
  /** From active health checks (`/readyz`); an instance is trusted until a check says otherwise. */
  healthy = true;
  readonly latency = new LatencyEwma();
  readonly breaker: CircuitBreakerPolicy;
  /** Calls in flight at most (the bulkhead). */
  readonly maxConcurrent: number;
  /** When an ejected instance may be tried again (the breaker's current half-open delay). */
  private reopenAt = 0;
  private ejectionDelayMs = 0;

  constructor(
    public instance: ServiceInstance,
    options: EndpointOptions = {},
  ) {
    const ejection = new ExponentialBackoff({
      initialDelay: options.ejectionMs ?? 1_000,
      maxDelay: options.maxEjectionMs ?? 30_000,
    });
    this.breaker = circuitBreaker(handleAll, {
      halfOpenAfter: observeDelays(ejection, (delayMs) => {
        this.ejectionDelayMs = delayMs;
      }),
      breaker: new ConsecutiveBreaker(options.consecutiveFailures ?? 5),
    });
    this.breaker.onBreak(() => {
      this.ejections++;
      this.reopenAt = Date.now() + this.ejectionDelayMs;
      // Forget the failures' latency penalty: when the ejection ends, the next call is its trial.
      this.latency.reset();
    });
    this.breaker.onReset(() => this.latency.reset());
    this.maxConcurrent = options.maxConcurrent ?? 100;
  }

  get id(): string {
    return this.instance.id;
  }

  get url(): string {
    return this.instance.url;
  }

  state(now = Date.now()): EndpointState {
    if (this.instance.state === 'draining') return 'draining';
    if (this.breaker.state === CircuitState.HalfOpen) return 'ejected';
    if (this.breaker.state === CircuitState.Open && now < this.reopenAt) return 'ejected';
    return this.healthy ? 'ready' : 'unready';
  }

  breakerState(): 'closed' | 'open' | 'half-open' {
    switch (this.breaker.state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.HalfOpen:
        return 'half-open';
      default:
        return 'open';
    }
  }

  /** Whether a call may be sent now: ready, and with a free slot. */
  available(now = Date.now()): boolean {
    return this.state(now) === 'ready' && this.inFlight < this.maxConcurrent;
  }
}

/** A backoff factory that reports every delay it hands out (cockatiel keeps the current one private). */
function observeDelays<T>(
  factory: IBackoffFactory<T>,
  onDelay: (delayMs: number) => void,
): IBackoffFactory<T> {
  const wrap = (backoff: IBackoff<T>): IBackoff<T> => {
    onDelay(backoff.duration);
    return { duration: backoff.duration, next: (context: T) => wrap(backoff.next(context)) };
  };
  return { next: (context: T) => wrap(factory.next(context)) };
}
