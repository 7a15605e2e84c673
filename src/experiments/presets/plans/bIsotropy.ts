/**
 * `b-isotropy` without its GPU code (Node-safe): settings per scale, sizes in words, cells.
 * The experiment itself: src/experiments/presets/bIsotropy.ts.
 */
import type { PresetPlan } from '../types';
import { EMBEDDINGS, type BalanceEmbedding } from './bBalanceOnestep';

export interface IsotropySettings {
  N: number;
  headCount: number;
  steps: number;
  every: number;
  /** Step sizes per optimizer: these multiples of its base η. */
  lrFactors: number[];
}

export const bIsotropyPlan: PresetPlan<IsotropySettings, { embedding: BalanceEmbedding }> = {
  name: 'b-isotropy',
  title: 'Spectral isotropy of W and of the update along training, per optimizer and step size',
  paper: '[B] Wang et al., Muon Outperforms Adam in Tail-End Associative Memory Learning (arXiv 2509.26030), §4.2',
  predictions: [
    "Muon's update is isotropic: every nonzero σ = 1 (eRank = N − 1, Q75/25 = 1) at every step, η and embedding",
    "GD's first update is not: its isotropy equals that of Ẽ(11ᵀ/N − I)diag(p)Eᵀ",
    "SignGD's first update on coupled-rotation: 3×3 block σ_min/σ_max ≈ 0.247, whole update ≈ 0.001 at N = 999 (∝ 1/N)",
    "Muon's weights end more isotropic (higher eRank) than GD's and — [B]'s claim — Adam's; than SignGD's on coupled-rotation (identity: reported)",
    'Every Muon update is more isotropic (H_norm) than every Adam update, and than every SignGD update on coupled-rotation',
  ],
  settings: {
    ci: { N: 150, headCount: 30, steps: 6, every: 2, lrFactors: [0.5, 1, 2] },
    quick: { N: 300, headCount: 60, steps: 12, every: 2, lrFactors: [0.5, 1, 2] },
    full: { N: 999, headCount: 201, steps: 24, every: 4, lrFactors: [0.25, 0.5, 1, 2, 4] },
  },
  describe: (s) => {
    const runs = 4 * s.lrFactors.length;
    // Two Float64 SVDs (W and the update) per run at every isotropy step, on the CPU.
    const svds = 2 * EMBEDDINGS.length * runs * (Math.floor(s.steps / s.every) + 1);
    return `N = d = ${s.N}, ${s.headCount} head items${s.N === 999 ? " ([B]'s size)" : ''}, ${s.steps} steps, 4 optimizers × ${s.lrFactors.length} step sizes × 2 embeddings, isotropy every ${s.every} steps (≈ ${svds} Float64 SVDs of ${s.N} × ${s.N} on the CPU)`;
  },
  estimates: {
    ci: '≈ 1 min on SwiftShader (measured)',
    quick: '≈ 5 min on SwiftShader (measured 281 s)',
    full: 'an hour or more: the Float64 SVDs run on the CPU (GPU time is minutes)',
  },
  // One cell per embedding; the Float64 SVDs of every run at every isotropy step (≈ N³ each) dominate.
  cells: (scale) => {
    const { N, steps, every, lrFactors } = bIsotropyPlan.settings[scale];
    return EMBEDDINGS.map((embedding) => ({
      id: embedding,
      cost: 8 * lrFactors.length * (Math.floor(steps / every) + 1) * N ** 3,
      params: { embedding },
    }));
  },
};
