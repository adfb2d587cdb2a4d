/**
 * The `q`-quantile of observations in a histogram, the way PromQL's `histogram_quantile` estimates
 * it: find the bucket holding the rank, then interpolate linearly inside it (from 0 for the first
 * bucket). A rank in the `+Inf` bucket answers the highest finite bound. Null when nothing was
 * observed. https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile
 *
 * @param buckets cumulative counts by upper bound (`le`), `+Inf` included
 */
export function histogramQuantile(q: number, buckets: ReadonlyMap<number, number>): number | null {
  const sorted = [...buckets].sort(([a], [b]) => a - b);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total <= 0 || sorted.at(-1)?.[0] !== Number.POSITIVE_INFINITY) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [upperBound, count] of sorted) {
    if (count >= rank) {
      if (upperBound === Number.POSITIVE_INFINITY) return lowerBound;
      if (count === lowerCount) return upperBound;
      return lowerBound + ((upperBound - lowerBound) * (rank - lowerCount)) / (count - lowerCount);
    }
    lowerBound = upperBound;
    lowerCount = count;
  }
  return lowerBound;
}
