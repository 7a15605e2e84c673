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
 */
import { CommandRecorder } from '../../gpu/commands';
import type { Gpu } from '../../gpu/device';
import { median, TimestampProfiler } from '../../gpu/profiler';
import { createTensor, uploadTensor, type Tensor } from '../../gpu/tensor';
import { randomF32 } from '../../cpu/random';
import { createGpuTask } from '../../task/taskGpu';
import type { BenchOptions, BenchRow } from '../family';
import { matmul, matmulFlops } from '../matmul/matmul';
import { softmaxGrad, type SoftmaxGradMemory } from './softmaxGrad';

export interface SoftmaxGradBenchShape {
  label: string;
  N: number;
  d: number;
  /** Also time the three-matmul baseline (needs an N×N buffer). */
  baseline: boolean;
  /** Only when asked for explicitly by shape filter. */
  explicitOnly?: boolean;
}

export const SOFTMAX_GRAD_BENCH_SHAPES: readonly SoftmaxGradBenchShape[] = [
  { label: 'N=4096,d=64', N: 4096, d: 64, baseline: true },
  { label: 'N=100000,d=64', N: 100_000, d: 64, baseline: false, explicitOnly: true },
  // The issue's real-GPU figure ([C]'s N at d = 256).
  { label: 'N=100000,d=256', N: 100_000, d: 256, baseline: false, explicitOnly: true },
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
    kernel, variant, shape, runs: samples.length, medianMs,
    minMs: samples.length ? Math.min(...samples) : NaN,
    firstRunMs: t.firstRunMs, flops, gflops: flops / (medianMs * 1e6), timing, chosen: true,
  };
  if (note) r.note = note;
  return r;
}

/**
 * @example
 * const rows = await benchSoftmaxGrad(gpu, { runs: 3 });
 */
export async function benchSoftmaxGrad(gpu: Gpu, options: BenchOptions = {}): Promise<BenchRow[]> {
  const runs = options.runs ?? 3;
  // `--variant chunk=C,block=Q` overrides the blocking (exploration); default: the kernel's own.
  const blockings: { chunkSize?: number; queryBlock?: number }[] = (options.variants ?? ['default']).map((v) => {
    if (v === 'default') return {};
    const m = /^chunk=(\d+)(?:,block=(\d+))?$/.exec(v);
    if (!m) throw new RangeError(`benchSoftmaxGrad: variant "${v}" is not "default" or of the form chunk=C[,block=Q]`);
    return { chunkSize: Number(m[1]), ...(m[2] ? { queryBlock: Number(m[2]) } : {}) };
  });
  const shapes = SOFTMAX_GRAD_BENCH_SHAPES.filter((s) =>
    options.shapes ? options.shapes.some((f) => s.label.includes(f)) : !s.explicitOnly,
  );
  const profiler = gpu.hasTimestamps ? new TimestampProfiler(gpu) : undefined;
  const timing: BenchRow['timing'] = profiler ? 'timestamp-query' : 'wall-clock';
  const rows: BenchRow[] = [];
  try {
    for (const blocking of blockings) for (const s of shapes) {
      const variantName = blocking.chunkSize ? `online-chunked(chunk=${blocking.chunkSize}${blocking.queryBlock ? `,block=${blocking.queryBlock}` : ''})` : 'online-chunked';
      const { N, d } = s;
      const task = await createGpuTask(gpu, { N, dIn: d, dOut: d, embedding: 'gaussian', frequency: { kind: 'power', powerExponent: 1.5 }, taskSeed: 1 });
      const created: Tensor[] = [];
      const keep = <T extends Tensor>(t: T): T => (created.push(t), t);
      try {
        if (task.embeddings.kind !== 'dense') throw new Error('unreachable');
        const emb = task.embeddings;
        const W = keep(uploadTensor(gpu, { rows: d, cols: d, label: 'bench W' }, randomF32(d * d, 5, -0.5, 0.5)));
        const G = keep(createTensor(gpu, { rows: d, cols: d, label: 'bench G' }));
        let memory: SoftmaxGradMemory | undefined;
        // Beyond N = 20,000 a run takes minutes on a CPU adapter: one wall-clock run, no warm-up.
        const count = N > 20_000 ? 0 : runs;
        options.onProgress?.(`softmax-grad ${s.label}: ${count ? `${count} timed run(s) after a warm-up` : 'one wall-clock run'}`);
        const fusedRecord: Record_ = async (rec) => {
          const r = await softmaxGrad(rec, { W, G, embeddings: emb, targets: { kind: 'population', weights: task.weights }, noise: 0, noiseTarget: 'expected', ...blocking });
          memory = r.memory;
          return () => r.destroy();
        };
        const records: Record_[] = [fusedRecord];
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
        const [fused, base] = await timeInterleaved(gpu, count, records, profiler);
        // Forward + gradient FLOPs: H = E·Wᵀ, logits, p·Ẽ, G (the exps not counted).
        const flops = matmulFlops({ M: N, N: d, K: d, batch: 1 }) + 2 * matmulFlops({ M: N, N, K: d, batch: 1 }) + matmulFlops({ M: d, N: d, K: N, batch: 1 });
        const breakdown = Object.entries(fused.perLabel).map(([k, v]) => `${k} ${v.toFixed(1)} ms`).join(', ');
        const memNote = memory
          ? `peak ${(memory.peakBytes / 2 ** 20).toFixed(1)} MiB allocated (N×N f32 logits would be ${((N * N * 4) / 1e9).toFixed(2)} GB)`
          : '';
        let note = [breakdown, memNote].filter(Boolean).join('; ');
        if (base) {
          const baseFlops = 2 * matmulFlops({ M: N, N, K: d, batch: 1 }) + matmulFlops({ M: d, N: d, K: N, batch: 1 });
          const baseRow = row('softmax-grad', 'baseline-3-matmuls', s.label, base, baseFlops, timing,
            Object.entries(base.perLabel).map(([k, v]) => `${k} ${v.toFixed(1)} ms`).join(', '));
          const ratio = median(fused.samplesMs.filter(Number.isFinite)) / baseRow.medianMs;
          const perRound = median(fused.samplesMs.map((f, i) => f / base.samplesMs[i]).filter(Number.isFinite));
          note = `ratio to the 3 plain matmuls ${ratio.toFixed(2)} (medians; median of per-round ratios ${perRound.toFixed(2)}; target ≤ 1.3); ${note}`;
          rows.push(row('softmax-grad', variantName, s.label, fused, flops, timing, note));
          rows.push(baseRow);
        } else {
          rows.push(row('softmax-grad', variantName, s.label, fused, flops, count ? timing : 'wall-clock', note));
        }
        options.onProgress?.(`softmax-grad ${s.label}: ${note}`);
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
