/**
 * adam / adamw (docs/math.md §2): bias-corrected moments, ε, weight decay coupled (adam, L2 added to G) or
 * decoupled (adamw). Batched: shaders/optimizers/adam.wgsl; CPU twin src/cpu/optim.ts. With β1 = β2 = 0
 * and ε far below |G| it is signgd (a test): docs/math.md advises ε ≤ 1e-12 where |G| ≈ 2.5e-7.
 */
import type { CommandRecorder } from '../gpu/commands';
import type { Gpu } from '../gpu/device';
import { defineKernel } from '../gpu/registry';
import { checkedUpdate, checkOperands, stateTensor, updateShape, type GpuOptimizer, type MatrixShape, type StepOperands } from './common';

export const ADAM_UPDATE_KERNEL = defineKernel({ shader: 'optimizers/adam.wgsl', entryPoint: 'adam_update' });

export function createAdam(gpu: Gpu, shape: MatrixShape, name: 'adam' | 'adamw' = 'adam'): GpuOptimizer {
  const m = stateTensor(gpu, shape, `${name} first moment`);
  const v = stateTensor(gpu, shape, `${name} second moment`);
  return {
    name,
    shape,
    state: { m, v },
    async step(rec: CommandRecorder, op: StepOperands) {
      checkOperands(name, shape, op);
      await checkedUpdate(
        rec,
        ADAM_UPDATE_KERNEL,
        shape,
        { runs: op.params.buffer, w: op.w.buffer, g: op.g.buffer, m: m.buffer, v: v.buffer },
        { shape: updateShape(shape, op.w, op.g) },
      );
    },
    destroy: () => {
      m.buffer.destroy();
      v.buffer.destroy();
    },
  };
}
