/**
 * The benchmark of the softmax cross-entropy gradient (`muonlab bench softmax-grad`): one population
 * gradient (forward + gradient, gaussian embeddings, R = 1) against the three plain matmuls of the
 * same FLOPs — logits H·Ẽᵀ (N×N×d), softmax·Ẽ (N×N×d) and the gradient Rsdᵀ·E (d×d×N) — run with
 * the registry's chosen matmul variants in the same bench run. The ratio is in the fused row's note,
 * with the time per kernel (from timestamp queries, summed over the passes of one run).
 *
 * Shapes: N = 4096, d = 64 (the issue's target) by default; `N=100000` is a separate shape (minutes
 * on a CPU adapter; it reports its peak allocated bytes next to an N×N logits buffer's 40 GB and is
 * run only when asked for with `--shape N=100000`).
 *
 * Rows: `online-chunked` with the device's matmul choice, and — on the shapes with a baseline, unless
 * `--variant` says otherwise — `online-chunked(matmul=V)` for the GPU-shaped matmul variants V
 * (workgroup-tiled-vec4, subgroup-tiled where the device has subgroups) forced on the chunk loop's
 * logit and update products (softmaxGrad's `matmulVariant`). `--variant` takes `default` or
 * comma-separated `chunk=C`, `block=Q`, `matmul=V` (e.g. `chunk=256,matmul=subgroup-tiled`).
 */
import { CommandRecorder } from '../../gpu/commands';
import type { Gpu } from '../../gpu/device';
import { median, TimestampProfiler } from '../../gpu/profiler';
import { createTensor, uploadTensor, type Tensor } from '../../gpu/tensor';
import { randomF32 } from '../../cpu/random';
import { createGpuTask } from '../../task/taskGpu';
import type { BenchOptions, BenchRow } from '../family';
import {
  matmul,
  matmulFlops,
  matmulVariantAvailable,
  MATMUL_VARIANTS,
  resolveMatmulVariant,
  type MatmulVariantName,
} from '../matmul/matmul';
import { block3Transform, transpose3 } from './structural';
import { softmaxGrad, type SoftmaxGradMemory } from './softmaxGrad';

export interface SoftmaxGradBenchShape {
  label: string;
  N: number;
  d: number;
  /** Also time the three-matmul baseline (needs an N×N buffer). */
  baseline: boolean;
  /** Only when asked for explicitly by shape filter. */
  explicitOnly?: boolean;
  /** The coupled-rotation structural path with this many runs (N = d), instead of dense embeddings. */
  coupledRuns?: number;
}

export const SOFTMAX_GRAD_BENCH_SHAPES: readonly SoftmaxGradBenchShape[] = [
  { label: 'N=4096,d=64', N: 4096, d: 64, baseline: true },
  { label: 'N=100000,d=64', N: 100_000, d: 64, baseline: false, explicitOnly: true },
  // The issue's real-GPU figure ([C]'s N at d = 256).
  { label: 'N=100000,d=256', N: 100_000, d: 256, baseline: false, explicitOnly: true },
  // The coupled-rotation structural path at b-balance-onestep's sizes (ci N = 300, full N = 999;
  // its sweeps batch up to 16 step sizes): block3_transform against the plain matmul.
  { label: 'coupled N=300,R=16', N: 300, d: 300, baseline: false, coupledRuns: 16 },
  { label: 'coupled N=999,R=16', N: 999, d: 999, baseline: false, coupledRuns: 16, explicitOnly: true },
];

interface Timed {
  firstRunMs: number;
  samplesMs: number[];
  /** Median ms per pass label over the timed runs. */
  perLabel: Record<string, number>;
  memory?: SoftmaxGradMemory;
}

type Record_ = (rec: CommandRecorder) => Promise<(() => void) | void>;

/**
 * Times several pieces of work in alternation (one warm-up each, then `runs` rounds of one timed run
 * of each), so a machine whose load drifts (a shared CPU adapter) affects all of them alike.
 */
