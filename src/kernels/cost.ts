/**
 * FLOP and byte counts of one dispatch, from what it was called with (entry point, uniforms,
 * override constants, bound buffer sizes): the profiler's GFLOP/s and GB/s columns. The models
 * live with their families (`costs` in src/kernels/<family>/index.ts); a kernel without one gets no
 * FLOP count and, as bytes, the sizes of the buffers it binds (an estimate, marked `bound-buffers`).
 */
import type { DispatchRecord } from '../gpu/profiler';
import type { DispatchCost, KernelCost } from './family';
import { KERNEL_FAMILIES } from './index';

export type { CostModel, DispatchCost } from './family';

let byEntryPoint: Map<string, KernelCost> | undefined;

function costModels(): Map<string, KernelCost> {
  if (!byEntryPoint) {
    byEntryPoint = new Map();
    for (const family of KERNEL_FAMILIES) {
      for (const model of family.costs) {
        for (const e of model.entryPoints) {
          if (byEntryPoint.has(e)) throw new Error(`two cost models for entry point "${e}" (family ${family.name})`);
          byEntryPoint.set(e, model);
        }
      }
    }
  }
  return byEntryPoint;
}

function boundBytes(d: DispatchRecord): number {
  let sum = 0;
  for (const [name, bytes] of Object.entries(d.bufferBytes)) {
    if (d.uniforms && name in d.uniforms) continue;
    sum += bytes;
  }
  return sum;
}

/**
 * The FLOP/byte counts of one recorded dispatch.
 *
 * @example
 * dispatchCost({ shader: 'gather/gather.wgsl', entryPoint: 'gather_rows', uniforms: { params }, workgroups: [1, 1, 1], bufferBytes: {} });
 */
export function dispatchCost(d: DispatchRecord): DispatchCost {
  return costModels().get(d.entryPoint)?.cost(d) ?? { flops: null, bytes: boundBytes(d), model: 'bound-buffers' };
}
