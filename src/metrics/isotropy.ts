/**
 * Spectral isotropy of a matrix from its singular values ([B] §4.2, docs/math.md §3): how evenly the energy
 * σ² spreads over the n nonzero directions. An orthogonalized (Muon) update is perfectly isotropic
 * (H_norm = 1, eRank = n); a GD update on imbalanced data is dominated by a few head directions.
 */

export interface Isotropy {
  /** Nonzero singular values counted (σ > threshold). */
  n: number;
  /** Normalized spectral entropy −Σ q log q / log n; null when n ≤ 1 (undefined). */
  hNorm: number | null;
  /** Effective rank exp(−Σ q log q). */
  eRank: number;
  /** Share of the energy in the top k directions, k = 1 … topK. */
  topE: number[];
  /** 75th / 25th percentile of σ² (linear interpolation, numpy's default); null when n = 0. */
  q75over25: number | null;
}

/**
 * Zero threshold for singular values: σ ≤ max(m, n)·ε·σ_max counts as zero. ε is the machine epsilon
 * of the arithmetic that produced the matrix: 2^-23 for GPU (f32) results, 2^-52 for Float64.
 */
export function singularValueThreshold(sigma: readonly number[], rows: number, cols: number, epsilon: number): number {
  const max = sigma.reduce((m, s) => Math.max(m, Math.abs(s)), 0);
  return Math.max(rows, cols) * epsilon * max;
}

export const F32_EPSILON = 2 ** -23;
export const F64_EPSILON = 2 ** -52;

/** numpy.percentile's default ("linear") on a sorted ascending array, p in [0, 100]. */
export function percentileLinear(sortedAscending: readonly number[], p: number): number {
  const n = sortedAscending.length;
  if (n === 0) return NaN;
  const pos = (p / 100) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return sortedAscending[lo] + (pos - lo) * (sortedAscending[hi] - sortedAscending[lo]);
}

/**
 * @example
 * isotropy([3, 2, 1]); // { n: 3, hNorm: 0.7559, eRank: 2.2944, topE: [0.6429, …], q75over25: 2.6 }
 */
export function isotropy(sigma: readonly number[], options: { threshold?: number; topK?: number } = {}): Isotropy {
  const threshold = options.threshold ?? 0;
  const kept = sigma
    .map(Math.abs)
    .filter((s) => s > threshold)
    .sort((a, b) => b - a);
  const n = kept.length;
  const energy = kept.map((s) => s * s);
  const total = energy.reduce((a, b) => a + b, 0);
  const q = energy.map((e) => e / total);
  const entropy = -q.reduce((acc, qi) => acc + (qi > 0 ? qi * Math.log(qi) : 0), 0);
  const topK = options.topK ?? 10;
  const topE: number[] = [];
  let cumulative = 0;
  for (let k = 0; k < Math.min(topK, n); k++) {
    cumulative += q[k];
    topE.push(cumulative);
  }
  const ascending = [...energy].sort((a, b) => a - b);
  return {
    n,
    hNorm: n > 1 ? entropy / Math.log(n) : null,
    eRank: n > 0 ? Math.exp(entropy) : 0,
    topE,
    q75over25: n > 0 ? percentileLinear(ascending, 75) / percentileLinear(ascending, 25) : null,
  };
}
