/**
 * `b-balance-onestep` without its GPU code (Node-safe): settings per scale, sizes in words, cells.
 * The experiment itself: src/experiments/presets/bBalanceOnestep.ts.
 */
import type { PresetPlan } from '../types';

export interface BalanceOnestepSettings {
  N: number;
  headCount: number;
}

export const EMBEDDINGS = ['identity', 'coupled-rotation'] as const;
export type BalanceEmbedding = (typeof EMBEDDINGS)[number];

export const bBalanceOnestepPlan: PresetPlan<BalanceOnestepSettings, { embedding: BalanceEmbedding }> = {
  name: 'b-balance-onestep',
  title: 'Balance after one step: GD vs SignGD vs Muon vs Adam on head/tail items',
  paper: '[B] Wang et al., Muon Outperforms Adam in Tail-End Associative Memory Learning (arXiv 2509.26030), §5',
  predictions: [
    "GD's ϱ_τ equals the closed form x/(x+N−1) and is the same for identity and coupled-rotation embeddings",
    "Muon's ϱ_τ ≥ 1 − τ(1 + 2 ln N/N) on both embeddings",
    'SignGD ≈ Muon on identity; SignGD collapses (ϱ_0.1 < 0.5) on coupled-rotation',
    'Adam with β1 = β2 = 0, ε = 1e-12 matches SignGD',
  ],
  settings: {
    ci: { N: 300, headCount: 60 },
    quick: { N: 600, headCount: 120 },
    full: { N: 999, headCount: 201 },
  },
  describe: (s) => `N = d = ${s.N}, ${s.headCount} head items${s.N === 999 ? " ([B]'s size)" : ''}`,
  estimates: { ci: '≈ 20 s on SwiftShader', quick: 'a few minutes on SwiftShader', full: 'minutes on a GPU' },
  // One cell per embedding; its cost is dominated by the N × N polar factors and evaluations (∝ N³).
  cells: (scale) => EMBEDDINGS.map((embedding) => ({ id: embedding, cost: bBalanceOnestepPlan.settings[scale].N ** 3, params: { embedding } })),
};
