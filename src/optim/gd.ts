/**
 * gd / sgd with optional heavy-ball or Nesterov momentum (SPEC §2), batched over R runs:
 * shaders/optim_gd.wgsl, CPU twin optimizerStepCpu in src/cpu/optim.ts. μ = 0 is plain GD.
 */
import type { CommandRecorder } from '../gpu/commands';
import type { Gpu } from '../gpu/device';
import { defineKernel } from '../gpu/registry';
import { withRunParams } from '../gpu/runParams';
import { checkedUpdate, checkOperands, stateTensor, updateShape, type GpuOptimizer, type MatrixShape, type StepOperands } from './common';
import source from '../../shaders/optim_gd.wgsl?raw';

const kernel = defineKernel({ module: 'optim_gd', entryPoint: 'gd_update', source: withRunParams(source) });

export function createGd(gpu: Gpu, shape: MatrixShape, name: 'gd' | 'sgd' = 'gd'): GpuOptimizer {
  const momentum = stateTensor(gpu, shape, `${name} momentum`);
  return {
    name,
    shape,
    state: { momentum },
    async step(rec: CommandRecorder, op: StepOperands) {
      checkOperands(name, shape, op);
      await checkedUpdate(rec, kernel, shape,
        { runs: op.params.buffer, w: op.w.buffer, g: op.g.buffer, m: momentum.buffer },
        { shape: updateShape(shape, op.w, op.g) });
    },
    destroy: () => momentum.buffer.destroy(),
  };
}
