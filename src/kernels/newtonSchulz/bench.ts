/**
 * The benchmark of batched Newton–Schulz (`muonlab bench newton-schulz`): ns5, 5 steps, square d×d
 * at d ∈ {64, 128, 256, 512}, R ∈ {1, 16}. Rows per (d, R):
 *
 * - `ns5 batched`       one call for R matrices: median total timestamp time of its passes, GFLOP/s
 *                       with docs/math.md's count 5·(4m²n + 2m³) per matrix (an effective rate: the symmetric
 *                       Gram kernel computes only the tiles on and above the diagonal of X·Xᵀ and A·A),
 *                       dispatches per iteration, and the GFLOP/s each product kind runs at (FLOPs it
 *                       actually does) next to the standalone matmul's;
 * - `ns5 batched plain` the same with `symmetric: false` (three full matmuls): the symmetry's gain;
 * - `ns5 16 separate`   (R = 16) sixteen R = 1 calls recorded into one command buffer, total timestamp
 *                       time — against which the batched call is compared;
 * - `matmul standalone` the batched d×d×d matmul alone (same variant choice), the 80% reference;
 * - `ns5 batched gram=V` the batched call with the symmetric Gram variant V forced, for every variant
 *                       the device and shape take other than the one `ns5 batched` used (so each of
 *                       quad, workgroup-tiled-vec4 and subgroup-tiled gets a row).
 *
 * The four are timed in interleaved rounds (batched, separate, plain, matmul, then again), so a
 * change in the machine's load hits all of them alike; the batched/separate ratio is the median of
 * the per-round ratios. A warm-up per case is reported apart (`first ms`: wall clock, compilation
 * included); when the slowest warm-up's kernel time exceeds 1.5 s there are 3 rounds. The two buffer copies per step are not compute
 * passes and carry no timestamps: their cost is outside these times (a memcpy of 2d² floats per
 * matrix next to 6d³ FLOPs). d = 512 with R = 16 (≈ 64 GFLOP per call, ~20 s on a CPU adapter) runs
 * only when asked for with `--shape "16 x 512"`. On SwiftShader timestamps are CPU wall time: on a
 * loaded machine they measure the OS scheduler as much as the kernels (bench/README.md).
 *
 * `exact d×d` shapes (d = 256; d = 1024 with `--shape "exact 1 x 1024"`): one GPU `exact` polar
 * factor (all EXACT_MAX_STEPS steps, the stop rule's selection included) against the Float64 SVD
 * polar factor on the CPU (src/cpu/polar.ts, ml-matrix) of the same f32 input, wall time side by
 * side: the GPU row is the median of its runs (timestamp total and wall clock, from submit to
 * completion), the CPU row one run (an O(d³) SVD in JavaScript: minutes at d = 1024). The note gives
 * the ratio, the steps the stop rule took and ‖GPU − CPU‖₂.
 */
import { CommandRecorder } from '../../gpu/commands';
import type { Gpu } from '../../gpu/device';
import { median, TimestampProfiler, type PassTiming } from '../../gpu/profiler';
import { readTensor, uploadTensor, runRange, type Tensor } from '../../gpu/tensor';
import { randomF32 } from '../../cpu/random';
import type { BenchOptions, BenchRow } from '../family';
import { matmul } from '../matmul/matmul';
import { createNsWorkspace, newtonSchulz, newtonSchulzFlops, readExactReport, type NsWorkspace } from './newtonSchulz';
import { EXACT_MAX_STEPS } from '../../cpu/exactPolar';
import { polarFactor, spectralNorm } from '../../cpu/polar';
import {
  GRAM_VARIANTS,
  gramShapeOf,
  gramVariantSupports,
  resolveGramVariant,
  symmetricGramFlops,
  type GramVariantName,
} from '../matmul/symmetricGram';

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

