/**
 * `a-noiseless` without its GPU code (Node-safe): settings per scale, sizes in words, cells.
 * The experiment itself: src/experiments/presets/aNoiseless.ts.
 */
import type { PresetPlan } from '../types';
import { count } from './describe';

export interface NoiselessSettings {
  N: number;
  groups: number;
  groupExponent: number;
  /** Muon's step η; TRA-SignGD runs with η/2 (prediction: TRA-SignGD(η/2) = Muon(η)). */
  muonLr: number;
  muonSteps: number;
  traSteps: number;
  /** GD runs with η = gdLrTimesPMax / p_max. */
  gdLrTimesPMax: number;
  gdSteps: number;
  gdEvery: number;
}

/** The three trainings, each its own cell, in the order a single run visits them. */
export const NOISELESS_OPTIMIZERS = ['muon', 'tra-signgd', 'gd'] as const;
export type NoiselessOptimizer = (typeof NOISELESS_OPTIMIZERS)[number];

export const aNoiselessPlan: PresetPlan<NoiselessSettings, { optimizer: NoiselessOptimizer }> = {
  name: 'a-noiseless',
  title: 'Noiseless training on identity embeddings: Muon ≈ N·e^{−ηt} in every group, GD ≈ N/(ηt) with lagging tail groups',
  paper: '[A] Li, Wang, Zhong, Lu, Wang, Muon in Associative Memory Learning: Training Dynamics and Scaling Laws (arXiv 2602.05725)',
  predictions: [
    'Muon (exact): loss ≈ N·e^{−ηt} over 1e-4 ≤ L ≤ 0.1, every frequency group at the same rate',
    "GD with η = 0.5/p_max: loss ≈ N/(ηt); group g's loss ≈ 1/(η·p_g·t), so the tail lags the head by M^b",
    'TRA-SignGD with step η ≈ Muon with 2η',
  ],
  settings: {
    ci: { N: 256, groups: 4, groupExponent: 1, muonLr: 1, muonSteps: 16, traSteps: 11, gdLrTimesPMax: 0.5, gdSteps: 1000, gdEvery: 20 },
    quick: {
      N: 512,
      groups: 4,
      groupExponent: 1.5,
      muonLr: 1,
      muonSteps: 17,
      traSteps: 14,
      gdLrTimesPMax: 0.5,
      gdSteps: 2000,
      gdEvery: 40,
    },
    full: {
      N: 1024,
      groups: 8,
      groupExponent: 2,
      muonLr: 1,
      muonSteps: 18,
      traSteps: 18,
      gdLrTimesPMax: 0.5,
      gdSteps: 20000,
      gdEvery: 200,
    },
  },
  describe: (s) =>
    `N = ${s.N}, M = ${s.groups} groups (C/M = ${s.N / s.groups / s.groups}), b = ${s.groupExponent}; Muon ${s.muonSteps} steps, TRA-SignGD ${s.traSteps}, GD ${count(s.gdSteps)}`,
  estimates: {
    ci: '≈ 50–65 s on SwiftShader (measured)',
    quick: '≈ 3–5 min on SwiftShader (measured 159–280 s)',
    full: 'minutes on a GPU (not measured); ≈ 10 s per Muon step on SwiftShader',
  },
  // Per step: the structural softmax gradient (≈ N² work per item row, N rows) and the update;
  // Muon's exact polar factor adds ≈ 12 Newton–Schulz steps of three N³ products.
  cells: (scale) => {
    const s = aNoiselessPlan.settings[scale];
    const cost: Record<NoiselessOptimizer, number> = {
      muon: s.muonSteps * (s.N ** 2 + 36 * s.N ** 3),
      'tra-signgd': s.traSteps * 2 * s.N ** 2,
      gd: s.gdSteps * s.N ** 2,
    };
    return NOISELESS_OPTIMIZERS.map((optimizer) => ({ id: optimizer, cost: cost[optimizer], params: { optimizer } }));
  },
};
