/**
 * The benchmark of matmul (`muonlab bench matmul`): every variant over a fixed list of shapes —
 * square 256³/512³/1024³, two skinny products (a long K with a small output, a short K with a large
 * output) and a batch of 16 small products — timed with timestamp queries after one warm-up run.
 *
 * What a row means:
 * - the warm-up is one wall-clock run that includes pipeline compilation (`firstRunMs`), reported
 *   apart and never mixed into the median;
 * - each timed run is its own command buffer and submit, so the median is of single-dispatch GPU
 *   times (the kernel alone, not upload or readback);
 * - a case whose warm-up run takes over 1.5 s gets 3 timed runs and says so in `note`; "takes" is
 *   the warm-up's timestamp-query time, i.e. without compilation (~1 s for the 16×16 and quad
 *   kernels on SwiftShader, which would otherwise mark whichever shape runs first as slow);
 * - variants the device cannot run (the quad kernel without subgroups) are skipped, with a progress
 *   message;
 * - without the timestamp-query feature every time is wall clock around submit → done (`timing`).
 *
 * Operands are uniform random in [-1, 1) (src/cpu/random.ts), uploaded once per case and destroyed
 * after it; every case calls `onProgress` once, before its warm-up.
 */
import { CommandRecorder } from '../../gpu/commands';
import type { Gpu } from '../../gpu/device';
import { median, TimestampProfiler } from '../../gpu/profiler';
import { uploadTensor, type Tensor } from '../../gpu/tensor';
import { randomF32 } from '../../cpu/random';
import type { BenchOptions, BenchRow } from '../family';
import {
  defaultMatmulVariant,
  isAligned,
  matmul,
  matmulFlops,
  matmulShapeClass,
  matmulVariantAvailable,
  MATMUL_VARIANTS,
  type MatmulVariantName,
} from './matmul';
import { matmulShape, type MatmulOperands } from '../../layout/matmulShape';
import { chosenVariant } from '../variants';

/** One benchmark shape: `batch` independent products of op(A) M×K and op(B) K×N. */
export interface MatmulBenchShape {
  label: string;
  M: number;
  N: number;
  K: number;
  batch: number;
  /** Left out of the default list (too slow on a CPU adapter); run when a --shape filter names it. */
  optIn: boolean;
}

const product = (M: number, N: number, K: number, batch = 1, optIn = false): MatmulBenchShape => ({
  label: `${batch > 1 ? `${batch} x ` : ''}${M}x${N}x${K}`,
  M,
  N,
  K,
  batch,
  optIn,
});

/**
 * The shapes, in report order. Labels are `MxNxK` (so M=64, K=4096, N=64 reads "64x64x4096"). The
 * skinny pair brackets what training does: M=64, K=4096, N=64 is a gradient-like product (long
 * reduction, tiny output, few workgroups to spread over the cores); M=4096, K=64, N=4096 an
 * activation-like one (short reduction, 16M outputs: the stores weigh as much as the loop).
 */
export const MATMUL_BENCH_SHAPES: readonly MatmulBenchShape[] = [
  product(256, 256, 256),
  product(512, 512, 512),
  product(1024, 1024, 1024),
  product(64, 64, 4096),
  product(4096, 4096, 64),
  product(128, 128, 128, 16),
  // A real GPU's size (the issue's fp32 figure): left out on CPU adapters unless --shape names it.
  product(4096, 4096, 4096, 1, true),
];

/** Cases whose warm-up kernel takes longer than this get `SLOW_RUNS` timed runs. */
const SLOW_WARMUP_MS = 1500;
const SLOW_RUNS = 3;

/**
 * Times every matmul variant (or `options.variants`) on every shape it supports (or the shapes whose
 * label contains one of `options.shapes`). One row per (variant, shape), in variant-major order.
 *
 * @example
 * const rows = await benchMatmul(gpu, { runs: 10, shapes: ['1024x'], onProgress: console.log });
 * console.table(rows.map((r) => ({ variant: r.variant, shape: r.shape, ms: r.medianMs, gflops: r.gflops })));
 */
export async function benchMatmul(gpu: Gpu, options: BenchOptions = {}): Promise<BenchRow[]> {
  const runs = options.runs ?? 10;
  if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`benchMatmul: runs must be a positive integer, got ${runs}`);
  const names = options.variants ?? MATMUL_VARIANTS.map((v) => v.name);
  const variants = names.map((name) => {
    const v = MATMUL_VARIANTS.find((x) => x.name === name);
    if (!v) throw new RangeError(`benchMatmul: unknown variant "${name}"; variants: ${MATMUL_VARIANTS.map((x) => x.name).join(', ')}`);
    return v;
  });
  const shapes = MATMUL_BENCH_SHAPES.filter((s) => (options.shapes ? options.shapes.some((f) => s.label.includes(f)) : !s.optIn));
  const profiler = gpu.hasTimestamps ? new TimestampProfiler(gpu) : undefined;
  const rows: BenchRow[] = [];
  try {
    for (const variant of variants) {
      if (!matmulVariantAvailable(gpu, variant)) {
        options.onProgress?.(`matmul ${variant.name}: skipped, this device has no "${variant.requires}" feature`);
        continue;
      }
      for (const shape of shapes) {
        const row = await benchCase(gpu, variant.name, shape, runs, profiler, options.onProgress);
        if (row) rows.push(row);
      }
    }
  } finally {
    profiler?.destroy();
  }
  return rows;
}