export const NS_BENCH_SHAPES: readonly NsBenchShape[] = [64, 128, 256, 512, 1024].flatMap((d) => [
  { label: `1 x ${d}x${d}`, d, batch: 1, optIn: d >= 1024 },
  { label: `16 x ${d}x${d}`, d, batch: 16, optIn: d >= 512 },
]);

/** One exact polar factor, GPU against the CPU SVD (d = 1024 only when a --shape filter names it). */
export const EXACT_BENCH_SHAPES: readonly NsBenchShape[] = [256, 1024].map((d) => ({
  label: `exact 1 x ${d}x${d}`,
  d,
  batch: 1,
  optIn: d >= 1024,
}));

const EXACT_GPU_RUNS = 3;

interface Timed {
  firstRunMs: number;
  samples: PassTiming[][];
  /** The slowest warm-up of the interleaved cases, when it cut the rounds to SLOW_RUNS. */
  slowestWarmupMs?: number;
}

type Recording = (rec: CommandRecorder) => Promise<unknown>;

/** One warm-up per case, then `runs` rounds that time every case once, in order. */
async function timeInterleaved(
  gpu: Gpu,
  profiler: TimestampProfiler | undefined,
  runs: number,
  cases: Recording[],
  onWarm?: (i: number) => void,
): Promise<Timed[]> {
  const once = async (record: Recording, timed: boolean): Promise<{ wall: number; passes: PassTiming[] }> => {
    const rec = new CommandRecorder(gpu, timed ? profiler : undefined, 'bench newton-schulz');
    const t0 = performance.now();
    await record(rec);
    const passes = await rec.submit({ wait: true }); // wall-clock timing: wait for the GPU
    return { wall: performance.now() - t0, passes };
  };
  // The warm-up is timed too (with the profiler where there is one): whether a case is slow is
  // judged by its kernel time, not by its pipeline compilation.
  const firsts: number[] = [];
  const warmKernelMs: number[] = [];
  for (const [i, record] of cases.entries()) {
    onWarm?.(i);
    const first = await once(record, true);
    firsts.push(first.wall);
    warmKernelMs.push(profiler ? totalMs(first.passes) : first.wall);
  }
  const slowest = Math.max(...warmKernelMs);
  const slow = slowest > SLOW_WARMUP_MS;
  const rounds = slow ? Math.min(runs, SLOW_RUNS) : runs;
  const samples: PassTiming[][][] = cases.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (const [i, record] of cases.entries()) {
      const t = await once(record, true);
      samples[i].push(profiler ? t.passes : [{ label: 'wall', ns: t.wall * 1e6 }]);
    }
  }
  return cases.map((_, i) => ({ firstRunMs: firsts[i], samples: samples[i], slowestWarmupMs: slow ? slowest : undefined }));
}

const totalMs = (passes: PassTiming[], filter: (label: string) => boolean = () => true) =>
  passes.filter((p) => filter(p.label)).reduce((s, p) => s + p.ns, 0) / 1e6;

/**
 * GPU `exact` against the CPU SVD, one d×d f32 input per shape (see the header).
 *
 * @example
 * const rows = await benchExactPolar(gpu, { shapes: ['exact 1 x 256'] }); // [GPU row, CPU row]
 */
