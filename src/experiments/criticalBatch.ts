/**
 * Where a capacity-vs-batch curve saturates ([C] Fig. 3): the critical batch B* is the smallest batch
 * whose capacity reaches a fraction of the population (B = ∞) capacity, interpolated linearly in
 * log B between the two sweep points around the crossing.
 */

export interface CapacityCurvePoint {
  batchSize: number;
  capacity: number;
}

/**
 * The first B at which `capacity ≥ fraction·plateau`, log-interpolated; the smallest swept B when
 * already the first point is above, NaN when no point reaches it. Points are sorted by B here.
 *
 * @example
 * criticalBatch([{ batchSize: 16, capacity: 5 }, { batchSize: 64, capacity: 20 }], 20, 0.9); // ≈ 54
 */
export function criticalBatch(curve: readonly CapacityCurvePoint[], plateau: number, fraction = 0.9): number {
  if (!(fraction > 0 && fraction <= 1)) throw new RangeError(`criticalBatch: fraction must be in (0, 1], got ${fraction}`);
  const points = [...curve].sort((p, q) => p.batchSize - q.batchSize);
  const target = fraction * plateau;
  for (let k = 0; k < points.length; k++) {
    if (points[k].capacity >= target) {
      if (k === 0) return points[0].batchSize;
      const lo = points[k - 1];
      const hi = points[k];
      const s = (target - lo.capacity) / (hi.capacity - lo.capacity);
      return Math.exp(Math.log(lo.batchSize) + s * (Math.log(hi.batchSize) - Math.log(lo.batchSize)));
    }
  }
  return NaN;
}
