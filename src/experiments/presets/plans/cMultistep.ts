/**
 * `c-multistep` without its GPU code (Node-safe): settings per scale, sizes in words, cells.
 * The experiment itself: src/experiments/presets/cMultistep.ts.
 */
import type { PresetPlan } from '../types';
import { count, listed, plural } from './describe';

export interface MultistepSettings {
  N: number;
  ds: number[];
  as: number[];
  seeds: number;
  /** Steps t = 1 … shortSteps are fitted per t. */
  shortSteps: number;
  /** d whose runs continue up to maxSteps under the capacity-gain stop rule. */
  longDs: number[];
  maxSteps: number;
  /** d whose short runs are repeated through the scheduler (GPU exact, W kept in f32 on the GPU). */
  schedulerDs: number[];
  /** d whose short runs are repeated with the Float64 SVD direction (the cross-check series). */
  crossCheckDs: number[];
}

export const cMultistepPlan: PresetPlan<MultistepSettings, { a: number; d: number; seed: number }> = {
  name: 'c-multistep',
  title: 'Capacity after t population steps of Muon (η = 2√d): d^{2 − (1 − 1/(2a))^t}',
  paper:
    '[C] Kim, Nichani, Wu, Bietti, Lee, Sharp Capacity Scaling of Spectral Optimizers in Learning Associative Memory (arXiv 2603.26554), Fig. 4',
  predictions: [
    "Muon's recovered-item count after t steps grows as d^{2 − (1 − 1/(2a))^t}, t = 1 … 4 — with fixed η = 2√d and the exact polar step, and with [C]'s regularized step h_λ_t (λ_t = d_{t+1}^{−a}·√d / Σ_i i^{−a})",
    "GD with c-minibatch's rising η_t = 0.01√d·2^{t−1}: count and prefix capacity after one step grow as d^{1/(2a)}; later steps' exponents reported",
    'Long runs (stopped when capacity gains < 0.5% over 10 steps) approach d²',
    'The paper sees deviations at small a and large t: reported, not hidden',
  ],
  settings: {
    ci: {
      N: 2048,
      ds: [32, 64, 128],
      as: [1.5],
      seeds: 1,
      shortSteps: 4,
      longDs: [32],
      maxSteps: 40,
      schedulerDs: [],
      crossCheckDs: [32, 64, 128],
    },
    quick: {
      N: 4096,
      ds: [64, 128, 256],
      as: [1.5],
      seeds: 1,
      shortSteps: 4,
      longDs: [64, 128],
      maxSteps: 100,
      schedulerDs: [64, 128],
      crossCheckDs: [],
    },
    full: {
      N: 250_000,
      ds: [64, 128, 256, 512],
      as: [1.25, 1.5, 2],
      seeds: 4,
      shortSteps: 4,
      longDs: [64, 128, 256, 512],
      maxSteps: 500,
      schedulerDs: [64, 128, 256, 512],
      crossCheckDs: [],
    },
  },
  describe: (s) =>
    `N = ${count(s.N)}, a ${listed(s.as)}, d ${listed(s.ds)}, t ≤ ${s.shortSteps}, ${plural(s.seeds, 'task seed')}; long runs (≤ ${s.maxSteps} steps) at d ${listed(s.longDs)}` +
    (s.schedulerDs.length ? `; scheduler series at d ${listed(s.schedulerDs)}` : '') +
    (s.crossCheckDs.length ? `; Float64 SVD cross-check at d ${listed(s.crossCheckDs)}` : ''),
  estimates: {
    ci: '≈ 1–2 min on SwiftShader (measured 71 s with the muon-reg, GD and Float64 cross-check series)',
    quick: '≈ 7–9 min on SwiftShader (measured 390 and 520 s in two runs, sharing 2 cores with one other job; slower under heavy load)',
    full: 'many hours on a GPU; not for CPU adapters',
  },
  // One cell per (a, d, task seed), in the order a single run visits them: per step the N × d
  // gradient and evaluation (N·d²) and a d × d polar factor; long runs may take up to maxSteps.
  cells: (scale) => {
    const { N, ds, as, seeds, shortSteps, longDs, maxSteps, schedulerDs, crossCheckDs } = cMultistepPlan.settings[scale];
    return as.flatMap((a) =>
      ds.flatMap((d) =>
        Array.from({ length: seeds }, (_, k) => {
          // exact and muon-reg (long or short), GD (short), scheduler and cross-check series (short).
          const steps =
            2 * (longDs.includes(d) ? maxSteps : shortSteps) +
            shortSteps +
            (schedulerDs.includes(d) ? shortSteps : 0) +
            (crossCheckDs.includes(d) ? shortSteps : 0);
          return { id: `a=${a},d=${d},seed=${k + 1}`, cost: steps * (N * d * d + d ** 3), params: { a, d, seed: k + 1 } };
        }),
      ),
    );
  },
};
