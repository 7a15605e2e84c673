/**
 * Gather benchmark (muonlab bench gather): median timestamp-query times and bandwidth per shape.
 */
import { CommandRecorder } from '../../gpu/commands';
import type { Gpu } from '../../gpu/device';
import { median, TimestampProfiler } from '../../gpu/profiler';
import { uploadTensor, type Tensor } from '../../gpu/tensor';
import { randomF32, seededUniform } from '../../cpu/random';
import type { BenchOptions, BenchRow } from '../family';
import { gatherBytes, gatherRows } from './gather';

/** One benchmark shape: `batch` runs each gathering `rows` rows of `cols` from a `srcRows` table. */
export interface GatherBenchShape {
  label: string;
  batch: number;
  rows: number;
  cols: number;
  srcRows: number;
  /** One table for all runs (the training case) or one per run. */
  sharedSrc: boolean;
}

/**
 * The shapes, in report order: a minibatch of 4096 items from a [C]-sized shared table (N = 100000,
 * d = 64), and a 16-run sweep cell gathering 1024 rows of 128 from per-run tables (the table is 32 MiB:
 * the reads miss any cache, as in training).
 */
export const GATHER_BENCH_SHAPES: readonly GatherBenchShape[] = [
  { label: '4096x64 from 100000x64', batch: 1, rows: 4096, cols: 64, srcRows: 100_000, sharedSrc: true },
  { label: '16 x 1024x128 from 16 x 4096x128', batch: 16, rows: 1024, cols: 128, srcRows: 4096, sharedSrc: false },
];

/**
 * Times the gather on each shape: one warm-up run (wall clock, pipeline compilation included,
 * reported as `firstRunMs`), then `runs` timed runs, each its own submit, timed with timestamp queries
 * (wall clock around submit → done without them). Gathers do no arithmetic: `flops` is 0 and the
 * bandwidth (src rows read + indices read + rows written, over the median) is in `note`.
 *
 * @example
 * const rows = await benchGather(gpu, { runs: 10, onProgress: console.log });
 * console.table(rows.map((r) => ({ shape: r.shape, ms: r.medianMs, note: r.note })));
 */
export async function benchGather(gpu: Gpu, options: BenchOptions = {}): Promise<BenchRow[]> {
  const runs = options.runs ?? 10;
  if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`benchGather: runs must be a positive integer, got ${runs}`);
  for (const v of options.variants ?? []) {
    if (v !== 'default') throw new RangeError(`benchGather: unknown variant "${v}"; variants: default`);
  }
  const shapes = GATHER_BENCH_SHAPES.filter((s) => !options.shapes || options.shapes.some((f) => s.label.includes(f)));
  const profiler = gpu.hasTimestamps ? new TimestampProfiler(gpu) : undefined;
  const rows: BenchRow[] = [];
  try {
    for (const s of shapes) rows.push(await benchShape(gpu, s, runs, profiler, options.onProgress));
  } finally {
    profiler?.destroy();
  }
  return rows;
}

async function benchShape(
  gpu: Gpu,
  s: GatherBenchShape,
  runs: number,
  profiler: TimestampProfiler | undefined,
  onProgress?: (message: string) => void,
): Promise<BenchRow> {
  const created: Tensor[] = [];
  const keep = (t: Tensor): Tensor => (created.push(t), t);
  try {
    const srcBatch = s.sharedSrc ? 1 : s.batch;
    const src = keep(
      uploadTensor(
        gpu,
        { batch: srcBatch, rows: s.srcRows, cols: s.cols, label: `bench gather src ${s.label}` },
        randomF32(srcBatch * s.srcRows * s.cols, 21),
      ),
    );
    // Uniformly random rows: the access pattern of minibatch draws (no locality to exploit).
    const next = seededUniform(22);
    const draws = new Uint32Array(s.batch * s.rows);
    for (let i = 0; i < draws.length; i++) draws[i] = Math.floor(next() * s.srcRows);
    const index = keep(
      uploadTensor(gpu, { batch: s.batch, rows: s.rows, cols: 1, dtype: 'u32', label: `bench gather index ${s.label}` }, draws),
    );
    const out = keep(
      uploadTensor(
        gpu,
        { batch: s.batch, rows: s.rows, cols: s.cols, label: `bench gather out ${s.label}` },
        new Float32Array(s.batch * s.rows * s.cols),
      ),
    );
    const label = 'gather';

    const once = async (timed: boolean): Promise<number> => {
      const rec = new CommandRecorder(gpu, timed ? profiler : undefined, `bench gather ${s.label}`);
      const start = performance.now();
      await gatherRows(rec, { src, index, out }, { label });
      const timings = await rec.submit({ wait: true }); // wall-clock timing: wait for the GPU
      const wallMs = performance.now() - start;
      if (!timed || !profiler) return wallMs;
      // Every pass of the call (one unless rows exceed a dispatch); none left = all dropped → NaN.
      const passes = timings.filter((t) => t.label === label);
      return passes.length ? passes.reduce((sum, t) => sum + t.ns, 0) / 1e6 : NaN;
    };

    onProgress?.(`gather ${s.label}: warm-up`);
    const firstRunMs = await once(false);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const ms = await once(true);
      if (Number.isFinite(ms)) times.push(ms);
    }
    const medianMs = median(times);
    const bytes = gatherBytes(s);
    const gbPerS = bytes / (medianMs * 1e6);
    const notes = [`${gbPerS.toFixed(2)} GB/s (${(bytes / 2 ** 20).toFixed(1)} MiB moved: rows read + indices + rows written)`];
    if (times.length < runs) notes.push(`${runs - times.length} of ${runs} timestamp intervals came back ≤ 0 and were dropped`);
    onProgress?.(`gather ${s.label}: median ${medianMs.toFixed(3)} ms, ${gbPerS.toFixed(2)} GB/s`);
    return {
      kernel: 'gather',
      variant: 'default',
      shape: s.label,
      runs: times.length,
      medianMs,
      minMs: times.length ? Math.min(...times) : NaN,
      firstRunMs,
      flops: 0,
      gflops: 0,
      timing: profiler ? 'timestamp-query' : 'wall-clock',
      chosen: true,
      note: notes.join('; '),
    };
  } finally {
    for (const t of created) t.buffer.destroy();
  }
}
