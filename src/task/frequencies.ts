/**
 * Item frequencies p_i (docs/math.md §1, `task.frequency`), in Float64, item i = frequency rank i + 1.
 * None of the kinds permutes items (PHILOX_STREAMS.frequencyPermutation is reserved for one that
 * would), so item 0 is always the most frequent.
 */
import type { FrequencyConfig } from './task';

/** Relative tolerance on Σp = 1 for frequencies given by a caller (Float64 sums of N terms). */
export const FREQUENCY_SUM_TOLERANCE = 1e-9;

/**
 * @example
 * frequencies(4, { kind: 'two-class', headCount: 1, headMass: 0.7 }); // → [0.7, 0.1, 0.1, 0.1]
 */
export function frequencies(N: number, config: FrequencyConfig): Float64Array {
  if (!Number.isInteger(N) || N < 1) throw new RangeError(`task.N: must be a positive integer, got ${N}`);
  const p = new Float64Array(N);
  switch (config.kind) {
    case 'uniform':
      p.fill(1 / N);
      break;
    case 'power': {
      const a = config.powerExponent;
      if (!(a >= 0) || !Number.isFinite(a)) throw new RangeError(`task.frequency.powerExponent: must be ≥ 0 and finite, got ${a}`);
      for (let i = 0; i < N; i++) p[i] = (i + 1) ** -a;
      break;
    }
    case 'hierarchical': {
      const M = config.groups;
      const b = config.groupExponent;
      if (!Number.isInteger(M) || M < 1 || N % M !== 0) {
        throw new RangeError(`task.frequency.groups: must be a positive divisor of N = ${N}, got ${M}`);
      }
      if (!(b >= 0) || !Number.isFinite(b)) throw new RangeError(`task.frequency.groupExponent: must be ≥ 0 and finite, got ${b}`);
      const C = N / M;
      for (let i = 0; i < N; i++) p[i] = (Math.floor(i / C) + 1) ** -b / C;
      break;
    }
    case 'two-class': {
      const { headCount, headMass } = config;
      if (!Number.isInteger(headCount) || headCount < 1 || headCount > N) {
        throw new RangeError(`task.frequency.headCount: must be an integer in [1, N = ${N}], got ${headCount}`);
      }
      if (!(headMass >= 0 && headMass <= 1)) throw new RangeError(`task.frequency.headMass: must be in [0, 1], got ${headMass}`);
      if (headCount === N && headMass !== 1) {
        throw new RangeError(
          `task.frequency.headMass: with headCount = N every item is a head item, so headMass must be 1, got ${headMass}`,
        );
      }
      for (let i = 0; i < N; i++) p[i] = i < headCount ? headMass / headCount : (1 - headMass) / (N - headCount);
      return p;
    }
  }
  let sum = 0;
  for (let i = 0; i < N; i++) sum += p[i];
  for (let i = 0; i < N; i++) p[i] /= sum;
  return p;
}

/**
 * Checks caller-given frequencies: finite, non-negative, summing to 1 within
 * FREQUENCY_SUM_TOLERANCE. Throws naming `field`.
 */
export function validateFrequencies(p: ArrayLike<number>, field = 'frequencies'): void {
  if (p.length === 0) throw new RangeError(`${field}: no items (N = 0)`);
  let sum = 0;
  for (let i = 0; i < p.length; i++) {
    if (!Number.isFinite(p[i])) throw new RangeError(`${field}[${i}] is ${p[i]}: frequencies must be finite`);
    if (p[i] < 0) throw new RangeError(`${field}[${i}] is ${p[i]}: frequencies must be non-negative`);
    sum += p[i];
  }
  if (Math.abs(sum - 1) > FREQUENCY_SUM_TOLERANCE) {
    throw new RangeError(`${field}: must sum to 1, got ${sum}`);
  }
}
