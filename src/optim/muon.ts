/**
 * muon (docs/math.md §2): momentum buffer in [B]'s sum form (B ← μB + G) or the EMA form (B ← βB + (1−β)G),
 * optional Nesterov input, D = orth(·) by batched Newton–Schulz (ns5, polar-express, cubic, a user
 * list, or the GPU `exact`), optional shape scale sqrt(max(1, rows/cols)) (RunParams.scale).
 * Per step: muon_input (1 dispatch), Newton–Schulz (2 + ≤ 3 per NS step), muon_update (check + apply).
 * CPU twin: optimizerStepCpu in src/cpu/optim.ts.
 */
import type { CommandRecorder } from '../gpu/commands';
import type { Gpu } from '../gpu/device';
import { defineKernel } from '../gpu/registry';
import { BYTES_PER_ELEMENT } from '../gpu/tensor';
import {
  createNsWorkspace,
  exactReportFromDeltas,
  newtonSchulz,
  readExactReport,
  type ExactReport,
  type OrthSchedule,
} from '../kernels/newtonSchulz/newtonSchulz';
import { EXACT_MAX_STEPS } from '../cpu/exactPolar';
import {
  checkedUpdate,
  checkOperands,
  elementGroups,
  stateTensor,
  updateShape,
  type GpuOptimizer,
  type MatrixShape,
  type StepOperands,
} from './common';

export const MUON_INPUT_KERNEL = defineKernel({ shader: 'optimizers/muon.wgsl', entryPoint: 'muon_input' });
export const MUON_UPDATE_KERNEL = defineKernel({ shader: 'optimizers/muon.wgsl', entryPoint: 'muon_update' });

export interface GpuMuon extends GpuOptimizer {
  /** For orth = 'exact': per-run steps and achieved step change of the last call (after submit). */
  exactReport(): Promise<ExactReport | undefined>;
}

export function createMuon(gpu: Gpu, shape: MatrixShape, orth: OrthSchedule): GpuMuon {
  const momentum = stateTensor(gpu, shape, 'muon momentum buffer');
  const input = stateTensor(gpu, shape, 'muon orth input');
  const direction = stateTensor(gpu, shape, 'muon direction');
  const workspace = createNsWorkspace(gpu, shape, 'muon newton-schulz');
  return {
    name: 'muon',
    shape,
    state: { momentum },
    async step(rec: CommandRecorder, op: StepOperands) {
      checkOperands('muon', shape, op);
      const uniforms = updateShape(shape, op.w, op.g);
      await rec.dispatch({
        kernel: MUON_INPUT_KERNEL,
        buffers: { inRuns: op.params.buffer, inG: op.g.buffer, inM: momentum.buffer, x: input.buffer },
        uniforms: { inShape: uniforms },
        workgroups: elementGroups(shape),
      });
      await newtonSchulz(rec, { input, output: direction, orth, workspace });
      await checkedUpdate(
        rec,
        MUON_UPDATE_KERNEL,
        shape,
        { runs: op.params.buffer, w: op.w.buffer, g: op.g.buffer, m: momentum.buffer, d: direction.buffer },
        { shape: uniforms },
      );
    },
    exactReport: async () => (orth === 'exact' ? readExactReport(gpu, workspace) : undefined),
    // The R × EXACT_MAX_STEPS squared step changes the last call wrote (what exactReport reads).
    exactPolarReadback:
      orth === 'exact'
        ? {
            buffer: workspace.deltas,
            bytes: shape.batch * EXACT_MAX_STEPS * BYTES_PER_ELEMENT,
            decode: (copy: ArrayBuffer) => {
              const report = exactReportFromDeltas(new Float32Array(copy), shape.batch, shape);
              return report.steps.map((steps, r) => ({ steps, stepChange: report.stepChange[r], converged: report.converged[r] }));
            },
          }
        : undefined,
    destroy: () => {
      for (const t of [momentum, input, direction]) t.buffer.destroy();
      workspace.destroy();
    },
  };
}
