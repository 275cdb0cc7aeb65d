// From raw counts to the numbers a report quotes: load percentiles, per-device rates, sync-time distributions.

export interface LoadStats {
  peakPerS: number;
  p99PerS: number;
  meanPerS: number;
}

export interface Distribution {
  /** Devices that have a value. */
  count: number;
  /** Devices that never got there. */
  missing: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[rank];
}

/**
 * Counts per second are small whole numbers over millions of seconds: a histogram of the counts gives the
 * nearest-rank percentile in one pass, where sorting a month of seconds took longer than the rest of the summary.
 */
export function loadStats(perSecond: Uint32Array): LoadStats {
  const n = perSecond.length;
  if (n === 0) return { peakPerS: 0, p99PerS: 0, meanPerS: 0 };
  let sum = 0;
  let peak = 0;
  for (let k = 0; k < n; k++) {
    const v = perSecond[k];
    sum += v;
    if (v > peak) peak = v;
  }
  const histogram = new Float64Array(peak + 1);
  for (let k = 0; k < n; k++) histogram[perSecond[k]]++;
  const rank = Math.min(n - 1, Math.max(0, Math.ceil(0.99 * n) - 1));
  let p99 = 0;
  for (let seen = 0; p99 <= peak; p99++) {
    seen += histogram[p99];
    if (seen > rank) break;
  }
  return { peakPerS: peak, p99PerS: p99, meanPerS: sum / n };
}

export function distribution(values: Float64Array): Distribution {
  const kept: number[] = [];
  let missing = 0;
  for (let k = 0; k < values.length; k++) {
    if (values[k] === Infinity || values[k] !== values[k]) missing++;
    else kept.push(values[k]);
  }
  const sorted = Float64Array.from(kept).sort();
  return {
    count: sorted.length,
    missing: missing,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
  };
}

/** Per-bucket maximum and mean of a per-second series, for plots that must stay a few thousand points long. */
export function bucketSeries(perSecond: Uint32Array, fromS: number, toS: number, bucketS: number): { atS: number[]; maxPerS: number[]; meanPerS: number[] } {
  const atS: number[] = [];
  const maxPerS: number[] = [];
  const meanPerS: number[] = [];
  for (let start = fromS; start < toS; start += bucketS) {
    const end = Math.min(toS, start + bucketS);
    let max = 0;
    let sum = 0;
    for (let k = start; k < end; k++) {
      const v = perSecond[k];
      if (v > max) max = v;
      sum += v;
    }
    atS.push(start);
    maxPerS.push(max);
    meanPerS.push(sum / (end - start));
  }
  return { atS: atS, maxPerS: maxPerS, meanPerS: meanPerS };
}
