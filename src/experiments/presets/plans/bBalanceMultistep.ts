/**
 * `b-balance-multistep` without its GPU code (Node-safe): settings per scale, sizes in words, cells.
 * The experiment itself: src/experiments/presets/bBalanceMultistep.ts.
 */
import type { PresetPlan } from '../types';
import { EMBEDDINGS, type BalanceEmbedding } from './bBalanceOnestep';

export interface MultistepSettings {
  N: number;
  headCount: number;
  steps: number;
}

export const bBalanceMultistepPlan: PresetPlan<MultistepSettings, { embedding: BalanceEmbedding }> = {
  name: 'b-balance-multistep',
  title: 'Balance along training: multi-step Muon stays balanced, GD does not, SignGD only on identity',
  paper: '[B] Wang et al., Muon Outperforms Adam in Tail-End Associative Memory Learning (arXiv 2509.26030), §5',
  predictions: [
    "Muon's ϱ_τ along training ≥ 1 − τ(1 + 2 ln N/N), the same on identity and coupled-rotation",
    "GD's ϱ_τ along training equals its Float64 per-item recurrence (poor, same for both embeddings)",
    'SignGD: Δ = 0 on identity; less balanced than Muon on coupled-rotation; Adam reported',
  ],
  settings: {
    ci: { N: 150, headCount: 30, steps: 13 },
    quick: { N: 300, headCount: 60, steps: 16 },
    full: { N: 999, headCount: 201, steps: 24 },
  },
  describe: (s) =>
    `N = d = ${s.N}, ${s.headCount} head items${s.N === 999 ? " ([B]'s size)" : ''}, ${s.steps} steps, GD / SignGD / Muon exact / Adam × 2 embeddings`,
  estimates: { ci: '≈ 35 s on SwiftShader (measured)', quick: '≈ 1.5 min on SwiftShader (measured 96 s)', full: 'minutes on a GPU' },
  // One cell per embedding (the four optimizers train together); Muon's N × N polar factor per step dominates.
  cells: (scale) => {
    const { N, steps } = bBalanceMultistepPlan.settings[scale];
    return EMBEDDINGS.map((embedding) => ({ id: embedding, cost: steps * N ** 3, params: { embedding } }));
  },
};
