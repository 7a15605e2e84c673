/**
 * `c-critical-batch` without its GPU code (Node-safe): settings per scale, sizes in words, cells.
 * The experiment itself: src/experiments/presets/cCriticalBatch.ts.
 */
import type { PresetPlan } from '../types';
import { count, listed, plural } from './describe';

export interface CriticalBatchSettings {
  N: number;
  ds: number[];
  a: number;
  seeds: number;
  /** Batch sizes swept (B = ∞, the population step, is always added). */
  batches: number[];
  evalItems: number;
  /** Also take Muon's direction from a Float64 SVD (the cross-check: items per (d, B) beside the GPU's). */
  crossCheck: boolean;
}

const powersOfTwo = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => 2 ** (from + k));

/** `B = 2 … 2^14` for a sweep of powers of two. */
function batchWords(batches: readonly number[]): string {
  const log2 = (b: number) => Math.log2(b);
  const powers = batches.every((b, k) => k === 0 || b === 2 * batches[k - 1]);
  return powers ? `B = ${batches[0]} … 2^${log2(batches[batches.length - 1])}` : `B ${listed(batches)}`;
}

export const cCriticalBatchPlan: PresetPlan<CriticalBatchSettings, { d: number; seed: number }> = {
  name: 'c-critical-batch',
  title: "Critical batch size of one minibatch step: Muon's ≈ d^{a+1/2} vs SGD's ≈ √d",
  paper:
    '[C] Kim, Nichani, Wu, Bietti, Lee, Sharp Capacity Scaling of Spectral Optimizers in Learning Associative Memory (arXiv 2603.26554), Fig. 3',
  predictions: [
    'One step with minibatch B recovers ≈ min(d^{1+1/(2a)}, B^{1/a}) items with Muon',
    "Muon's critical batch (where capacity saturates) grows as d^{a+1/2}",
    "SGD's critical batch grows as √d, far below Muon's",
  ],
  settings: {
    ci: { N: 2048, ds: [32, 64, 128], a: 1.5, seeds: 1, batches: powersOfTwo(1, 14), evalItems: 512, crossCheck: true },
    quick: { N: 4096, ds: [64, 128, 256], a: 1.5, seeds: 2, batches: powersOfTwo(1, 16), evalItems: 1024, crossCheck: false },
    full: {
      N: 100_000,
      ds: [64, 128, 256, 512, 1024],
      a: 1.5,
      seeds: 16,
      batches: powersOfTwo(1, 22),
      evalItems: 16_384,
      crossCheck: false,
    },
  },
  describe: (s) =>
    `N = ${count(s.N)}, a = ${s.a}, d ${listed(s.ds)}, ${batchWords(s.batches)}, ${plural(s.seeds, 'task seed')}, top ${count(s.evalItems)} items evaluated`,
  estimates: {
    ci: '≈ 30–50 s on SwiftShader (measured 29–38 s; 51 s on a heavily loaded machine)',
    quick: '≈ 7–11 min on SwiftShader (measured 444 s; 662 s on a heavily loaded machine)',
    full: 'hours on a GPU (the Float64 SVDs at d = 1024 run on the CPU); not for CPU adapters',
  },
  // One cell per (d, task seed), in the order a single run visits them: per batch size a Float64
  // gradient (N·d²) and SVD (≈ d³), and the evaluation of two matrices on the GPU.
  cells: (scale) => {
    const { N, ds, seeds, batches } = cCriticalBatchPlan.settings[scale];
    return ds.flatMap((d) =>
      Array.from({ length: seeds }, (_, s) => ({
        id: `d=${d},seed=${s + 1}`,
        cost: (batches.length + 1) * (N * d * d + d ** 3),
        params: { d, seed: s + 1 },
      })),
    );
  },
};
