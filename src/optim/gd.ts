/**
 * gd / sgd with optional heavy-ball or Nesterov momentum (docs/math.md §2), batched over R runs:
 * shaders/optimizers/gd.wgsl, CPU twin optimizerStepCpu in src/cpu/optim.ts. μ = 0 is plain GD.
 */
import type { CommandRecorder } from '../gpu/commands';
import type { Gpu } from '../gpu/device';
import { defineKernel } from '../gpu/registry';
import { checkedUpdate, checkOperands, stateTensor, updateShape, type GpuOptimizer, type MatrixShape, type StepOperands } from './common';

export const GD_UPDATE_KERNEL = defineKernel({ shader: 'optimizers/gd.wgsl', entryPoint: 'gd_update' });

export function createGd(gpu: Gpu, shape: MatrixShape, name: 'gd' | 'sgd' = 'gd'): GpuOptimizer {
  const momentum = stateTensor(gpu, shape, `${name} momentum`);
  return {
    name,
    shape,
    state: { momentum },
    async step(rec: CommandRecorder, op: StepOperands) {
      checkOperands(name, shape, op);
      await checkedUpdate(
        rec,
        GD_UPDATE_KERNEL,
        shape,
        { runs: op.params.buffer, w: op.w.buffer, g: op.g.buffer, m: momentum.buffer },
        { shape: updateShape(shape, op.w, op.g) },
      );
    },
    destroy: () => momentum.buffer.destroy(),
  };
}