async function timeInterleaved(gpu: Gpu, runs: number, records: Record_[], profiler: TimestampProfiler | undefined): Promise<Timed[]> {
  const once = async (record: Record_, timed: boolean) => {
    const rec = new CommandRecorder(gpu, timed ? profiler : undefined, 'bench softmax-grad');
    const t0 = performance.now();
    const cleanup = await record(rec);
    const passes = await rec.submit({ wait: true }); // wall-clock timing: wait for the GPU
    const wall = performance.now() - t0;
    cleanup?.();
    return { wall, passes };
  };
  const results: Timed[] = [];
  const labelSamples: Record<string, number[]>[] = [];
  if (runs === 0) {
    // One untimed-by-queries run (wall clock, compilation included): for the minutes-long sizes,
    // whose thousands of passes exceed the profiler's timestamp capacity anyway.
    for (const record of records) {
      const { wall } = await once(record, false);
      results.push({ firstRunMs: wall, samplesMs: [wall], perLabel: {} });
    }
    return results;
  }
  for (const record of records) {
    results.push({ firstRunMs: (await once(record, false)).wall, samplesMs: [], perLabel: {} });
    labelSamples.push({});
  }
  for (let i = 0; i < runs; i++) {
    for (const [w, record] of records.entries()) {
      const { wall, passes } = await once(record, true);
      if (!profiler) {
        results[w].samplesMs.push(wall);
        continue;
      }
      const byLabel: Record<string, number> = {};
      for (const p of passes) byLabel[p.label] = (byLabel[p.label] ?? 0) + p.ns / 1e6;
      for (const [k, v] of Object.entries(byLabel)) (labelSamples[w][k] ??= []).push(v);
      const total = passes.reduce((sum, p) => sum + p.ns, 0) / 1e6;
      results[w].samplesMs.push(total > 0 ? total : NaN);
    }
  }
  results.forEach((r, w) => {
    r.perLabel = Object.fromEntries(Object.entries(labelSamples[w]).map(([k, v]) => [k, median(v)]));
  });
  return results;
}

function row(kernel: string, variant: string, shape: string, t: Timed, flops: number, timing: BenchRow['timing'], note?: string): BenchRow {
  const samples = t.samplesMs.filter(Number.isFinite);
  const medianMs = median(samples);
  const r: BenchRow = {
    kernel,
    variant,
    shape,
    runs: samples.length,
    medianMs,
    minMs: samples.length ? Math.min(...samples) : NaN,
    firstRunMs: t.firstRunMs,
    flops,
    gflops: flops / (medianMs * 1e6),
    timing,
    chosen: true,
  };
  if (note) r.note = note;
  return r;
}

/** The matmul variants a real GPU is expected to pick, benchmarked on the softmax products by default. */
const GPU_SHAPED_VARIANTS: readonly MatmulVariantName[] = ['workgroup-tiled-vec4', 'subgroup-tiled'];

interface BenchVariant {
  chunkSize?: number;
  queryBlock?: number;
  matmulVariant?: MatmulVariantName;
}

/** `default`, or comma-separated `chunk=C`, `block=Q`, `matmul=V`. */
function parseBenchVariant(spec: string): BenchVariant {
  if (spec === 'default') return {};
  const out: BenchVariant = {};
  for (const part of spec.split(',')) {
    const [key, value] = part.split('=');
    if ((key === 'chunk' || key === 'block') && /^[1-9]\d*$/.test(value ?? ''))
      out[key === 'chunk' ? 'chunkSize' : 'queryBlock'] = Number(value);
    else if (key === 'matmul' && MATMUL_VARIANTS.some((v) => v.name === value)) out.matmulVariant = value as MatmulVariantName;
    else {
      throw new RangeError(
        `benchSoftmaxGrad: variant "${spec}": "${part}" is not chunk=C, block=Q or matmul=V (V one of ${MATMUL_VARIANTS.map((v) => v.name).join(', ')}); or use "default"`,
      );
    }
  }
  return out;
}

function benchVariantName(v: BenchVariant): string {
  const parts = [
    v.chunkSize && `chunk=${v.chunkSize}`,
    v.queryBlock && `block=${v.queryBlock}`,
    v.matmulVariant && `matmul=${v.matmulVariant}`,
  ].filter(Boolean);
  return parts.length ? `online-chunked(${parts.join(',')})` : 'online-chunked';
}

/**
 * @example
 * const rows = await benchSoftmaxGrad(gpu, { runs: 3 });
 * await benchSoftmaxGrad(gpu, { variants: ['matmul=subgroup-tiled'], shapes: ['N=4096'] });
 */
