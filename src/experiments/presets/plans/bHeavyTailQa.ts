/**
 * `b-heavy-tail-qa` without its GPU code (Node-safe): settings per scale, sizes in words, cells.
 * The experiment itself: src/experiments/presets/bHeavyTailQa.ts.
 */
import { count, listed, plural } from './describe';
import {
  cellConfig,
  describeModel,
  knowledgeData,
  OPTIMIZER_LABELS,
  regressionData,
  tokensPerStep,
  TRANSFORMER_SCALES,
  type OptimizerName,
} from './transformerCommon';
import type { TransformerConfigInput } from '../../../model/config';
import type { PresetCell, PresetPlan, Scale } from '../types';

export interface HeavyTailSettings {
  /** The model and corpus sizes (TRANSFORMER_SCALES). */
  model: Scale;
  alphas: number[];
  optimizers: OptimizerName[];
  /** Optimizers of the in-context regression control (α = controlAlpha over tasks). */
  controlOptimizers: OptimizerName[];
  controlAlpha: number;
  steps: number;
  seeds: number[];
  every: number;
  validationEvery: number;
}

export type HeavyTailCellParams = { kind: 'qa' | 'control'; optimizer: OptimizerName; alpha: number };

export const bHeavyTailQaPlan: PresetPlan<HeavyTailSettings, HeavyTailCellParams> = {
  name: 'b-heavy-tail-qa',
  title:
    'Heavy-tailed knowledge QA: first-token accuracy by frequency bucket, Muon vs AdamW vs SGD, α sweep and an in-context regression control',
  paper: '[B] Wang et al., Muon Outperforms Adam in Tail-End Associative Memory Learning (arXiv 2509.26030), §3',
  predictions: [
    'head FTA high (≥ 0.9) for every optimizer at α = 1',
    'tail FTA Muon > AdamW at α ≥ 1',
    'tail FTA AdamW > SGD+momentum at α ≥ 1',
    'the Muon − AdamW gap in mean FTA grows with α',
    'in-context linear regression (a task living in Q, K) shows no Muon tail advantage',
  ],
  settings: {
    ci: {
      model: 'ci',
      alphas: [0, 1],
      optimizers: ['muon', 'adamw', 'sgd'],
      controlOptimizers: ['muon', 'adamw'],
      controlAlpha: 1,
      steps: 20,
      seeds: [1, 2],
      every: 10,
      validationEvery: 10,
    },
    quick: {
      model: 'quick',
      alphas: [0, 0.5, 1, 1.5],
      optimizers: ['muon', 'adamw', 'sgd'],
      controlOptimizers: ['muon', 'adamw'],
      controlAlpha: 1,
      steps: 1500,
      seeds: [1, 2, 3],
      every: 50,
      validationEvery: 150,
    },
    full: {
      model: 'full',
      alphas: [0, 0.5, 1, 1.5],
      optimizers: ['muon', 'adamw', 'sgd'],
      controlOptimizers: ['muon', 'adamw'],
      controlAlpha: 1,
      steps: 4000,
      seeds: [1, 2, 3],
      every: 100,
      validationEvery: 500,
    },
  },
  describe: (s) => {
    const scale = s.model;
    const m = TRANSFORMER_SCALES[scale];
    return `${describeModel(scale)}; P = ${count(m.individuals)} individuals × ${m.attributes.length} attributes, α ${listed(s.alphas)}; ${s.optimizers.map((o) => OPTIMIZER_LABELS[o]).join(' / ')}; ${s.steps} steps (${count(s.steps * tokensPerStep(scale))} tokens per seed), ${plural(s.seeds.length, 'seed')}; control: in-context regression (${m.individuals} tasks, α = ${s.controlAlpha}) for ${s.controlOptimizers.map((o) => OPTIMIZER_LABELS[o]).join(' / ')}`;
  },
  // [B]'s claims are about trained models: ci (tens of steps) is a smoke run, every row inconclusive.
  claimsHoldFrom: 'quick',
  estimates: {
    ci: '≈ 1 min on SwiftShader',
    quick:
      '≈ 50 min on SwiftShader, browser host (14 cells of 1.8–4.7 min, 49 min in all, measured sharing 2 cores with one other run; 7–12 min per cell at load ≈ 20; the Node host is ≈ 5–10× slower); minutes on a GPU',
    full: "GPU only: 14 cells × 4000 steps of 3 × 8192 tokens at L 8, d 512, 2.2e17 FLOP — ≈ 2.5 h at 25 TFLOP/s sustained (≈ 40 % of an H100's f32 peak), ≈ 6 h at 10 (not measured here)",
  },
  cells: (scale) => {
    const s = bHeavyTailQaPlan.settings[scale];
    const cost = s.steps * s.seeds.length * tokensPerStep(s.model);
    const qa = s.alphas.flatMap((alpha) =>
      s.optimizers.map((optimizer) => ({ id: `qa-${optimizer}-a${alpha}`, cost, params: { kind: 'qa' as const, optimizer, alpha } })),
    );
    const control = s.controlOptimizers.map((optimizer) => ({
      id: `control-${optimizer}`,
      cost,
      params: { kind: 'control' as const, optimizer, alpha: s.controlAlpha },
    }));
    return [...qa, ...control];
  },
};

/**
 * The config a cell trains (Node-safe, so tests and the CLI can inspect it).
 *
 * @example
 * heavyTailConfig('ci', bHeavyTailQaPlan.cells('ci')[0]).data; // the knowledge corpus at α = 0
 */
export function heavyTailConfig(scale: Scale, cell: PresetCell<HeavyTailCellParams>): TransformerConfigInput {
  const s = bHeavyTailQaPlan.settings[scale];
  const { kind, optimizer, alpha } = cell.params;
  return cellConfig(s.model, `b-heavy-tail-qa-${cell.id.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`, {
    mlp: 'relu2',
    optimizer,
    steps: s.steps,
    seeds: s.seeds,
    every: s.every,
    data: kind === 'qa' ? knowledgeData(s.model, alpha) : regressionData(s.model, alpha),
  });
}
