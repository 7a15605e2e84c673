// FLOP/byte counts of recorded dispatches (src/kernels/cost.ts), written out by hand here from
// the operations each kernel performs, and the profile's summary arithmetic (src/gpu/runProfile.ts)
// on synthetic command buffers: shares sum to 1, per-step counts, GFLOP/s = FLOPs / time.
import { describe, expect, test } from 'vitest';
import { dispatchCost } from '../src/kernels/cost';
import type { DispatchRecord } from '../src/gpu/profiler';
import { ProfileCollector, RunProfileSchema, withPeak } from '../src/gpu/runProfile';
import { profileCsv, profileTable } from '../src/gpu/profileTable';

const rec = (
  shader: string,
  entryPoint: string,
  uniforms: Record<string, Record<string, number>>,
  extra: Partial<DispatchRecord> = {},
): DispatchRecord => ({
  shader,
  entryPoint,
  uniforms,
  workgroups: [1, 1, 1],
  bufferBytes: {},
  ...extra,
});

describe('dispatch cost model', () => {
  test('matmul: 2·M·N·K·batch FLOPs; A shared (stride 0) is read once; β ≠ 0 reads C too', () => {
    const c = dispatchCost(
      rec('matmul', 'matmul_register_blocked', { params: { M: 8, N: 4, K: 16, batch: 3, batchStrideA: 0, batchStrideB: 64, beta: 1 } }),
    );
    expect(c).toEqual({ flops: 2 * 8 * 4 * 16 * 3, bytes: 4 * (8 * 16 + 16 * 4 * 3 + 8 * 4 * 3 * 2), model: 'exact' });
  });
  test('symmetric gram: M(M+1)·K per matrix', () => {
    const c = dispatchCost(
      rec('matmul_blocked_quad', 'gram_symmetric_quad', { params: { M: 16, N: 16, K: 32, batch: 2, batchStrideA: 512, beta: 0 } }),
    );
    expect(c).toEqual({ flops: 16 * 17 * 32 * 2, bytes: 4 * (16 * 32 * 2 + 16 * 16 * 2), model: 'exact' });
  });
  test('fma_peak: 64 FLOPs per invocation per trip; copy_bandwidth: 32 bytes per vec4', () => {
    expect(dispatchCost(rec('fma_peak', 'fma_peak', { fmaParams: { iterations: 10, a: 1, b: 1 } }, { workgroups: [3, 1, 1] })).flops).toBe(
      3 * 64 * 10 * 64,
    );
    expect(dispatchCost(rec('fma_peak', 'copy_bandwidth', { copyParams: { count: 1000 } })).bytes).toBe(32_000);
  });
  test('no model: no FLOPs, the bound buffers as bytes', () => {
    const c = dispatchCost(rec('x', 'mystery', {}, { bufferBytes: { a: 100, b: 28 } }));
    expect(c).toEqual({ flops: null, bytes: 128, model: 'bound-buffers' });
  });
});

describe('profile summary', () => {
  const mm = (M: number): DispatchRecord =>
    rec('matmul', 'matmul_register_blocked', { params: { M, N: M, K: M, batch: 1, batchStrideA: 0, batchStrideB: 0, beta: 0 } });
  const collect = () => {
    const c = new ProfileCollector();
    // Step 0: two matmuls + one untimed-by-quantization pass; step 1: one matmul + the update.
    c.add({
      passes: [
        { label: 'mm', ns: 2e6, dispatch: mm(100) },
        { label: 'mm', ns: 1e6, dispatch: mm(100) },
      ],
      labels: ['mm', 'mm', 'upd'],
      kernels: ['matmul:matmul_register_blocked', 'matmul:matmul_register_blocked', 'opt:upd'],
      dropped: 1,
      untimed: 0,
    });
    c.add({
      passes: [
        { label: 'mm', ns: 3e6, dispatch: mm(100) },
        { label: 'upd', ns: 4e6, dispatch: rec('opt', 'upd', {}, { bufferBytes: { w: 4000 } }) },
      ],
      labels: ['mm', 'upd'],
      kernels: ['matmul:matmul_register_blocked', 'opt:upd'],
      dropped: 0,
      untimed: 0,
    });
    c.add({ passes: [], labels: [], kernels: [], dropped: 0, untimed: 0 }); // empty: not a step
    return c;
  };
  test('counts, shares, GFLOP/s', () => {
    const p = RunProfileSchema.parse(collect().summarize({ name: 't', source: 'train' }));
    expect(p.steps).toBe(2);
    expect(p.dispatches).toBe(5);
    expect(p.droppedPasses).toBe(1);
    expect(p.totalGpuMs).toBeCloseTo(10, 12);
    const [upd, mmK] = [p.kernels.find((k) => k.label === 'upd')!, p.kernels.find((k) => k.label === 'mm')!];
    expect(p.kernels[0].label).toBe('mm'); // 6 ms before 4 ms
    expect([mmK.dispatches, mmK.steps, mmK.dispatchesPerStep, mmK.timedPasses]).toEqual([3, 2, 1.5, 3]);
    expect([upd.dispatches, upd.steps, upd.dispatchesPerStep, upd.timedPasses]).toEqual([2, 2, 1, 1]);
    expect(mmK.share).toBeCloseTo(0.6, 12);
    expect(upd.share).toBeCloseTo(0.4, 12);
    expect(mmK.flops).toBe(3 * 2e6);
    expect(mmK.gflops).toBeCloseTo(6e6 / 6e-3 / 1e9, 12); // 1 GFLOP/s
    expect(mmK.medianUs).toBeCloseTo(2000, 9);
    expect(upd.flops).toBeNull();
    expect(upd.gflops).toBeNull();
    expect(upd.gbps).toBeCloseTo(4000 / 4e-3 / 1e9, 12);
    expect(upd.costModel).toBe('bound-buffers');
    const withP = withPeak(p, { gflops: 4, gbps: null });
    expect(withP.kernels.find((k) => k.label === 'mm')!.peakFraction).toBeCloseTo(0.25, 12);
    expect(withP.kernels.find((k) => k.label === 'upd')!.bandwidthFraction).toBeNull();
    expect(profileTable(withP).rows[0].slice(0, 5)).toEqual(['mm', 'matmul_register_blocked', '3', '1.50', '60.0%']);
    expect(profileCsv(withP).split('\n')[0]).toMatch(/^label,variants,dispatches,steps,dispatchesPerStep/);
  });
});