async function benchCase(
  gpu: Gpu,
  variantName: MatmulVariantName,
  s: MatmulBenchShape,
  runs: number,
  profiler: TimestampProfiler | undefined,
  onProgress?: (message: string) => void,
): Promise<BenchRow | undefined> {
  const variant = MATMUL_VARIANTS.find((v) => v.name === variantName)!;
  const created: Tensor[] = [];
  const upload = (rows: number, cols: number, seed: number, label: string): Tensor => {
    const t = uploadTensor(gpu, { batch: s.batch, rows, cols, label: `bench ${label} ${s.label}` }, randomF32(s.batch * rows * cols, seed));
    created.push(t);
    return t;
  };
  try {
    // Shape checks first, on layouts only, so an unsupported case allocates nothing.
    const layout = (rows: number, cols: number) => ({
      batch: s.batch,
      rows,
      cols,
      batchStride: s.batch > 1 ? rows * cols : 0,
      offset: 0,
      dtype: 'f32' as const,
    });
    const probe: MatmulOperands<ReturnType<typeof layout>> = { a: layout(s.M, s.K), b: layout(s.K, s.N), c: layout(s.M, s.N) };
    const shape = matmulShape(probe);
    const aligned = isAligned(shape, probe);
    if (!variant.supports(shape, probe as unknown as MatmulOperands<Tensor>)) return undefined;

    const args: MatmulOperands<Tensor> = { a: upload(s.M, s.K, 11, 'A'), b: upload(s.K, s.N, 12, 'B'), c: upload(s.M, s.N, 13, 'C') };
    const label = `matmul:${variantName}`;
    // One run in its own command buffer: wall clock around record → submit → done, and the pass's
    // timestamp interval (NaN when the device has no timestamps or the interval came back ≤ 0).
    const once = async (): Promise<{ wallMs: number; kernelMs: number }> => {
      const rec = new CommandRecorder(gpu, profiler, `bench ${label} ${s.label}`);
      const start = performance.now();
      await matmul(rec, args, { variant: variantName, label });
      const timings = await rec.submit({ wait: true }); // wall-clock timing: wait for the GPU
      const wallMs = performance.now() - start;
      const pass = timings.find((t) => t.label === label);
      return { wallMs, kernelMs: pass ? pass.ns / 1e6 : NaN };
    };

    onProgress?.(`matmul ${variantName} ${s.label}`);
    const warmup = await once();
    const firstRunMs = warmup.wallMs;
    // "Slow" is about the kernel, not its compilation (~1 s for the large register-blocked kernels):
    // judged on the warm-up's own GPU time where there is one.
    const warmupKernelMs = profiler && Number.isFinite(warmup.kernelMs) ? warmup.kernelMs : warmup.wallMs;
    const slow = warmupKernelMs > SLOW_WARMUP_MS;
    const count = slow ? Math.min(runs, SLOW_RUNS) : runs;
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      const r = await once();
      const ms = profiler ? r.kernelMs : r.wallMs;
      if (Number.isFinite(ms)) times.push(ms);
    }
    const medianMs = median(times);
    const flops = matmulFlops(shape);
    const chosen = (chosenVariant(gpu, 'matmul', matmulShapeClass(shape, aligned)) ?? defaultMatmulVariant(gpu)) === variantName;
    const notes: string[] = [];
    if (slow) notes.push(`slow: warm-up run ${warmupKernelMs.toFixed(0)} ms > ${SLOW_WARMUP_MS} ms, so ${count} timed runs`);
    if (times.length < count) notes.push(`${count - times.length} of ${count} timestamp intervals came back ≤ 0 and were dropped`);
    const row: BenchRow = {
      kernel: 'matmul',
      variant: variantName,
      shape: s.label,
      runs: times.length,
      medianMs,
      minMs: times.length ? Math.min(...times) : NaN,
      firstRunMs,
      flops,
      gflops: flops / (medianMs * 1e6),
      timing: profiler ? 'timestamp-query' : 'wall-clock',
      chosen,
    };
    if (notes.length) row.note = notes.join('; ');
    return row;
  } finally {
    for (const t of created) t.buffer.destroy();
  }
}
