/**
 * The benchmark of batched Newton–Schulz (`muonlab bench newton-schulz`): ns5, 5 steps, square d×d
 * at d ∈ {64, 128, 256, 512}, R ∈ {1, 16}. Rows per (d, R):
 *
 * - `ns5 batched`      one call for R matrices: median total timestamp time of its passes, GFLOP/s
 *                      with SPEC's count 5·(4m²n + 2m³) per matrix (an effective rate: the symmetric
 *                      Gram kernel computes half of X·Xᵀ and A·A), dispatches per iteration, and the
 *                      GFLOP/s each product kind runs at (FLOPs it actually does) next to the
 *                      standalone matmul's;
 * - `ns5 batched plain` the same with `symmetric: false` (three full matmuls): the symmetry's gain;
 * - `ns5 16 separate`  (R = 16) sixteen R = 1 calls recorded into one command buffer, total
 *                      timestamp time — against which the batched call is compared (ratio in `note`);
 * - `matmul standalone` the batched d×d×d matmul alone (same variant choice), the 80% reference.
 *
 * Timing as in matmulBench: a wall-clock warm-up (compilation) reported apart, then `runs` timed
 * submits; warm-ups over 1.5 s get 3 timed runs (stated in `note`). The two buffer copies per step
 * are not compute passes and carry no timestamps: their cost is outside these times (a memcpy of
 * d² + d² floats per matrix next to 6d³ FLOPs). d = 512 with R = 16 (≈ 64 GFLOP per call, ~20 s on
 * a CPU adapter) runs only when asked for with `--shape "16 x 512"`.
 */
import { CommandRecorder } from '../gpu/commands';
import type { Gpu } from '../gpu/device';
import { median, TimestampProfiler, type PassTiming } from '../gpu/profiler';
import { uploadTensor, runRange, type Tensor } from '../gpu/tensor';
import { randomF32 } from '../cpu/random';
import type { BenchOptions, BenchRow } from './families';
import { matmul } from './matmul';
import { createNsWorkspace, newtonSchulz, newtonSchulzFlops, type NsWorkspace } from './newtonSchulz';

const SLOW_WARMUP_MS = 1500;
const SLOW_RUNS = 3;
const STEPS = 5;

export interface NsBenchShape {
  label: string;
  d: number;
  batch: number;
  /** Left out of the default list (too slow on a CPU adapter); run when a --shape filter names it. */
  optIn?: boolean;
}

export const NS_BENCH_SHAPES: readonly NsBenchShape[] = [64, 128, 256, 512].flatMap((d) => [
  { label: `1 x ${d}x${d}`, d, batch: 1 },
  { label: `16 x ${d}x${d}`, d, batch: 16, optIn: d >= 512 },
]);

interface Timed {
  firstRunMs: number;
  samples: PassTiming[][];
  slow: boolean;
}

async function time(gpu: Gpu, profiler: TimestampProfiler | undefined, runs: number, record: (rec: CommandRecorder) => Promise<unknown>): Promise<Timed> {
  const once = async (timed: boolean): Promise<{ wall: number; passes: PassTiming[] }> => {
    const rec = new CommandRecorder(gpu, timed ? profiler : undefined, 'bench newton-schulz');
    const t0 = performance.now();
    await record(rec);
    const passes = await rec.submit({ wait: true }); // wall-clock timing: wait for the GPU
    return { wall: performance.now() - t0, passes };
  };
  const first = await once(false);
  const slow = first.wall > SLOW_WARMUP_MS;
  const count = slow ? Math.min(runs, SLOW_RUNS) : runs;
  const samples: PassTiming[][] = [];
  for (let i = 0; i < count; i++) {
    const r = await once(true);
    samples.push(profiler ? r.passes : [{ label: 'wall', ns: r.wall * 1e6 }]);
  }
  return { firstRunMs: first.wall, samples, slow };
}

const totalMs = (passes: PassTiming[], filter: (label: string) => boolean = () => true) =>
  passes.filter((p) => filter(p.label)).reduce((s, p) => s + p.ns, 0) / 1e6;

