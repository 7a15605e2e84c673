/**
 * Per-item recall metrics (docs/math.md §3) from the GPU's per-item arrays: which items are recovered, how
 * many, whether the top-k by frequency are all recovered, and the head/tail balance.
 */

/** Σ correct_i: the number of recovered items. */
export function capacity(correct: ArrayLike<number | boolean>): number {
  let count = 0;
  for (let i = 0; i < correct.length; i++) if (correct[i]) count++;
  return count;
}

/**
 * The largest k such that the k most frequent items are all recovered ([C]'s "recovers the top k").
 * `rankOrder[r]` is the item of frequency rank r (0 = most frequent); identity when omitted.
 */
export function capacityPrefix(correct: ArrayLike<number | boolean>, rankOrder?: ArrayLike<number>): number {
  const n = rankOrder ? rankOrder.length : correct.length;
  for (let r = 0; r < n; r++) {
    const item = rankOrder ? rankOrder[r] : r;
    if (!correct[item]) return r;
  }
  return n;
}

/** Δ = max_i pCorrect_i − min_i pCorrect_i, with the extremes. */
export function balanceGap(pCorrect: ArrayLike<number>): { delta: number; max: number; min: number } {
  let max = -Infinity;
  let min = Infinity;
  for (let i = 0; i < pCorrect.length; i++) {
    max = Math.max(max, pCorrect[i]);
    min = Math.min(min, pCorrect[i]);
  }
  return { delta: max - min, max, min };
}

export interface BucketStats {
  bucket: string;
  items: number;
  /** Mean p̂(y(i)|i) over the bucket. */
  meanPCorrect: number;
  /** Fraction of the bucket's items recovered. */
  accuracy: number;
}

/**
 * Mean pCorrect and accuracy per bucket. `bucketOf[i]` names item i's bucket (a group for
 * hierarchical / two-class frequencies, a log-spaced rank range for power laws).
 */
export function bucketStats(pCorrect: ArrayLike<number>, correct: ArrayLike<number | boolean>, bucketOf: readonly string[]): BucketStats[] {
  const acc = new Map<string, { items: number; p: number; c: number }>();
  for (let i = 0; i < bucketOf.length; i++) {
    const b = acc.get(bucketOf[i]) ?? { items: 0, p: 0, c: 0 };
    b.items++;
    b.p += pCorrect[i];
    b.c += correct[i] ? 1 : 0;
    acc.set(bucketOf[i], b);
  }
  return [...acc.entries()].map(([bucket, b]) => ({ bucket, items: b.items, meanPCorrect: b.p / b.items, accuracy: b.c / b.items }));
}

/**
 * Log-spaced frequency-rank buckets for power laws: ranks [1, 2), [2, 4), [4, 8), … (base 2 by
 * default), named by their rank range. `rankOf[i]` is item i's 0-based rank.
 */
export function logRankBuckets(rankOf: ArrayLike<number>, base = 2): string[] {
  const out: string[] = [];
  for (let i = 0; i < rankOf.length; i++) {
    const k = Math.floor(Math.log(rankOf[i] + 1) / Math.log(base) + 1e-12);
    const lo = base ** k;
    out.push(`ranks ${lo}-${base ** (k + 1) - 1}`);
  }
  return out;
}