export async function benchSoftmaxGrad(gpu: Gpu, options: BenchOptions = {}): Promise<BenchRow[]> {
  const runs = options.runs ?? 3;
  const explicit = options.variants?.map(parseBenchVariant);
  const gpuShaped = GPU_SHAPED_VARIANTS.filter((v) => matmulVariantAvailable(gpu, v)).map((v): BenchVariant => ({ matmulVariant: v }));
  const shapes = SOFTMAX_GRAD_BENCH_SHAPES.filter((s) =>
    options.shapes ? options.shapes.some((f) => s.label.includes(f)) : !s.explicitOnly,
  );
  const profiler = gpu.hasTimestamps ? new TimestampProfiler(gpu) : undefined;
  const timing: BenchRow['timing'] = profiler ? 'timestamp-query' : 'wall-clock';
  const rows: BenchRow[] = [];
  try {
    for (const s of shapes) {
      if (s.coupledRuns) {
        rows.push(...(await benchCoupled(gpu, s, s.coupledRuns, runs, profiler, options.onProgress)));
        continue;
      }
      const blockings = explicit ?? [{}, ...(s.baseline ? gpuShaped : [])];
      const { N, d } = s;
      const task = await createGpuTask(gpu, {
        N,
        dIn: d,
        dOut: d,
        embedding: 'gaussian',
        frequency: { kind: 'power', powerExponent: 1.5 },
        taskSeed: 1,
      });
      const created: Tensor[] = [];
      const keep = <T extends Tensor>(t: T): T => (created.push(t), t);
      try {
        if (task.embeddings.kind !== 'dense') throw new Error('unreachable');
        const emb = task.embeddings;
        const W = keep(uploadTensor(gpu, { rows: d, cols: d, label: 'bench W' }, randomF32(d * d, 5, -0.5, 0.5)));
        const G = keep(createTensor(gpu, { rows: d, cols: d, label: 'bench G' }));
        const memory: (SoftmaxGradMemory | undefined)[] = blockings.map(() => undefined);
        // Beyond N = 20,000 a run takes minutes on a CPU adapter: one wall-clock run, no warm-up.
        const count = N > 20_000 ? 0 : runs;
        options.onProgress?.(
          `softmax-grad ${s.label}: ${blockings.map(benchVariantName).join(', ')}${s.baseline ? ', baseline' : ''}: ` +
            `${count ? `${count} timed round(s) after a warm-up` : 'one wall-clock run each'}`,
        );
        // Every variant and the baseline in one interleaved set: a drift of the machine's load hits all alike.
        const records: Record_[] = blockings.map((blocking, i) => async (rec) => {
          const r = await softmaxGrad(rec, {
            W,
            G,
            embeddings: emb,
            targets: { kind: 'population', weights: task.weights },
            noise: 0,
            noiseTarget: 'expected',
            ...blocking,
          });
          memory[i] = r.memory;
          return () => r.destroy();
        });
        if (s.baseline) {
          const P = keep(createTensor(gpu, { rows: N, cols: N, label: 'bench N×N logits (baseline only)' }));
          const H = keep(uploadTensor(gpu, { rows: N, cols: d, label: 'bench H' }, randomF32(N * d, 6)));
          const O = keep(createTensor(gpu, { rows: N, cols: d, label: 'bench O' }));
          records.push(async (rec) => {
            await matmul(rec, { a: H, b: emb.Et, c: P, transB: true }, { label: 'baseline:logits' });
            await matmul(rec, { a: P, b: emb.Et, c: O }, { label: 'baseline:softmax·Ẽ' });
            await matmul(rec, { a: O, b: emb.E, c: G, transA: true }, { label: 'baseline:gradient' });
          });
        }
        const timed = await timeInterleaved(gpu, count, records, profiler);
        const base = s.baseline ? timed[blockings.length] : undefined;
        // Forward + gradient FLOPs: H = E·Wᵀ, logits, p·Ẽ, G (the exps not counted).
        const flops =
          matmulFlops({ M: N, N: d, K: d, batch: 1 }) +
          2 * matmulFlops({ M: N, N, K: d, batch: 1 }) +
          matmulFlops({ M: d, N: d, K: N, batch: 1 });
        const baseFlops = 2 * matmulFlops({ M: N, N, K: d, batch: 1 }) + matmulFlops({ M: d, N: d, K: N, batch: 1 });
        const baseRow = base
          ? row(
              'softmax-grad',
              'baseline-3-matmuls',
              s.label,
              base,
              baseFlops,
              timing,
              Object.entries(base.perLabel)
                .map(([k, v]) => `${k} ${v.toFixed(1)} ms`)
                .join(', '),
            )
          : undefined;
        for (const [i, blocking] of blockings.entries()) {
          const fused = timed[i];
          const breakdown = Object.entries(fused.perLabel)
            .map(([k, v]) => `${k} ${v.toFixed(1)} ms`)
            .join(', ');
          const m = memory[i];
          const memNote = m
            ? `peak ${(m.peakBytes / 2 ** 20).toFixed(1)} MiB allocated (N×N f32 logits would be ${((N * N * 4) / 1e9).toFixed(2)} GB)`
            : '';
          let note = [breakdown, memNote].filter(Boolean).join('; ');
          if (base && baseRow) {
            const ratio = median(fused.samplesMs.filter(Number.isFinite)) / baseRow.medianMs;
            const perRound = median(fused.samplesMs.map((f, r) => f / base.samplesMs[r]).filter(Number.isFinite));
            note = `ratio to the 3 plain matmuls ${ratio.toFixed(2)} (medians; median of per-round ratios ${perRound.toFixed(2)}; target ≤ 1.3); ${note}`;
          }
          const r = row('softmax-grad', benchVariantName(blocking), s.label, fused, flops, count ? timing : 'wall-clock', note);
          // `chosen`: the row whose products ran with the device's own choice.
          r.chosen = blocking.matmulVariant === undefined;
          rows.push(r);
          options.onProgress?.(`softmax-grad ${s.label} ${benchVariantName(blocking)}: ${note}`);
        }
        if (baseRow) rows.push(baseRow);
      } finally {
        for (const t of created) t.buffer.destroy();
        task.destroy();
      }
    }
  } finally {
    profiler?.destroy();
  }
  return rows;
}

