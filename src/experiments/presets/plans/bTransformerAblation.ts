/**
 * `b-transformer-ablation` without its GPU code (Node-safe): settings per scale, sizes in words,
 * cells. The experiment itself: src/experiments/presets/bTransformerAblation.ts.
 */
import type { TransformerConfigInput } from '../../../model/config';
import type { MlpKind } from '../../../layout/transformerShape';
import type { PresetCell, PresetPlan, Scale } from '../types';
import { count, plural } from './describe';
import { ABLATION_ASSIGNMENTS, cellConfig, describeModel, knowledgeData, tokensPerStep, TRANSFORMER_SCALES } from './transformerCommon';

export interface AblationSettings {
  model: Scale;
  mlps: MlpKind[];
  /** Exponent of the knowledge corpus (docs/transformer.md §6: α = 1). */
  alpha: number;
  steps: number;
  seeds: number[];
  every: number;
  validationEvery: number;
}

export type AblationCellParams = { mlp: MlpKind; assignment: string };

export const bTransformerAblationPlan: PresetPlan<AblationSettings, AblationCellParams> = {
  name: 'b-transformer-ablation',
  title: 'Which matrices gain from Muon: the seven Muon/AdamW assignments of [B], plain (ReLU²) and gated (SwiGLU) MLP, validation loss',
  paper: '[B] Wang et al., Muon Outperforms Adam in Tail-End Associative Memory Learning (arXiv 2509.26030), §2 (component ablation)',
  predictions: [
    'validation loss: all-Muon ≤ Muon(V,O,MLP)/Adam(Q,K) < all-Adam',
    'Muon(Q,K) only is closer to all-Adam than to all-Muon',
    'Muon(V,O + W_out) < Muon(V,O + W_in)',
    'each for the plain and the gated MLP; MaxLogit stays moderate for all-Muon and all-Adam (reported)',
  ],
  settings: {
    ci: { model: 'ci', mlps: ['relu2', 'swiglu'], alpha: 1, steps: 10, seeds: [1, 2], every: 5, validationEvery: 10 },
    quick: { model: 'quick', mlps: ['relu2', 'swiglu'], alpha: 1, steps: 1500, seeds: [1, 2, 3], every: 50, validationEvery: 150 },
    full: { model: 'full', mlps: ['relu2', 'swiglu'], alpha: 1, steps: 4000, seeds: [1, 2, 3], every: 100, validationEvery: 250 },
  },
  describe: (s) => {
    const m = TRANSFORMER_SCALES[s.model];
    return `${describeModel(s.model)}; knowledge corpus P = ${count(m.individuals)}, α = ${s.alpha}; ${ABLATION_ASSIGNMENTS.length} assignments × ${s.mlps.join(' / ')} MLP; ${s.steps} steps (${count(s.steps * tokensPerStep(s.model))} tokens per seed, equal for every assignment), ${plural(s.seeds.length, 'seed')}`;
  },
  // [B]'s claims are about trained models: ci (tens of steps) is a smoke run, every row inconclusive.
  claimsHoldFrom: 'quick',
  estimates: {
    ci: '≈ 1 min on SwiftShader',
    quick:
      '≈ 1 h on SwiftShader, browser host (14 cells of 2.5–7 min, 52 min in all, measured sharing 2 cores with one other run; 9–12 min per cell at load ≈ 20; the Node host is ≈ 5–10× slower); minutes on a GPU',
    full: 'GPU only: 14 cells × 4000 steps of 3 × 8192 tokens at L 8, d 512, 2.2e17 FLOP — ≈ 2.5 h at 25 TFLOP/s sustained, ≈ 6 h at 10 (not measured here)',
  },
  cells: (scale) => {
    const s = bTransformerAblationPlan.settings[scale];
    const cost = s.steps * s.seeds.length * tokensPerStep(s.model);
    return s.mlps.flatMap((mlp) => ABLATION_ASSIGNMENTS.map((a) => ({ id: `${mlp}-${a.id}`, cost, params: { mlp, assignment: a.id } })));
  },
};

/**
 * The config a cell trains.
 *
 * @example
 * ablationConfig('ci', bTransformerAblationPlan.cells('ci')[0]).optimizers[0].patterns; // ['layer.*']
 */
export function ablationConfig(scale: Scale, cell: PresetCell<AblationCellParams>): TransformerConfigInput {
  const s = bTransformerAblationPlan.settings[scale];
  const assignment = ABLATION_ASSIGNMENTS.find((a) => a.id === cell.params.assignment);
  if (!assignment) throw new RangeError(`b-transformer-ablation: unknown assignment "${cell.params.assignment}"`);
  return cellConfig(s.model, `b-transformer-ablation-${cell.id}`, {
    mlp: cell.params.mlp,
    optimizer: assignment,
    steps: s.steps,
    seeds: s.seeds,
    every: s.every,
    data: knowledgeData(s.model, s.alpha),
  });
}
