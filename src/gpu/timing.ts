/**
 * Timing one piece of GPU work the way benchmarks report it: a first run (pipeline compilation
 * included, wall clock) apart, then `runs` timed repetitions, each its own submit, timed with
 * timestamp queries when the device has them (wall clock around submit → done otherwise).
 */
import { CommandRecorder } from './commands';
import type { Gpu } from './device';
import { median, TimestampProfiler } from './profiler';

export interface KernelTiming {
  firstRunMs: number;
  samplesMs: number[];
  medianMs: number;
  minMs: number;
  timing: 'timestamp-query' | 'wall-clock';
}

/**
 * @example
 * const t = await measureKernel(gpu, (rec) => matmul(rec, { a, b, c }), { runs: 10 });
 * console.log(t.medianMs);
 */
export async function measureKernel(
  gpu: Gpu,
  record: (rec: CommandRecorder) => Promise<unknown>,
  options: { runs: number },
): Promise<KernelTiming> {
  const profiler = gpu.hasTimestamps ? new TimestampProfiler(gpu) : undefined;
  try {
    const once = async (): Promise<number> => {
      const rec = new CommandRecorder(gpu, profiler, 'measureKernel');
      const t0 = performance.now();
      await record(rec);
      const passes = await rec.submit({ wait: true }); // wall-clock timing: wait for the GPU
      const wall = performance.now() - t0;
      if (!profiler) return wall;
      // A run may be several passes (kernels): its time is their sum. All dropped (quantized to 0)
      // → NaN, filtered out below rather than counted as free.
      return passes.length ? passes.reduce((s, p) => s + p.ns, 0) / 1e6 : NaN;
    };
    const t0 = performance.now();
    await once();
    const firstRunMs = performance.now() - t0;
    const samplesMs: number[] = [];
    for (let i = 0; i < options.runs; i++) {
      const ms = await once();
      if (Number.isFinite(ms)) samplesMs.push(ms);
    }
    return {
      firstRunMs,
      samplesMs,
      medianMs: median(samplesMs),
      minMs: samplesMs.length ? Math.min(...samplesMs) : NaN,
      timing: profiler ? 'timestamp-query' : 'wall-clock',
    };
  } finally {
    profiler?.destroy();
  }
}

/**
 * Times several pieces of work against each other: each one's first run apart (compilation), then
 * `runs` rounds in which every piece runs once, in order — so a drift of the machine's load (a shared
 * CPU adapter) hits all of them alike, where timing one after the other would hand it to whichever
 * ran during the busy stretch. Same per-run timing as measureKernel.
 *
 * @example
 * const t = await measureInterleaved(gpu, { quad: (rec) => matmul(rec, args, { variant: 'register-blocked-quad' }),
 *   tiled: (rec) => matmul(rec, args, { variant: 'workgroup-tiled-vec4' }) }, { runs: 3 });
 * t.quad.medianMs;
 */
export async function measureInterleaved<K extends string>(
  gpu: Gpu,
  records: Record<K, (rec: CommandRecorder) => Promise<unknown>>,
  options: { runs: number },
): Promise<Record<K, KernelTiming>> {
  const profiler = gpu.hasTimestamps ? new TimestampProfiler(gpu) : undefined;
  const keys = Object.keys(records) as K[];
  try {
    const once = async (key: K): Promise<number> => {
      const rec = new CommandRecorder(gpu, profiler, 'measureInterleaved');
      const t0 = performance.now();
      await records[key](rec);
      const passes = await rec.submit({ wait: true }); // wall-clock timing: wait for the GPU
      const wall = performance.now() - t0;
      if (!profiler) return wall;
      return passes.length ? passes.reduce((s, p) => s + p.ns, 0) / 1e6 : NaN;
    };
    const first = {} as Record<K, number>;
    const samples = {} as Record<K, number[]>;
    for (const key of keys) {
      const t0 = performance.now();
      await once(key);
      first[key] = performance.now() - t0;
      samples[key] = [];
    }
    for (let r = 0; r < options.runs; r++) {
      for (const key of keys) {
        const ms = await once(key);
        if (Number.isFinite(ms)) samples[key].push(ms);
      }
    }
    const out = {} as Record<K, KernelTiming>;
    for (const key of keys) {
      out[key] = {
        firstRunMs: first[key],
        samplesMs: samples[key],
        medianMs: median(samples[key]),
        minMs: samples[key].length ? Math.min(...samples[key]) : NaN,
        timing: profiler ? 'timestamp-query' : 'wall-clock',
      };
    }
    return out;
  } finally {
    profiler?.destroy();
  }
}
