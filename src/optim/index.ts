/**
 * The optimizers of docs/math.md §2 on the GPU, batched over R runs that read their hyper-parameters from
 * the run-parameters buffer, and their configs, schedules and CPU twins.
 *
 * @example
 * const config = parseOptimizerConfig({ name: 'muon', lr: 'sqrt(d)', orth: 'polar-express' });
 * const opt = createOptimizer(gpu, config, { batch: 16, rows: 64, cols: 64 });
 * const params = createRunParams(gpu, seeds.map((seed) => runParamsFor(config, { rows: 64, cols: 64, seed }).params));
 * await runCommands(gpu, async (rec) => { await opt.step(rec, { w, g, params }); await advanceRuns(rec, params); });
 * // or, validating the gradient first (a NaN/±Inf entry throws naming `gradient`):
 * await stepOptimizer(gpu, opt, { w, g, params });
 */
import type { Gpu } from '../gpu/device';
import type { OptimizerConfig } from './config';
import type { GpuOptimizer, MatrixShape } from './common';
import { createAdam } from './adam';
import { createGd } from './gd';
import { createMuon } from './muon';
import { createMuonReg } from './muonReg';
import { createSignGd } from './signgd';
import { createTraSignGd, type GpuEmbeddings } from './traSignGd';

export * from './config';
export * from './schedule';
export { runParamsFor, writeListLearningRates, type GpuOptimizer, type MatrixShape, type StepOperands } from './common';
export { assertFiniteGradient, stepOptimizer, type StepOptions } from './checkedStep';
export { createAdam, createGd, createMuon, createMuonReg, createSignGd, createTraSignGd, type GpuEmbeddings };

/** The GPU optimizer for a batch of runs that share a config's kind (and, for Muon, its orth). */
export function createOptimizer(
  gpu: Gpu,
  config: OptimizerConfig,
  shape: MatrixShape,
  extras: { embeddings?: GpuEmbeddings } = {},
): GpuOptimizer {
  switch (config.name) {
    case 'gd':
    case 'sgd':
      return createGd(gpu, shape, config.name);
    case 'signgd':
      return createSignGd(shape);
    case 'adam':
    case 'adamw':
      return createAdam(gpu, shape, config.name);
    case 'muon':
      return createMuon(gpu, shape, config.orth);
    case 'muon-reg':
      return createMuonReg(gpu, shape, config.maxIterations);
    case 'tra-signgd':
      if (!extras.embeddings) throw new RangeError('tra-signgd: needs the task embeddings (orthonormal only): extras.embeddings');
      return createTraSignGd(gpu, shape, extras.embeddings);
  }
}
