/**
 * The Philox family: Philox-4x32-10 on the GPU (shaders/lib/philox.wgsl) through its fill kernel,
 * bit-identical to the CPU twin (src/cpu/philox.ts) for u32 and uniform outputs.
 */
import type { KernelFamily } from '../family';
import { benchPhilox, PHILOX_BENCH_COUNT } from './bench';
import { checkPhilox, PHILOX_CHECK_CASE_IDS } from './check';
import { PHILOX_FILL_KERNEL } from './philox';

export const philoxFamily: KernelFamily = {
  name: 'philox',
  summary: 'Philox-4x32-10 random streams: u32, uniform and normal',
  kernels: [PHILOX_FILL_KERNEL],
  costs: [],
  tolerance: 'u32 and uniform outputs bit-identical to the CPU twin; normals within 4e-3 absolute (WGSL log/sqrt/sin/cos accuracy)',
  checkCases: () => PHILOX_CHECK_CASE_IDS,
  benchShapes: [`${PHILOX_BENCH_COUNT} values`],
  check: (gpu) => checkPhilox(gpu),
  bench: (gpu, options) => benchPhilox(gpu, options),
};
