/**
 * `b-balance-onestep` without its GPU code (Node-safe): settings per scale, sizes in words, cells.
 * The experiment itself: src/experiments/presets/bBalanceOnestep.ts.
 */
import type { PresetPlan } from '../types';

export interface BalanceOnestepSettings {
  N: number;
  headCount: number;
  /**
   * The sweep over the number of classes K (= N = d, head items K/5 so r = p_tail/p_head stays 1/16):
   * ϱ_0.1 of GD, SignGD and Muon on coupled-rotation per K (multiples of 15: 3×3 blocks, fifths).
   */
  sweepKs: number[];
}

export const EMBEDDINGS = ['identity', 'coupled-rotation'] as const;
export type BalanceEmbedding = (typeof EMBEDDINGS)[number];

export type BalanceOnestepCell = { embedding: BalanceEmbedding; K?: number };

export const bBalanceOnestepPlan: PresetPlan<BalanceOnestepSettings, BalanceOnestepCell> = {
  name: 'b-balance-onestep',
  title: 'Balance after one step: GD vs SignGD vs Muon vs Adam on head/tail items',
  paper: '[B] Wang et al., Muon Outperforms Adam in Tail-End Associative Memory Learning (arXiv 2509.26030), §5',
  predictions: [
    "GD's ϱ_τ equals the closed form x/(x+N−1) and is the same for identity and coupled-rotation embeddings",
    "Muon's ϱ_τ ≥ 1 − τ(1 + 2 ln N/N) on both embeddings",
    'SignGD ≈ Muon on identity; SignGD collapses (ϱ_0.1 < 0.5) on coupled-rotation',
    'Adam with β1 = β2 = 0, ε = 1e-12 matches SignGD',
    "Over K = N (quick, full): GD's ϱ ∝ K^{r−1}, SignGD's on coupled-rotation ∝ K^{−0.3}, Muon's ≥ 1 − τ(1 + O(log K/K)) — fitted exponents",
  ],
  settings: {
    ci: { N: 300, headCount: 60, sweepKs: [] },
    quick: { N: 600, headCount: 120, sweepKs: [150, 300, 600] },
    full: { N: 999, headCount: 201, sweepKs: [150, 300, 600, 1200] },
  },
  describe: (s) =>
    `N = d = ${s.N}, ${s.headCount} head items${s.N === 999 ? " ([B]'s size)" : ''}${s.sweepKs.length ? `; K sweep ${s.sweepKs.join(', ')}` : ''}`,
  estimates: { ci: '≈ 20 s on SwiftShader', quick: 'a few minutes on SwiftShader', full: 'minutes on a GPU' },
  // One cell per embedding; its cost is dominated by the N × N polar factors and evaluations (∝ N³).
  // Sweep cells: one per K (coupled-rotation, three optimizers, τ = 0.1).
  cells: (scale) => [
    ...EMBEDDINGS.map((embedding): { id: string; cost: number; params: BalanceOnestepCell } => ({
      id: embedding,
      cost: bBalanceOnestepPlan.settings[scale].N ** 3,
      params: { embedding },
    })),
    ...bBalanceOnestepPlan.settings[scale].sweepKs.map((K) => ({
      id: `K=${K}`,
      cost: 0.3 * K ** 3,
      params: { embedding: 'coupled-rotation' as const, K },
    })),
  ],
};