export async function benchExactPolar(gpu: Gpu, options: BenchOptions = {}): Promise<BenchRow[]> {
  const shapes = EXACT_BENCH_SHAPES.filter((s) => (options.shapes ? options.shapes.some((f) => s.label.includes(f)) : !s.optIn));
  const profiler = gpu.hasTimestamps ? new TimestampProfiler(gpu) : undefined;
  const rows: BenchRow[] = [];
  try {
    for (const s of shapes) {
      const { d } = s;
      const host = randomF32(d * d, 7 * d);
      const input = uploadTensor(gpu, { batch: 1, rows: d, cols: d, label: `exact bench X ${d}` }, host);
      const output = uploadTensor(gpu, { batch: 1, rows: d, cols: d, label: `exact bench D ${d}` }, new Float32Array(d * d));
      const ws = createNsWorkspace(gpu, { batch: 1, rows: d, cols: d });
      try {
        const walls: number[] = [];
        const kernels: number[] = [];
        let firstRunMs = 0;
        for (let r = 0; r <= EXACT_GPU_RUNS; r++) {
          options.onProgress?.(`newton-schulz exact d = ${d}: GPU run ${r}/${EXACT_GPU_RUNS}${r === 0 ? ' (warm-up)' : ''}`);
          const rec = new CommandRecorder(gpu, profiler, 'bench exact polar');
          const t0 = performance.now();
          await newtonSchulz(rec, { input, output, orth: 'exact', workspace: ws });
          const passes = await rec.submit({ wait: true });
          const wall = performance.now() - t0;
          if (r === 0) firstRunMs = wall;
          else {
            walls.push(wall);
            kernels.push(profiler ? totalMs(passes) : wall);
          }
        }
        const gpuResult = await readTensor(gpu, output);
        const report = await readExactReport(gpu, ws);
        options.onProgress?.(`newton-schulz exact d = ${d}: CPU SVD (Float64, one run)`);
        const t0 = performance.now();
        const cpuResult = polarFactor(host, d, d);
        const cpuMs = performance.now() - t0;
        const diff = spectralNorm(
          Array.from(gpuResult, (v, i) => v - cpuResult[i]),
          d,
          d,
        );
        const flops = newtonSchulzFlops({ batch: 1, rows: d, cols: d }, EXACT_MAX_STEPS);
        const gpuMs = median(kernels);
        const gpuWall = median(walls);
        rows.push({
          kernel: 'newton-schulz',
          variant: 'exact GPU',
          shape: s.label,
          runs: kernels.length,
          medianMs: gpuMs,
          minMs: Math.min(...kernels),
          firstRunMs,
          flops,
          gflops: flops / (gpuMs * 1e6),
          timing: profiler ? 'timestamp-query' : 'wall-clock',
          note:
            `wall clock ${gpuWall.toFixed(0)} ms (median, submit to completion) vs the CPU SVD's ${cpuMs.toFixed(0)} ms: ${(cpuMs / gpuWall).toFixed(1)}× faster; ` +
            `${EXACT_MAX_STEPS} steps recorded, the stop rule kept step ${report.steps[0]} (residual ${report.stepChange[0].toExponential(1)}); ‖GPU − CPU‖₂ = ${diff.toExponential(2)}`,
        });
        rows.push({
          kernel: 'newton-schulz',
          variant: 'exact CPU SVD (Float64)',
          shape: s.label,
          runs: 1,
          medianMs: cpuMs,
          minMs: cpuMs,
          firstRunMs: cpuMs,
          flops: 23 * d ** 3,
          gflops: (23 * d ** 3) / (cpuMs * 1e6),
          timing: 'wall-clock',
          note: 'ml-matrix SVD + U·Vᵀ in JavaScript, one run (the reference path of src/cpu/polar.ts); FLOPs: the textbook 21d³ of an SVD with U and V, + 2d³ for U·Vᵀ',
        });
      } finally {
        input.buffer.destroy();
        output.buffer.destroy();
        ws.destroy();
      }
    }
  } finally {
    profiler?.destroy();
  }
  return rows;
}

