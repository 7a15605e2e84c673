/**
 * `c-minibatch` without its GPU code (Node-safe): settings per scale, sizes in words, cells.
 * The experiment itself: src/experiments/presets/cMinibatch.ts.
 */
import type { PresetPlan } from '../types';
import { count, listed, plural } from './describe';

export interface MinibatchSettings {
  N: number;
  d: number;
  a: number;
  /** Population GD and Muon steps. */
  populationSteps: number;
  /** Minibatch Muon steps and batch sizes. */
  minibatchSteps: number;
  batches: number[];
  seeds: number;
  evalItems: number;
  /** Also run population Muon with the Float64 SVD direction (the cross-check series). */
  crossCheck: boolean;
  /** Minibatch steps evaluated (besides 0 and the last). */
  evalSteps: number[] | 'all';
}

/** A cell: per task seed, the population runs (batchSize null) or one minibatch size. */
export type MinibatchCellParams = { seed: number; batchSize: number | null };

export const cMinibatchPlan: PresetPlan<MinibatchSettings, MinibatchCellParams> = {
  name: 'c-minibatch',
  title: 'Minibatch Muon and the sample limit (B·t)^{1/a}; GD with a rising step size vs Muon',
  paper:
    '[C] Kim, Nichani, Wu, Bietti, Lee, Sharp Capacity Scaling of Spectral Optimizers in Learning Associative Memory (arXiv 2603.26554), Fig. 5',
  predictions: [
    'With fresh minibatches Muon recovers at most the (B·t)^{1/a} distinct items it has seen (up to chance wins, ≈ 1/N per unseen item)',
    'Distinct items seen grow as (B·t)^{1/a}',
    'Population Muon (η = √d) recovers more items than GD rising from η_1 = 0.01√d',
  ],
  settings: {
    ci: {
      N: 2048,
      d: 64,
      a: 1.5,
      populationSteps: 4,
      minibatchSteps: 20,
      batches: [4, 16, 64],
      seeds: 1,
      evalItems: 512,
      evalSteps: [1, 2, 4, 6, 8, 12, 16],
      crossCheck: true,
    },
    quick: {
      N: 4096,
      d: 64,
      a: 1.5,
      populationSteps: 20,
      minibatchSteps: 20,
      batches: [4, 16, 64, 256],
      seeds: 1,
      evalItems: 1024,
      evalSteps: 'all',
      crossCheck: false,
    },
    full: {
      N: 100_000,
      d: 256,
      a: 1.5,
      populationSteps: 20,
      minibatchSteps: 20,
      batches: [16, 64, 256, 1024, 4096],
      seeds: 4,
      evalItems: 16_384,
      evalSteps: 'all',
      crossCheck: false,
    },
  },
  describe: (s) =>
    `N = ${count(s.N)}, d = ${s.d}, a = ${s.a}, ${s.populationSteps} population steps, minibatch B ${listed(s.batches)} × ${s.minibatchSteps} steps` +
    `${s.evalSteps === 'all' ? '' : ` (evaluated at ${s.evalSteps.length + 2} steps)`}, ${plural(s.seeds, 'task seed')}, top ${count(s.evalItems)} items`,
  estimates: {
    ci: '≈ 1 min on SwiftShader (measured 52–63 s on a loaded machine)',
    quick: '≈ 3–8 min on SwiftShader (measured 165–472 s, depending on load)',
    full: 'an hour or more on a GPU; not for CPU adapters',
  },
  // Per task seed: one cell of population GD and Muon (every item evaluated each step: N·d² plus a
  // d × d SVD), then one cell per minibatch size (B·d² per step, evaluation on the top items).
  cells: (scale) => {
    const s = cMinibatchPlan.settings[scale];
    const step = (rows: number) => rows * s.d * s.d + s.d ** 3;
    return Array.from({ length: s.seeds }, (_, k) => k + 1).flatMap((seed) => [
      { id: `seed=${seed},population`, cost: s.populationSteps * 2 * step(s.N), params: { seed, batchSize: null } },
      ...s.batches.map((B) => ({
        id: `seed=${seed},B=${B}`,
        cost: s.minibatchSteps * step(B + Math.min(s.evalItems, s.N)),
        params: { seed, batchSize: B },
      })),
    ]);
  },
};