/**
 * The coupled-rotation structural path: one block3_transform pass (R runs of N×N), the whole
 * structural softmaxGrad call (two rotations around identity_softmax_grad) and the plain batched
 * matmul R × N³ with the device's choice, in interleaved rounds. block3_transform's GFLOP/s follow the
 * family's cost model (12 FLOPs per entry: two 3×3 products per 3×3 block), the matmul's 2·N³ per
 * run; the block3 row's note gives the ratio of the two rates (the issue's floor: 50%).
 */
async function benchCoupled(
  gpu: Gpu,
  s: SoftmaxGradBenchShape,
  R: number,
  runs: number,
  profiler: TimestampProfiler | undefined,
  onProgress?: (message: string) => void,
): Promise<BenchRow[]> {
  const { N } = s;
  const timing: BenchRow['timing'] = profiler ? 'timestamp-query' : 'wall-clock';
  const task = await createGpuTask(gpu, {
    N,
    dIn: N,
    dOut: N,
    embedding: 'coupled-rotation',
    frequency: { kind: 'two-class', headCount: Math.round(N / 5), headMass: 0.8 },
    taskSeed: 1,
  });
  const created: Tensor[] = [];
  const keep = <T extends Tensor>(t: T): T => (created.push(t), t);
  try {
    const emb = task.embeddings;
    if (emb.kind !== 'coupled-rotation') throw new Error('unreachable');
    const W = keep(uploadTensor(gpu, { batch: R, rows: N, cols: N, label: 'bench W (coupled)' }, randomF32(R * N * N, 5, -0.5, 0.5)));
    const G = keep(createTensor(gpu, { batch: R, rows: N, cols: N, label: 'bench G (coupled)' }));
    const M = keep(createTensor(gpu, { batch: R, rows: N, cols: N, label: 'bench rotated logits' }));
    const B = keep(uploadTensor(gpu, { batch: R, rows: N, cols: N, label: 'bench matmul B' }, randomF32(R * N * N, 6)));
    const C = keep(createTensor(gpu, { batch: R, rows: N, cols: N, label: 'bench matmul C' }));
    const variant = resolveMatmulVariant(gpu, { a: W, b: B, c: C });
    // The same rotation as two plain matmuls on views, no copies: T = (I ⊗ L)·X as R·N/3 products
    // L (3×3, shared) · X[3p..3p+2, :] (3×N), then Y = T·(I ⊗ Q)ᵀ with T's rows cut into triples
    // (R products of (N²/3)×3 · Qᵀ). The FLOPs are block3's (6 + 6 per entry), with K = 3.
    const L = keep(uploadTensor(gpu, { rows: 3, cols: 3, label: 'bench L' }, Float32Array.from(transpose3(emb.blockOut))));
    const Qm = keep(uploadTensor(gpu, { rows: 3, cols: 3, label: 'bench Q' }, Float32Array.from(transpose3(emb.blockIn))));
    const T = keep(createTensor(gpu, { batch: R, rows: N, cols: N, label: 'bench T = (I⊗L)·X' }));
    const rowTriples = (t: Tensor): Tensor => ({ ...t, batch: R * (N / 3), rows: 3, cols: N, batchStride: 3 * N });
    const entryTriples = (t: Tensor): Tensor => ({ ...t, rows: (N * N) / 3, cols: 3 });
    const asMatmuls = async (rec: CommandRecorder) => {
      await matmul(rec, { a: L, b: rowTriples(W), c: rowTriples(T) }, { label: 'rotation as matmul: (I⊗L)·X' });
      await matmul(rec, { a: entryTriples(T), b: Qm, c: entryTriples(M), transB: true }, { label: 'rotation as matmul: ·(I⊗Q)ᵀ' });
    };
    onProgress?.(
      `softmax-grad ${s.label}: block3_transform, as two matmuls, the structural call, matmul ${R} x ${N}³ (${variant}), interleaved`,
    );
    const [block3, viaMatmul, call, mm] = await timeInterleaved(
      gpu,
      runs,
      [
        (rec) =>
          block3Transform(rec, {
            src: W,
            dst: M,
            left: transpose3(emb.blockOut),
            right: transpose3(emb.blockIn),
            label: 'block3_transform:logits',
          }),
        asMatmuls,
        async (rec) => {
          const r = await softmaxGrad(rec, {
            W,
            G,
            embeddings: emb,
            targets: { kind: 'population', weights: task.weights },
            noise: 0,
            noiseTarget: 'expected',
          });
          return () => r.destroy();
        },
        (rec) => matmul(rec, { a: W, b: B, c: C }, { label: 'matmul' }).then(() => undefined),
      ],
      profiler,
    );
    const block3Flops = 12 * N * N * R;
    const mmFlops = matmulFlops({ M: N, N, K: N, batch: R });
    const rate = (t: Timed, f: number) => f / (median(t.samplesMs.filter(Number.isFinite)) * 1e6);
    const ratio = rate(block3, block3Flops) / rate(mm, mmFlops);
    const perRound = median(block3.samplesMs.map((b, i) => block3Flops / b / (mmFlops / mm.samplesMs[i])).filter(Number.isFinite));
    const callFlops = 2 * block3Flops + 5 * N * N * R;
    const breakdown = Object.entries(call.perLabel)
      .map(([k, v]) => `${k} ${v.toFixed(1)} ms`)
      .join(', ');
    onProgress?.(`softmax-grad ${s.label}: block3_transform at ${(100 * ratio).toFixed(0)}% of the matmul's GFLOP/s`);
    return [
      row(
        'softmax-grad',
        'block3_transform',
        s.label,
        block3,
        block3Flops,
        timing,
        `${(100 * ratio).toFixed(0)}% of the plain matmul's GFLOP/s (${R} x ${N}³, ${variant}, same rounds; median of per-round ratios ${(100 * perRound).toFixed(0)}%; floor 50%); cost model 12 FLOPs per entry`,
      ),
      {
        ...row(
          'softmax-grad',
          'rotation as 2 plain matmuls',
          s.label,
          viaMatmul,
          block3Flops,
          timing,
          `the same rotation by matmul() on views (K = 3; the device's choice per shape): ${Object.entries(viaMatmul.perLabel)
            .map(([k, v]) => `${k} ${v.toFixed(1)} ms`)
            .join(', ')}; ` + `${(median(viaMatmul.samplesMs) / median(block3.samplesMs)).toFixed(1)}× block3_transform's time`,
        ),
        chosen: false,
      },
      row(
        'softmax-grad',
        'coupled-rotation structural',
        s.label,
        call,
        callFlops,
        timing,
        `two block3_transform passes + identity_softmax_grad (cost models: 12 + 12 + 5 FLOPs per entry): ${breakdown}`,
      ),
      {
        ...row(
          'softmax-grad',
          `matmul ${variant}`,
          s.label,
          mm,
          mmFlops,
          timing,
          `the plain batched product ${R} x ${N}x${N}x${N}, the device's choice`,
        ),
        chosen: false,
      },
    ];
  } finally {
    for (const t of created) t.buffer.destroy();
    task.destroy();
  }
}