export async function benchNewtonSchulz(gpu: Gpu, options: BenchOptions = {}): Promise<BenchRow[]> {
  const runs = options.runs ?? 10;
  const exactRows = await benchExactPolar(gpu, options);
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
        let usedSymmetric = false;
        const b = uploadTensor(gpu, { batch, rows: d, cols: d, label: 'mm B' }, randomF32(batch * d * d, 3));
        const c = uploadTensor(gpu, { batch, rows: d, cols: d, label: 'mm C' }, new Float32Array(batch * d * d));
        created.push(b, c);
        const single = batch > 1 ? Array.from({ length: batch }, () => createNsWorkspace(gpu, { batch: 1, rows: d, cols: d })) : [];
        workspaces.push(...single);
        const cases: [string, Recording][] = [
          [
            'batched',
            async (rec) => {
              const call = await newtonSchulz(rec, { input, output, orth: 'ns5', workspace: ws });
              dispatchesPerStep = call.dispatchesPerStep;
              usedSymmetric = call.symmetric;
            },
          ],
          ['batched, plain matmul', (rec) => newtonSchulz(rec, { input, output, orth: 'ns5', workspace: ws, symmetric: false })],
          ['matmul standalone', (rec) => matmul(rec, { a: input, b, c }, { label: 'matmul standalone' })],
        ];
        // The other symmetric kernels this device and shape take, forced (the default call uses the choice).
        const gramShape = gramShapeOf({ x: ws.x[0], c: ws.gram, trans: false });
        const chosenGram = resolveGramVariant(gpu, gramShape);
        const otherGrams: GramVariantName[] = GRAM_VARIANTS.filter(
          (v) => v.name !== chosenGram && gramVariantSupports(gpu, v, gramShape),
        ).map((v) => v.name);
        for (const v of otherGrams)
          cases.push([`gram=${v}`, (rec) => newtonSchulz(rec, { input, output, orth: 'ns5', workspace: ws, gramVariant: v })]);
        if (batch > 1) {
          cases.splice(1, 0, [
            `${batch} separate calls`,
            async (rec) => {
              for (let r = 0; r < batch; r++) {
                await newtonSchulz(rec, {
                  input: runRange(input, r, 1),
                  output: runRange(output, r, 1),
                  orth: 'ns5',
                  workspace: single[r],
                });
              }
            },
          ]);
        }
        const timed = await timeInterleaved(
          gpu,
          profiler,
          runs,
          cases.map(([, record]) => record),
          (i) => options.onProgress?.(`newton-schulz ns5 ${s.label}: ${cases[i][0]} (warm-up)`),
        );
        const byName = (name: string) => timed[cases.findIndex(([n]) => n === name)];
        const batched = byName('batched');
        const plain = byName('batched, plain matmul');
        const mm = byName('matmul standalone');
        const separate = batch > 1 ? byName(`${batch} separate calls`) : undefined;
        const flops = newtonSchulzFlops({ batch, rows: d, cols: d }, STEPS);
        const batchedMs = median(batched.samples.map((p) => totalMs(p)));
        const plainMs = median(plain.samples.map((p) => totalMs(p)));
        // Rates per product kind, from the FLOPs each actually performs: a symmetric Gram pass
        // computes T(T+1)/2 of T² tiles (≈ d³ + 16d² of 2d³), the X update 2d³.
        const symFlops = chosenGram === 'matmul' ? 0 : symmetricGramFlops({ batch, m: d, k: d }, chosenGram);
        const rate = (t: Timed, match: (l: string) => boolean, perPass: number, passes: number) =>
          (STEPS * passes * perPass) / (median(t.samples.map((p) => totalMs(p, match))) * 1e6);
        const symGflops = rate(batched, (l) => l.includes('(symmetric)'), symFlops, 2);
        const updateGflops = rate(batched, (l) => l.startsWith('ns: X = aX'), 2 * d ** 3 * batch, 1);
        const plainMatmulGflops = rate(plain, (l) => l.startsWith('ns:'), 2 * d ** 3 * batch, 3);
        const mmMs = median(mm.samples.map((p) => totalMs(p)));
        const mmGflops = (2 * d ** 3 * batch) / (mmMs * 1e6);
        const separateMs = separate ? median(separate.samples.map((p) => totalMs(p))) : NaN;
        const ratios = separate ? batched.samples.map((p, r) => totalMs(p) / totalMs(separate.samples[r])) : [];
        const stat = (t: Timed, ms: number, variant: string, f: number, note: string[]): BenchRow => {
          const totals = t.samples.map((p) => totalMs(p));
          if (t.slowestWarmupMs)
            note.push(
              `slow: the slowest warm-up of this shape ran ${t.slowestWarmupMs.toFixed(0)} ms of kernels > ${SLOW_WARMUP_MS} ms, so ${t.samples.length} rounds`,
            );
          return {
            kernel: 'newton-schulz',
            variant,
            shape: s.label,
            runs: totals.length,
            medianMs: ms,
            minMs: Math.min(...totals),
            firstRunMs: t.firstRunMs,
            flops: f,
            gflops: f / (ms * 1e6),
            timing,
            note: note.join('; ') || undefined,
          };
        };
        const pct = (x: number) => `${((100 * x) / mmGflops).toFixed(0)}%`;
        const batchedNote = [
          `${dispatchesPerStep} dispatches per iteration for all ${batch} matrices (+2 buffer copies, untimed), 2 more per call (norm, scale)`,
          usedSymmetric
            ? `symmetric Gram passes (${chosenGram}) ${symGflops.toFixed(2)} GFLOP/s (${pct(symGflops)} of the standalone matmul's ${mmGflops.toFixed(2)}), X update matmul ${updateGflops.toFixed(2)} (${pct(updateGflops)})`
            : `no symmetric Gram (the device's choice for this shape is the plain matmul); X update matmul ${updateGflops.toFixed(2)} GFLOP/s (${pct(updateGflops)} of the standalone matmul's ${mmGflops.toFixed(2)})`,
          `${(plainMs / batchedMs).toFixed(2)}× faster than three plain matmuls per step`,
        ];
        if (separate) {
          batchedNote.push(
            `batched / ${batch} separate = ${median(ratios).toFixed(2)}× the time (median of the per-round ratios ${ratios.map((x) => x.toFixed(2)).join(', ')})`,
          );
        }
        rows.push(stat(batched, batchedMs, 'ns5 batched', flops, batchedNote));
        rows.push(
          stat(plain, plainMs, 'ns5 batched plain', flops, [
            `symmetric: false — three plain matmuls per step at ${plainMatmulGflops.toFixed(2)} GFLOP/s (${pct(plainMatmulGflops)} of the standalone matmul)`,
          ]),
        );
        if (separate)
          rows.push(stat(separate, separateMs, `ns5 ${batch} separate`, flops, [`${batch} calls of R = 1 in one command buffer`]));
        rows.push(stat(mm, mmMs, 'matmul standalone', 2 * d ** 3 * batch, [`${d}x${d}x${d}, batch ${batch}`]));
        for (const v of otherGrams) {
          const t = byName(`gram=${v}`);
          const ms = median(t.samples.map((p) => totalMs(p)));
          const g = rate(t, (l) => l.includes('(symmetric)'), symmetricGramFlops({ batch, m: d, k: d }, v), 2);
          rows.push(
            stat(t, ms, `ns5 batched gram=${v}`, flops, [
              `symmetric Gram passes by ${v}: ${g.toFixed(2)} GFLOP/s of the FLOPs its tiles perform (${pct(g)} of the standalone matmul's ${mmGflops.toFixed(2)})`,
              `${(batchedMs / ms).toFixed(2)}× the speed of the batched call with the device's choice (${chosenGram})`,
            ]),
          );
        }
        options.onProgress?.(`newton-schulz ns5 ${s.label}: ${batchedMs.toFixed(1)} ms, ${(flops / (batchedMs * 1e6)).toFixed(2)} GFLOP/s`);
      } finally {
        for (const t of created) t.buffer.destroy();
        for (const w of workspaces) w.destroy();
      }
    }
  } finally {
    profiler?.destroy();
  }
  return [...exactRows, ...rows];
}
