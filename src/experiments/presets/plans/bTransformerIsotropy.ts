/**
 * `b-transformer-isotropy` without its GPU code (Node-safe): settings per scale, sizes in words,
 * cells. The experiment itself: src/experiments/presets/bTransformerIsotropy.ts.
 */
import type { TransformerConfigInput } from '../../../model/config';
import type { PresetCell, PresetPlan, Scale } from '../types';
import { count, plural } from './describe';
import { cellConfig, describeModel, knowledgeData, tokensPerStep, TRANSFORMER_SCALES } from './transformerCommon';

export interface TransformerIsotropySettings {
  model: Scale;
  alpha: number;
  steps: number;
  /** 4 or more (docs/transformer.md §6). */
  seeds: number[];
  /** Isotropy (Float64 SVD of a readback) every k steps. */
  isotropyEvery: number;
  /** The matrices measured: W_V, W_O and W_out of every layer. */
  patterns: string[];
  validationEvery: number;
}

export type IsotropyCellParams = { optimizer: 'muon' | 'adamw' };

export const bTransformerIsotropyPlan: PresetPlan<TransformerIsotropySettings, IsotropyCellParams> = {
  name: 'b-transformer-isotropy',
  title: 'Spectral isotropy (eRank, Top10E) of W_V, W_O and W_out along training: Muon vs AdamW, with seed bands',
  paper:
    '[B] Wang et al., Muon Outperforms Adam in Tail-End Associative Memory Learning (arXiv 2509.26030), §4 (isotropy of the weights along training)',
  predictions: [
    "Muon's W_V, W_O, W_out have a higher eRank than AdamW's at every logged step after the first",
    "Muon's have a lower Top10E than AdamW's at every logged step after the first",
    "Muon's eRank varies less across seeds than AdamW's",
  ],
  settings: {
    ci: { model: 'ci', alpha: 1, steps: 20, seeds: [1, 2, 3, 4], isotropyEvery: 5, patterns: ['*.v', '*.o', '*.out'], validationEvery: 20 },
    quick: {
      model: 'quick',
      alpha: 1,
      steps: 1500,
      seeds: [1, 2, 3, 4],
      isotropyEvery: 100,
      patterns: ['*.v', '*.o', '*.out'],
      validationEvery: 300,
    },
    full: {
      model: 'full',
      alpha: 1,
      steps: 4000,
      seeds: [1, 2, 3, 4, 5, 6],
      isotropyEvery: 200,
      patterns: ['*.v', '*.o', '*.out'],
      validationEvery: 500,
    },
  },
  describe: (s) => {
    const m = TRANSFORMER_SCALES[s.model];
    // Logged before steps 0, k, 2k, … < steps (the trainer's metric steps; the final weights are not logged).
    const logged = Math.ceil(s.steps / s.isotropyEvery);
    return `${describeModel(s.model)}; knowledge corpus P = ${count(m.individuals)}, α = ${s.alpha}; Muon (hidden matrices) vs AdamW, ${s.steps} steps, ${plural(s.seeds.length, 'seed')}; isotropy of W_V, W_O, W_out (${3 * m.layers} matrices) and their updates every ${s.isotropyEvery} steps (${logged} points, Float64 SVDs on the CPU)`;
  },
  // [B]'s claims are about trained models: ci (tens of steps) is a smoke run, every row inconclusive.
  claimsHoldFrom: 'quick',
  estimates: {
    ci: '≈ 30 s on SwiftShader',
    quick: '≈ 10 min on SwiftShader (measured 602 s: cells of 5.5 and 4.5 min, sharing 2 cores with one other run)',
    full: 'GPU only: 2 cells × 4000 steps × 6 seeds at L 8, d 512, 6.3e16 FLOP — ≈ 45 min at 25 TFLOP/s sustained, ≈ 2 h at 10, plus the CPU SVDs of 24 matrices up to 512 × 2048 at 20 points (not measured here)',
  },
  cells: (scale) => {
    const s = bTransformerIsotropyPlan.settings[scale];
    const cost = s.steps * s.seeds.length * tokensPerStep(s.model);
    return (['muon', 'adamw'] as const).map((optimizer) => ({ id: optimizer, cost, params: { optimizer } }));
  },
};

/**
 * The config a cell trains.
 *
 * @example
 * isotropyConfig('ci', bTransformerIsotropyPlan.cells('ci')[0]).metrics; // { every: 5, isotropy: ['*.v', '*.o', '*.out'], … }
 */
export function isotropyConfig(scale: Scale, cell: PresetCell<IsotropyCellParams>): TransformerConfigInput {
  const s = bTransformerIsotropyPlan.settings[scale];
  return cellConfig(s.model, `b-transformer-isotropy-${cell.id}`, {
    mlp: 'relu2',
    optimizer: cell.params.optimizer,
    steps: s.steps,
    seeds: s.seeds,
    every: s.isotropyEvery,
    isotropy: { patterns: s.patterns, every: s.isotropyEvery },
    data: knowledgeData(s.model, s.alpha),
  });
}
