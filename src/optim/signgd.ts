/** signgd: W ← W − η·sign(G) (SPEC §2), batched: shaders/optim_signgd.wgsl; CPU twin src/cpu/optim.ts. */
import type { CommandRecorder } from '../gpu/commands';
import { defineKernel } from '../gpu/registry';
import { withRunParams } from '../gpu/runParams';
import { checkedUpdate, checkOperands, updateShape, type GpuOptimizer, type MatrixShape, type StepOperands } from './common';
import source from '../../shaders/optim_signgd.wgsl?raw';

const kernel = defineKernel({ module: 'optim_signgd', entryPoint: 'signgd_update', source: withRunParams(source) });

export function createSignGd(shape: MatrixShape): GpuOptimizer {
  return {
    name: 'signgd',
    shape,
    state: {},
    async step(rec: CommandRecorder, op: StepOperands) {
      checkOperands('signgd', shape, op);
      await checkedUpdate(rec, kernel, shape, { runs: op.params.buffer, w: op.w.buffer, g: op.g.buffer }, { shape: updateShape(shape, op.w, op.g) });
    },
    destroy: () => undefined,
  };
}
