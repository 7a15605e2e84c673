/**
 * The per-matrix run parameters of an optimizer group (learning rate from the group's optimizer,
 * β's, flags, Muon's update scale) and the schedule factor of each step: shared by the GPU trainer
 * (src/model/trainer.ts) and the Float64 twin (src/cpu/transformerTrain.ts), so both step with the
 * same values.
 */
import { defaultRunParams, type RunParamValues } from '../gpu/runParams';
import { runParamsFor } from '../optim/common';
import type { TransformerConfig } from './config';
import { groupOptimizer } from './config';
import { scheduleFactor } from './schedule';

/**
 * RunParams of one matrix of a group (lr = η of the group's optimizer at factor 1).
 *
 * @example
 * matrixRunParams(config, 1, { rows: 64, cols: 64 });
 */
export function matrixRunParams(config: TransformerConfig, group: number, m: { rows: number; cols: number }, seed = 0): RunParamValues {
  const g = config.optimizers[group];
  const opt = groupOptimizer(g);
  const { params } = runParamsFor(opt, { rows: m.rows, cols: m.cols, dims: { d_in: m.cols, d_out: m.rows, N: config.model.vocab }, seed });
  if (opt.name === 'muon' && g.muonScale !== 'optimizer') {
    params.scale =
      g.muonScale === 'shape' ? Math.sqrt(Math.max(1, m.rows / m.cols)) : g.muonScale === 'spectral' ? Math.sqrt(m.rows / m.cols) : 1;
  }
  return defaultRunParams(params);
}

/** η_t / η of a group at step t = 1 … steps. */
export function groupFactor(config: TransformerConfig, group: number, t: number): number {
  return scheduleFactor(config.optimizers[group].schedule, t, config.training.steps);
}
