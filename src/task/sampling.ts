/**
 * Minibatch sampling tables and the CPU twin of shaders/task/sampling.wgsl (docs/math.md §6): frequencies become
 * cumulative u32 thresholds once, in Float64, so both sides sample by integer comparison and draw
 * bit-identical items. Item of a u32 x: the number of thresholds T_k ≤ x (T_k = ⌊(p_0+…+p_k)·2^32⌋,
 * k < N−1), so P(item = k) = (T_k − T_{k−1}) / 2^32 = p_k up to 2^-32.
 */
import { philoxDraw, PHILOX_STREAMS } from '../cpu/philox';
import { validateFrequencies } from './frequencies';
import { noiseThreshold, uniformItem } from './noise';

/** Cumulative thresholds (N − 1 of them; none for N = 1). */
export function samplingThresholds(p: ArrayLike<number>, field = 'task.frequency'): Uint32Array {
  validateFrequencies(p, field);
  const N = p.length;
  const t = new Uint32Array(Math.max(0, N - 1));
  let cum = 0;
  for (let k = 0; k < N - 1; k++) {
    cum += p[k];
    t[k] = Math.min(0xffffffff, Math.floor(cum * 2 ** 32));
  }
  return t;
}

/** Item of a u32 draw: #{k : T_k ≤ x} by binary search (thresholds are non-decreasing). */
export function itemFromThresholds(x: number, thresholds: Uint32Array): number {
  let lo = 0;
  let hi = thresholds.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (thresholds[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface MinibatchDraws {
  /** Item of each draw, [runs·B]. */
  items: Uint32Array;
  /** Label of each draw (the item itself unless the noise flag fired), [runs·B]. */
  labels: Uint32Array;
}

/**
 * The CPU twin of `sample_minibatch`: draw b of step `step` of a run with seed s uses
 * philox((b, step, 0, 0), (s, PHILOX_STREAMS.minibatch)): lane 0 → item, lane 1 → noise flag,
 * lane 2 → noise label.
 */
export function sampleMinibatchCpu(args: {
  seeds: readonly number[];
  step: number;
  batchSize: number;
  thresholds: Uint32Array;
  N: number;
  noise: number;
}): MinibatchDraws {
  const { seeds, step, batchSize: B, thresholds, N } = args;
  const nt = noiseThreshold(args.noise);
  const items = new Uint32Array(seeds.length * B);
  const labels = new Uint32Array(seeds.length * B);
  seeds.forEach((seed, r) => {
    for (let b = 0; b < B; b++) {
      const x = philoxDraw(seed, PHILOX_STREAMS.minibatch, b, step);
      const item = itemFromThresholds(x[0], thresholds);
      items[r * B + b] = item;
      labels[r * B + b] = x[1] < nt ? uniformItem(x[2], N) : item;
    }
  });
  return { items, labels };
}
