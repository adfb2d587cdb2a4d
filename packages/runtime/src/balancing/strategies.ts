import type { Endpoint } from './endpoint';

/**
 * How a balancer chooses among the instances available for a call.
 * - `round-robin`: each in turn.
 * - `least-outstanding`: the one with the fewest calls in flight.
 * - `weighted`: in proportion to each instance's registered weight (smooth weighted round-robin).
 * - `p2c-ewma`: of two picked at random, the one whose latency average × (calls in flight + 1) is
 *   lower (power of two choices; https://www.eecs.harvard.edu/~michaelm/postscripts/mythesis.pdf).
 */
export const STRATEGIES = ['p2c-ewma', 'round-robin', 'least-outstanding', 'weighted'] as const;
export type StrategyName = (typeof STRATEGIES)[number];

/** Picks one of `candidates` (never empty). */
export type Strategy = (candidates: readonly Endpoint[]) => Endpoint;

export function createStrategy(name: StrategyName, random: () => number = Math.random): Strategy {
  switch (name) {
    case 'round-robin':
      return roundRobin();
    case 'least-outstanding':
      return (candidates) => leastBy(candidates, (endpoint) => endpoint.inFlight, random);
    case 'weighted':
      return smoothWeighted();
    case 'p2c-ewma':
      return powerOfTwoChoices(random);
  }
}

function roundRobin(): Strategy {
  let next = 0;
  return (candidates) => candidates[next++ % candidates.length]!;
}

function leastBy(
  candidates: readonly Endpoint[],
  cost: (endpoint: Endpoint) => number,
  random: () => number,
) {
  let best: Endpoint[] = [];
  let bestCost = Number.POSITIVE_INFINITY;
  for (const endpoint of candidates) {
    const value = cost(endpoint);
    if (value < bestCost) {
      best = [endpoint];
      bestCost = value;
    } else if (value === bestCost) {
      best.push(endpoint);
    }
  }
  return best[Math.floor(random() * best.length)]!;
}

/** nginx's smooth weighted round-robin: exact proportions, and no burst to the heaviest instance. */
function smoothWeighted(): Strategy {
  const current = new Map<string, number>();
  return (candidates) => {
    let total = 0;
    let best: Endpoint | undefined;
    let bestWeight = Number.NEGATIVE_INFINITY;
    for (const endpoint of candidates) {
      const weight = Math.max(0, endpoint.instance.weight);
      total += weight;
      const value = (current.get(endpoint.id) ?? 0) + weight;
      current.set(endpoint.id, value);
      if (value > bestWeight) {
        best = endpoint;
        bestWeight = value;
      }
    }
    current.set(best!.id, bestWeight - total);
    if (current.size > candidates.length * 2) {
      const live = new Set(candidates.map((endpoint) => endpoint.id));
      for (const id of current.keys()) if (!live.has(id)) current.delete(id);
    }
    return best!;
  };
}

function powerOfTwoChoices(random: () => number): Strategy {
  const cost = (endpoint: Endpoint) => endpoint.latency.ms * (endpoint.inFlight + 1);
  return (candidates) => {
    if (candidates.length === 1) return candidates[0]!;
    const first = Math.floor(random() * candidates.length);
    let second = Math.floor(random() * (candidates.length - 1));
    if (second >= first) second++;
    const a = candidates[first]!;
    const b = candidates[second]!;
    const costA = cost(a);
    const costB = cost(b);
    if (costA === costB) return a.inFlight <= b.inFlight ? a : b;
    return costA < costB ? a : b;
  };
}
