/**
 * `c-capacity-onestep` without its GPU code (Node-safe): settings per scale, sizes in words, cells.
 * The experiment itself: src/experiments/presets/cCapacityOnestep.ts.
 */
import type { PresetPlan } from '../types';
import { count, listed, plural } from './describe';

export interface CapacityOnestepSettings {
  N: number;
  ds: number[];
  as: number[];
  seeds: number;
  /** Also take Muon's direction from a Float64 SVD (the cross-check series, with ‖UVᵀ_GPU − UVᵀ_f64‖₂). */
  crossCheck: boolean;
}

export const cCapacityOnestepPlan: PresetPlan<CapacityOnestepSettings, { a: number; d: number; seed: number }> = {
  name: 'c-capacity-onestep',
  title: 'Storage capacity after one step: Muon ≈ d^{1+1/(2a)} vs GD ≈ d^{1/(2a)}',
  paper:
    '[C] Kim, Nichani, Wu, Bietti, Lee, Sharp Capacity Scaling of Spectral Optimizers in Learning Associative Memory (arXiv 2603.26554), Fig. 2',
  predictions: [
    "Muon's recovered-item count grows as d^{1+1/(2a)}",
    "GD's grows as d^{1/(2a)} (derived from the model)",
    'Muon recovers more items than GD at every d',
    'Exponents across a follow c1 + c2/a: Muon ≈ (1, 1/2), GD ≈ (0, 1/2)',
  ],
  settings: {
    ci: { N: 4096, ds: [64, 128, 256], as: [1.5], seeds: 4, crossCheck: true },
    quick: { N: 4096, ds: [64, 128, 256], as: [1.25, 1.5, 2], seeds: 2, crossCheck: true },
    full: { N: 100_000, ds: [64, 128, 256, 512, 1024], as: [1.25, 1.5, 2, 2.5, 3], seeds: 16, crossCheck: false },
  },
  describe: (s) =>
    `N = ${count(s.N)}, d ${listed(s.ds)}, a ${listed(s.as)}, ${plural(s.seeds, 'task seed')}${s.crossCheck ? ', Float64 SVD cross-check' : ''}`,
  estimates: { ci: '≈ 2–3 min on SwiftShader', quick: '≈ 4–6 min on SwiftShader', full: 'hours on a GPU; not for CPU adapters' },
  // One cell per (a, d, task seed), in the order a single run visits them; cost ∝ the N × d × d gradient.
  cells: (scale) => {
    const { N, ds, as, seeds } = cCapacityOnestepPlan.settings[scale];
    return as.flatMap((a) =>
      ds.flatMap((d) =>
        Array.from({ length: seeds }, (_, s) => ({ id: `a=${a},d=${d},seed=${s + 1}`, cost: N * d * d, params: { a, d, seed: s + 1 } })),
      ),
    );
  },
};
