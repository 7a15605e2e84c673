/**
 * The fma-peak family: how many f32 FLOP/s and bytes/s this adapter delivers to a WGSL kernel, the
 * 100 % of every peak-fraction figure. CPU twin: src/cpu/fmaPeak.ts (the recurrence it evaluates).
 */
import { dispatchUniform, F32_BYTES, type KernelFamily } from '../family';
import { benchFmaPeak } from './bench';
import { checkFmaPeak, FMA_CHECK_CASES } from './check';
import { COPY_BANDWIDTH_KERNEL, FMA_PEAK_KERNEL, fmaPeakFlops } from './fmaPeak';

export const fmaPeakFamily: KernelFamily = {
  name: 'fma-peak',
  summary: 'achievable f32 FMA throughput and copy bandwidth of the adapter',
  kernels: [FMA_PEAK_KERNEL, COPY_BANDWIDTH_KERNEL],
  costs: [
    {
      entryPoints: [FMA_PEAK_KERNEL.entryPoint],
      cost(d) {
        const p = dispatchUniform(d, 'fmaParams');
        const invocations = 64 * d.workgroups[0] * d.workgroups[1] * d.workgroups[2];
        return p && { flops: fmaPeakFlops(invocations, p.iterations), bytes: F32_BYTES * invocations, model: 'exact' };
      },
    },
    {
      entryPoints: [COPY_BANDWIDTH_KERNEL.entryPoint],
      cost(d) {
        const p = dispatchUniform(d, 'copyParams');
        return p && { flops: 0, bytes: 2 * 16 * p.count, model: 'exact' };
      },
    },
  ],
  tolerance: 'exact trip counts for a = b = 1; otherwise the recurrence evaluated in Float64 with its f32 rounding bound per chain',
  checkCases: () => FMA_CHECK_CASES.map((c) => c.caseId),
  benchShapes: ['fma: 32 chains per invocation', 'copy: vec4 grid-stride'],
  check: (gpu) => checkFmaPeak(gpu),
  bench: (gpu, options) => benchFmaPeak(gpu, options),
};
