/**
 * `a-data-scaling` without its GPU code (Node-safe): settings per scale, sizes in words, cells.
 * The experiment itself: src/experiments/presets/aDataScaling.ts.
 */
import type { TransformerConfigInput } from '../../../model/config';
import type { PresetCell, PresetPlan, Scale } from '../types';
import { count, listed, plural } from './describe';
import { BASE_LR, cellConfig, describeModel, knowledgeData, tokensPerStep, TRANSFORMER_SCALES } from './transformerCommon';

export interface DataScalingSettings {
  model: Scale;
  alpha: number;
  /** Data budgets: log2 of the tokens each seed trains on. */
  budgetsLog2: number[];
  /** The learning-rate grid: multiples of each optimizer's base η. */
  lrFactors: number[];
  seeds: number[];
}

export type DataScalingCellParams = { optimizer: 'muon' | 'adamw'; budgetLog2: number; lrFactor: number };

export const aDataScalingPlan: PresetPlan<DataScalingSettings, DataScalingCellParams> = {
  name: 'a-data-scaling',
  title: 'Data scaling: the best validation loss over a learning-rate grid per data budget, Muon (hidden matrices) vs AdamW',
  paper: '[A] (docs/transformer.md §1: the LLaMA-style data-scaling experiment) on the knowledge corpus',
  predictions: [
    "Muon's envelope (min over η of the validation loss) lies below AdamW's at every budget",
    "Muon's fitted power-law exponent in the budget is steeper than AdamW's",
  ],
  settings: {
    ci: { model: 'ci', alpha: 1, budgetsLog2: [11, 12], lrFactors: [1, 3], seeds: [1, 2] },
    quick: { model: 'quick', alpha: 1, budgetsLog2: [15, 16, 17, 18], lrFactors: [1 / 3, 1, 3], seeds: [1, 2, 3] },
    full: { model: 'full', alpha: 1, budgetsLog2: [22, 23, 24, 25, 26], lrFactors: [0.25, 0.5, 1, 2, 4], seeds: [1, 2, 3] },
  },
  describe: (s) => {
    const m = TRANSFORMER_SCALES[s.model];
    return `${describeModel(s.model)}; knowledge corpus P = ${count(m.individuals)}, α = ${s.alpha}; budgets 2^k tokens per seed, k ${listed(s.budgetsLog2)}; η × ${listed(s.lrFactors.map((f) => Number(f.toPrecision(3))))} of each optimizer's base; ${plural(s.seeds.length, 'seed')}; one cell per optimizer × budget × η (the schedule spans the budget)`;
  },
  // [B]'s claims are about trained models: ci (tens of steps) is a smoke run, every row inconclusive.
  claimsHoldFrom: 'quick',
  estimates: {
    ci: '≈ 1 min on SwiftShader',
    quick: '≈ 30 min on SwiftShader (24 cells of 0.3–2.8 min, 28 min in all, measured sharing 2 cores with one other run)',
    full: 'GPU only: 2 × 5 × 5 cells up to 2^26 tokens per seed at L 8, d 512, 6.3e17 FLOP — ≈ 7 h at 25 TFLOP/s sustained, ≈ 17 h at 10 (not measured here)',
  },
  cells: (scale) => {
    const s = aDataScalingPlan.settings[scale];
    const per = tokensPerStep(s.model);
    return (['muon', 'adamw'] as const).flatMap((optimizer) =>
      s.budgetsLog2.flatMap((budgetLog2) =>
        s.lrFactors.map((lrFactor) => ({
          id: `${optimizer}-D${budgetLog2}-lr${Number(lrFactor.toPrecision(3))}`,
          cost: Math.max(1, Math.round(2 ** budgetLog2 / per)) * s.seeds.length * per,
          params: { optimizer, budgetLog2, lrFactor },
        })),
      ),
    );
  },
};

/** Updates of a budget: 2^k tokens per seed over the scale's tokens per step (at least 1). */
export function budgetSteps(scale: Scale, budgetLog2: number): number {
  return Math.max(1, Math.round(2 ** budgetLog2 / tokensPerStep(aDataScalingPlan.settings[scale].model)));
}

/**
 * The config a cell trains.
 *
 * @example
 * dataScalingConfig('ci', aDataScalingPlan.cells('ci')[0]).training.steps; // 2^11 / 256 = 8
 */
export function dataScalingConfig(scale: Scale, cell: PresetCell<DataScalingCellParams>): TransformerConfigInput {
  const s = aDataScalingPlan.settings[scale];
  const steps = budgetSteps(scale, cell.params.budgetLog2);
  return cellConfig(s.model, `a-data-scaling-${cell.id.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`, {
    mlp: 'relu2',
    optimizer: cell.params.optimizer,
    lrFactor: cell.params.lrFactor,
    steps,
    seeds: s.seeds,
    every: steps,
    data: knowledgeData(s.model, s.alpha),
  });
}

/** The base η of an optimizer's hidden matrices (Muon) or of every matrix (AdamW). */
export function baseLr(optimizer: 'muon' | 'adamw'): number {
  return BASE_LR[optimizer];
}
