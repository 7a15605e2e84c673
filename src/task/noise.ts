/**
 * Label noise (docs/math.md §1): target t(j|i) = (1−ε)·[j = y(i)] + ε/N, y(i) = i. Sampled labels come from
 * integer comparisons so GPU and CPU draw the same label (docs/math.md §6): a draw is noisy when its u32
 * lies below ⌊ε·2^32⌋ (computed once in Float64), and a noisy label is ⌊u·N / 2^32⌋ (the high word
 * of a 32×32 product) — uniform over all N items, the true one included, as t(·|i) says.
 */
import { mulhi32 } from '../cpu/philox';

export type NoiseTarget = 'sampled' | 'expected';

/** Checks ε ∈ [0, 1); throws naming the field. */
export function validateNoise(noise: number, field = 'task.noise'): void {
  if (!(noise >= 0 && noise < 1)) throw new RangeError(`${field}: must be in [0, 1), got ${noise}`);
}

/** The u32 threshold below which a draw is noisy: ⌊ε·2^32⌋ (< 2^32 since ε < 1). */
export function noiseThreshold(noise: number): number {
  validateNoise(noise);
  return Math.min(0xffffffff, Math.floor(noise * 2 ** 32));
}

/** A uniform item from a u32: ⌊x·N / 2^32⌋, exact integer arithmetic on both sides. */
export function uniformItem(x: number, N: number): number {
  return mulhi32(x >>> 0, N >>> 0);
}

/** Target distribution t(·|item) as a dense Float64 row (CPU reference). */
export function targetRow(item: number, N: number, noise: number): Float64Array {
  const t = new Float64Array(N).fill(noise / N);
  t[item] += 1 - noise;
  return t;
}
