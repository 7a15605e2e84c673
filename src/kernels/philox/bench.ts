/**
 * Philox benchmark (muonlab bench philox): fill throughput per output mode.
 */
import { CommandRecorder } from '../../gpu/commands';
import type { Gpu } from '../../gpu/device';
import { median, TimestampProfiler } from '../../gpu/profiler';
import { createTensor, type Tensor } from '../../gpu/tensor';
import { PHILOX_STREAMS } from '../../cpu/philox';
import type { BenchOptions, BenchRow } from '../family';
import { philoxFill } from './philox';

/** Values written per bench run. */
export const PHILOX_BENCH_COUNT = 1 << 22;

export async function benchPhilox(gpu: Gpu, options: BenchOptions = {}): Promise<BenchRow[]> {
  const runs = options.runs ?? 10;
  const count = PHILOX_BENCH_COUNT;
  const profiler = gpu.hasTimestamps ? new TimestampProfiler(gpu) : undefined;
  const out: Tensor = createTensor(gpu, { rows: count, cols: 1, dtype: 'u32', label: 'philox bench' });
  const rows: BenchRow[] = [];
  try {
    for (const mode of ['u32', 'normal'] as const) {
      const once = async (timed: boolean) => {
        const rec = new CommandRecorder(gpu, timed ? profiler : undefined, 'bench philox');
        const t0 = performance.now();
        await philoxFill(rec, { out, count, seed: 1, stream: PHILOX_STREAMS.test, mode });
        const passes = await rec.submit({ wait: true }); // wall-clock timing: wait for the GPU
        return timed && profiler ? passes.reduce((s, p) => s + p.ns, 0) / 1e6 : performance.now() - t0;
      };
      const firstRunMs = await once(false);
      const times: number[] = [];
      for (let i = 0; i < runs; i++) times.push(await once(true));
      const medianMs = median(times);
      // "flops" here: values generated (one Philox-4x32-10 per 4 values).
      rows.push({
        kernel: 'philox',
        variant: `fill-${mode}`,
        shape: `${count} values`,
        runs,
        medianMs,
        minMs: Math.min(...times),
        firstRunMs,
        flops: count,
        gflops: count / (medianMs * 1e6),
        timing: profiler ? 'timestamp-query' : 'wall-clock',
        chosen: true,
        note: 'gflops column = billions of values per second',
      });
    }
  } finally {
    out.buffer.destroy();
    profiler?.destroy();
  }
  return rows;
}
