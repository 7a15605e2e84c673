/**
 * The Float64 twin of a transformer training run (src/model/trainer.ts): the same batches, the same
 * per-matrix run parameters and schedule factors, per-replica clipping by global norm, and each
 * matrix's optimizer step through optimizerStepCpu (src/cpu/optim.ts) — Muon orthogonalising each
 * matrix on its own, which is what the GPU's batched Newton–Schulz computes per batch entry.
 */
import type { RunParamValues } from '../layout/runParams';
import { optimizerStepCpu, type CpuRunState } from './optim';
import { backwardCpu, forwardCpu, initParamsCpu, type Params } from './transformerModel';
import { transformerMatrices } from '../layout/transformerShape';
import { configDims, groupOptimizer, parseTransformerConfig, type TransformerConfig, type TransformerConfigInput } from '../model/config';
import { createTokenSource, type TokenSource } from '../model/data';
import { assignGroups } from '../model/groups';
import { groupFactor, matrixRunParams } from '../model/groupParams';

/**
 * @example
 * const cpu = new CpuTransformerTrainer(config);
 * cpu.step(); cpu.params[0]['layer.0.q'];
 */
export class CpuTransformerTrainer {
  readonly config: TransformerConfig;
  readonly source: TokenSource;
  /** Per replica: weights and optimizer state by matrix name. */
  readonly states: Record<string, CpuRunState>[];
  readonly runParams: Record<string, RunParamValues>[];
  readonly groupOf: Record<string, number> = {};
  steps = 0;
  /** Loss of each replica at the last step's forward pass. */
  lastLoss: number[] = [];
  lastGradNorm: number[] = [];

  constructor(input: TransformerConfigInput | TransformerConfig) {
    this.config = parseTransformerConfig(input);
    const dims = configDims(this.config);
    const matrices = transformerMatrices(dims);
    assignGroups(
      matrices.map((m) => m.name),
      this.config.optimizers,
    ).forEach((g, i) => (this.groupOf[matrices[i].name] = g));
    this.source = createTokenSource(this.config.data, dims);
    this.states = this.config.training.seeds.map((seed) => {
      const p = initParamsCpu(dims, seed);
      return Object.fromEntries(matrices.map((m) => [m.name, { w: p[m.name] }]));
    });
    this.runParams = this.config.training.seeds.map((seed) =>
      Object.fromEntries(matrices.map((m) => [m.name, matrixRunParams(this.config, this.groupOf[m.name], m, seed)])),
    );
  }

  /** Every replica's current weights. */
  get params(): Params[] {
    return this.states.map((s) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v.w])));
  }

  /** One update for every replica. */
  step(): void {
    const dims = configDims(this.config);
    const { batchSize: rows, seqLen: T, clipNorm } = this.config.training;
    const t = this.steps;
    this.lastLoss = [];
    this.lastGradNorm = [];
    this.states.forEach((state, r) => {
      const params = Object.fromEntries(Object.entries(state).map(([k, v]) => [k, v.w]));
      const batch = this.source.batch(t, r, rows, T);
      const f = forwardCpu(dims, params, batch, rows, T);
      const grads = backwardCpu(dims, params, batch, rows, T, f);
      this.lastLoss.push(f.loss);
      let ss = 0;
      for (const g of Object.values(grads)) for (const x of g) ss += x * x;
      const norm = Math.sqrt(ss);
      this.lastGradNorm.push(norm);
      const scale = clipNorm === undefined ? 1 : Math.min(1, clipNorm / (norm + 1e-6));
      for (const m of transformerMatrices(dims)) {
        const g = this.groupOf[m.name];
        const base = this.runParams[r][m.name];
        const p: RunParamValues = { ...base, lr: base.lr * groupFactor(this.config, g, t + 1) };
        const gradient = scale === 1 ? grads[m.name] : grads[m.name].map((x) => x * scale);
        const res = optimizerStepCpu(state[m.name], {
          config: groupOptimizer(this.config.optimizers[g]),
          rows: m.rows,
          cols: m.cols,
          params: p,
          gradient,
        });
        if (res.diverged) base.diverged = 1;
        else base.step += 1;
      }
    });
    this.steps = t + 1;
  }
}