export async function benchNewtonSchulz(gpu: Gpu, options: BenchOptions = {}): Promise<BenchRow[]> {
  const runs = options.runs ?? 10;
  const shapes = NS_BENCH_SHAPES.filter((s) => (options.shapes ? options.shapes.some((f) => s.label.includes(f)) : !s.optIn));
  const profiler = gpu.hasTimestamps ? new TimestampProfiler(gpu) : undefined;
  const timing = profiler ? 'timestamp-query' : 'wall-clock';
  const rows: BenchRow[] = [];
  try {
    for (const s of shapes) {
      const { d, batch } = s;
      const created: Tensor[] = [];
      const workspaces: NsWorkspace[] = [];
      try {
        const input = uploadTensor(gpu, { batch, rows: d, cols: d, label: `ns bench X ${s.label}` }, randomF32(batch * d * d, d + batch));
        const output = uploadTensor(gpu, { batch, rows: d, cols: d, label: `ns bench D ${s.label}` }, new Float32Array(batch * d * d));
        created.push(input, output);
        const ws = createNsWorkspace(gpu, { batch, rows: d, cols: d });
        workspaces.push(ws);
        let dispatchesPerStep = 0;
        options.onProgress?.(`newton-schulz ns5 ${s.label}: batched`);
        const batched = await time(gpu, profiler, runs, async (rec) => {
          dispatchesPerStep = (await newtonSchulz(rec, { input, output, orth: 'ns5', workspace: ws })).dispatchesPerStep;
        });
        options.onProgress?.(`newton-schulz ns5 ${s.label}: batched, plain matmul`);
        const plain = await time(gpu, profiler, runs, (rec) => newtonSchulz(rec, { input, output, orth: 'ns5', workspace: ws, symmetric: false }));
        const flops = newtonSchulzFlops({ batch, rows: d, cols: d }, STEPS);
        const batchedMs = median(batched.samples.map((p) => totalMs(p)));
        const plainMs = median(plain.samples.map((p) => totalMs(p)));
        // Rates per product kind, from the FLOPs each actually performs: a symmetric Gram pass
        // computes T(T+1)/2 of T² tiles (≈ d³ + 16d² of 2d³), the X update 2d³.
        const tiles = Math.ceil(d / 32);
        const symFlops = 2 * d ** 3 * batch * ((tiles * (tiles + 1)) / 2) / (tiles * tiles);
        const rate = (t: Timed, match: (l: string) => boolean, perPass: number, passes: number) =>
          (STEPS * passes * perPass) / (median(t.samples.map((p) => totalMs(p, match))) * 1e6);
        const symGflops = rate(batched, (l) => l.includes('(symmetric)'), symFlops, 2);
        const updateGflops = rate(batched, (l) => l.startsWith('ns: X = aX'), 2 * d ** 3 * batch, 1);
        const plainMatmulGflops = rate(plain, (l) => l.startsWith('ns:'), 2 * d ** 3 * batch, 3);

        // The standalone batched matmul of the same shape (the 80 % reference).
        const b = uploadTensor(gpu, { batch, rows: d, cols: d, label: 'mm B' }, randomF32(batch * d * d, 3));
        const c = uploadTensor(gpu, { batch, rows: d, cols: d, label: 'mm C' }, new Float32Array(batch * d * d));
        created.push(b, c);
        const mm = await time(gpu, profiler, runs, (rec) => matmul(rec, { a: input, b, c }, { label: 'matmul standalone' }));
        const mmMs = median(mm.samples.map((p) => totalMs(p)));
        const mmGflops = (2 * d ** 3 * batch) / (mmMs * 1e6);

        let separateMs = NaN;
        let separate: Timed | undefined;
        if (batch > 1) {
          const single = Array.from({ length: batch }, () => createNsWorkspace(gpu, { batch: 1, rows: d, cols: d }));
          workspaces.push(...single);
          options.onProgress?.(`newton-schulz ns5 ${s.label}: ${batch} separate calls`);
          separate = await time(gpu, profiler, runs, async (rec) => {
            for (let r = 0; r < batch; r++) {
              await newtonSchulz(rec, { input: runRange(input, r, 1), output: runRange(output, r, 1), orth: 'ns5', workspace: single[r] });
            }
          });
          separateMs = median(separate.samples.map((p) => totalMs(p)));
        }
        const stat = (t: Timed, ms: number, variant: string, f: number, note: string[]): BenchRow => {
          const totals = t.samples.map((p) => totalMs(p));
          if (t.slow) note.push(`slow: warm-up ${t.firstRunMs.toFixed(0)} ms > ${SLOW_WARMUP_MS} ms, so ${t.samples.length} timed runs`);
          return {
            kernel: 'newton-schulz', variant, shape: s.label, runs: totals.length, medianMs: ms, minMs: Math.min(...totals),
            firstRunMs: t.firstRunMs, flops: f, gflops: f / (ms * 1e6), timing, note: note.join('; ') || undefined,
          };
        };
        const pct = (x: number) => `${((100 * x) / mmGflops).toFixed(0)}%`;
        const batchedNote = [
          `${dispatchesPerStep} dispatches per iteration for all ${batch} matrices (+2 buffer copies, untimed), 2 more per call (norm, scale)`,
          `symmetric Gram passes ${symGflops.toFixed(2)} GFLOP/s (${pct(symGflops)} of the standalone matmul's ${mmGflops.toFixed(2)}), X update matmul ${updateGflops.toFixed(2)} (${pct(updateGflops)})`,
          `${(plainMs / batchedMs).toFixed(2)}× faster than three plain matmuls per step`,
        ];
        if (batch > 1) batchedNote.push(`batched / ${batch} separate = ${(batchedMs / separateMs).toFixed(2)}× the time`);
        rows.push(stat(batched, batchedMs, 'ns5 batched', flops, batchedNote));
        rows.push(stat(plain, plainMs, 'ns5 batched plain', flops, [`symmetric: false — three plain matmuls per step at ${plainMatmulGflops.toFixed(2)} GFLOP/s (${pct(plainMatmulGflops)} of the standalone matmul)`]));
        if (separate) rows.push(stat(separate, separateMs, `ns5 ${batch} separate`, flops, [`${batch} calls of R = 1 in one command buffer`]));
        rows.push(stat(mm, mmMs, 'matmul standalone', 2 * d ** 3 * batch, [`${d}x${d}x${d}, batch ${batch}`]));
        options.onProgress?.(`newton-schulz ns5 ${s.label}: ${batchedMs.toFixed(1)} ms, ${(flops / (batchedMs * 1e6)).toFixed(2)} GFLOP/s`);
      } finally {
        for (const t of created) t.buffer.destroy();
        for (const w of workspaces) w.destroy();
      }
    }
  } finally {
    profiler?.destroy();
  }
  return rows;
}
