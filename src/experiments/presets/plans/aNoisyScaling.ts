/**
 * `a-noisy-scaling` without its GPU code (Node-safe): settings per scale, sizes in words, cells.
 * The experiment itself: src/experiments/presets/aNoisyScaling.ts.
 */
import type { PresetPlan } from '../types';
import { count, listed } from './describe';

export interface NoisySettings {
  N: number;
  groups: number;
  groupExponent: number;
  noise: number;
  /** Muon's η = muonC·ln N / T. */
  muonC: number;
  horizons: number[];
  /** GD's step sizes, as multiples of 1/p_max. */
  gdFactors: number[];
  /** Whether GD's T^−(1−1/b) law is in its regime at this size (docs/math.md §4: only with C ≫ M, on a GPU). */
  checkGd: boolean;
  /** Refuse to run on a CPU (fallback) adapter. */
  gpuOnly: boolean;
}

export const aNoisyScalingPlan: PresetPlan<NoisySettings, { T: number }> = {
  name: 'a-noisy-scaling',
  title: 'Label noise: excess loss ∝ T^−2 for Muon (η = Θ(ln N/T)) vs T^−(1−1/b) for the best GD',
  paper: '[A] Li, Wang, Zhong, Lu, Wang, Muon in Associative Memory Learning: Training Dynamics and Scaling Laws (arXiv 2602.05725)',
  predictions: [
    "Muon's excess loss over the label entropy after T steps ∝ T^−2 with η = 2·ln N/T",
    "The best GD's (over an η grid) ∝ T^−(1−1/b) — needs many groups and C ≫ M: checked at full scale only, on a GPU",
    "Muon's excess is below the best GD's at every T (full scale; with few groups a tuned GD overtakes Muon at long horizons — reported at ci/quick, not checked)",
  ],
  settings: {
    ci: {
      N: 64,
      groups: 4,
      groupExponent: 2,
      noise: 0.1,
      muonC: 2,
      horizons: [16, 23, 32, 45, 64],
      gdFactors: [0.5, 1, 2, 4],
      checkGd: false,
      gpuOnly: false,
    },
    quick: {
      N: 256,
      groups: 4,
      groupExponent: 2,
      noise: 0.1,
      muonC: 2,
      horizons: [16, 23, 32, 45, 64, 90],
      gdFactors: [0.5, 1, 2, 4],
      checkGd: false,
      gpuOnly: false,
    },
    full: {
      N: 4096,
      groups: 16,
      groupExponent: 2,
      noise: 0.1,
      muonC: 2,
      horizons: [32, 45, 64, 90, 128, 181, 256, 362, 512, 724, 1024],
      gdFactors: [0.25, 0.5, 1, 2, 4, 8],
      checkGd: true,
      gpuOnly: true,
    },
  },
  describe: (s) =>
    `${s.checkGd ? '' : 'reduced: '}N = ${s.N}, M = ${s.groups} (C/M = ${s.N / s.groups / s.groups}), b = ${s.groupExponent}, ε = ${s.noise}, T ${listed(s.horizons)}, GD η ∈ {${s.gdFactors.join(', ')}}/p_max, ${count(s.horizons.reduce((sum, T) => sum + T, 0))} Muon steps in all; ` +
    (s.checkGd
      ? 'checks both laws'
      : "checks Muon's T^−2 law only; GD's law and Muon < GD are recorded as inconclusive (they hold from full on: no honest small scale, docs/math.md §4)") +
    (s.gpuOnly ? '; GPU only (refuses to start on a CPU/fallback adapter)' : ''),
  estimates: {
    ci: '≈ 25 s on SwiftShader (measured)',
    quick: '≈ 3–4 min on SwiftShader (measured 193–225 s)',
    full: 'roughly an hour on a GPU (not measured)',
  },
  // One cell per horizon T (Muon and the GD grid train together): T steps of Muon's exact polar
  // factor (≈ 36·N³ each) dominate.
  cells: (scale) =>
    aNoisyScalingPlan.settings[scale].horizons.map((T) => ({
      id: `T=${T}`,
      cost: T * 36 * aNoisyScalingPlan.settings[scale].N ** 3,
      params: { T },
    })),
};
