/** signgd: W ← W − η·sign(G) (docs/math.md §2), batched: shaders/optimizers/signgd.wgsl; CPU twin src/cpu/optim.ts. */
import type { CommandRecorder } from '../gpu/commands';
import { defineKernel } from '../gpu/registry';
import { checkedUpdate, checkOperands, updateShape, type GpuOptimizer, type MatrixShape, type StepOperands } from './common';

export const SIGNGD_UPDATE_KERNEL = defineKernel({ shader: 'optimizers/signgd.wgsl', entryPoint: 'signgd_update' });

export function createSignGd(shape: MatrixShape): GpuOptimizer {
  return {
    name: 'signgd',
    shape,
    state: {},
    async step(rec: CommandRecorder, op: StepOperands) {
      checkOperands('signgd', shape, op);
      await checkedUpdate(
        rec,
        SIGNGD_UPDATE_KERNEL,
        shape,
        { runs: op.params.buffer, w: op.w.buffer, g: op.g.buffer },
        { shape: updateShape(shape, op.w, op.g) },
      );
    },
    destroy: () => undefined,
  };
}
