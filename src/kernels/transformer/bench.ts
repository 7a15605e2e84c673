/**
 * Transformer kernel benchmark (`muonlab bench transformer`): median timestamp-query time of each
 * kernel group at the ci model's shapes (8 sequences × T = 64, d = 64, H = 4, hidden 256, V = 64).
 * The whole model's tokens/s, GFLOP/s and per-kernel time shares come from training with
 * `--profile` (bench/README.md), not from here.
 */
import { CommandRecorder } from '../../gpu/commands';
import type { Gpu } from '../../gpu/device';
import { median, TimestampProfiler } from '../../gpu/profiler';
import { createTensor, uploadTensor, type Tensor } from '../../gpu/tensor';
import { randomF32 } from '../../cpu/random';
import type { BenchOptions, BenchRow } from '../family';
import * as ops from './ops';
import { LmHeadWorkspace, lmHead } from '../../model/lmHead';

const CI = { rows: 8, T: 64, d: 64, H: 4, hid: 256, V: 64 };

interface BenchShape {
  label: string;
  flops: number;
  build(gpu: Gpu, keep: (t: Tensor) => Tensor): (rec: CommandRecorder) => Promise<void>;
}

const N = CI.rows * CI.T;
const attnFlops = 2 * CI.rows * CI.H * ((CI.T * (CI.T + 1)) / 2) * (CI.d / CI.H) * 2;

export const TRANSFORMER_BENCH_SHAPES: readonly BenchShape[] = [
  {
    label: `attention fwd ${CI.rows}x${CI.T} d=${CI.d} H=${CI.H}`,
    flops: attnFlops,
    build(gpu, keep) {
      const t = (rows: number, cols: number, l: string) => keep(uploadTensor(gpu, { rows, cols, label: l }, randomF32(rows * cols, 3)));
      const [q, k, v, out] = ['q', 'k', 'v', 'out'].map((l) => t(N, CI.d, l));
      const p = t(CI.rows * CI.H * CI.T, CI.T, 'P');
      const rowMax = t(CI.rows * CI.H * CI.T, 1, 'rowMax');
      return (rec) =>
        ops.attentionForward(rec, { replicas: 1, rows: CI.rows, seqLen: CI.T, dModel: CI.d, heads: CI.H }, { q, k, v, p, out, rowMax });
    },
  },
  {
    label: `attention bwd ${CI.rows}x${CI.T} d=${CI.d} H=${CI.H}`,
    flops: 2 * attnFlops,
    build(gpu, keep) {
      const t = (rows: number, cols: number, l: string) => keep(uploadTensor(gpu, { rows, cols, label: l }, randomF32(rows * cols, 4)));
      const [dout, q, k, v, dq, dk, dv] = ['dout', 'q', 'k', 'v', 'dq', 'dk', 'dv'].map((l) => t(N, CI.d, l));
      const [p, ds] = ['P', 'dS'].map((l) => t(CI.rows * CI.H * CI.T, CI.T, l));
      return (rec) =>
        ops.attentionBackward(
          rec,
          { replicas: 1, rows: CI.rows, seqLen: CI.T, dModel: CI.d, heads: CI.H },
          { dout, q, k, v, p, ds, dq, dk, dv },
        );
    },
  },
  {
    label: `rmsnorm fwd+bwd ${N}x${CI.d}`,
    flops: 8 * N * CI.d,
    build(gpu, keep) {
      const t = (cols: number, l: string) => keep(uploadTensor(gpu, { rows: N, cols, label: l }, randomF32(N * cols, 5)));
      const [x, y, dy, dx] = ['x', 'y', 'dy', 'dx'].map((l) => t(CI.d, l));
      const rstd = t(1, 'rstd');
      return async (rec) => {
        await ops.rmsnormForward(rec, { x, y, rstd });
        await ops.rmsnormBackward(rec, { dy, y, rstd, dx });
      };
    },
  },
  {
    label: `relu2 fwd+bwd ${N}x${CI.hid}`,
    flops: 4 * N * CI.hid,
    build(gpu, keep) {
      const t = (l: string) => keep(uploadTensor(gpu, { rows: N, cols: CI.hid, label: l }, randomF32(N * CI.hid, 6)));
      const [pre, out, dact, dpre] = ['pre', 'out', 'dact', 'dpre'].map(t);
      return async (rec) => {
        await ops.activationForward(rec, 'relu2', { pre, out });
        await ops.activationBackward(rec, 'relu2', { dact, pre, dpre });
      };
    },
  },
  {
    label: `embed fwd+bwd ${N} tokens d=${CI.d} V=${CI.V}`,
    flops: 3 * N * CI.d,
    build(gpu, keep) {
      const s = { replicas: 1, tokens: N, seqLen: CI.T, dModel: CI.d, vocab: CI.V, maxSeqLen: CI.T };
      const f = (rows: number, cols: number, l: string) => keep(uploadTensor(gpu, { rows, cols, label: l }, randomF32(rows * cols, 7)));
      const u = (rows: number, l: string) =>
        keep(
          uploadTensor(
            gpu,
            { rows, cols: 1, dtype: 'u32', label: l },
            Uint32Array.from({ length: rows }, (_, i) => (i * 7) % CI.V),
          ),
        );
      const [table, dE] = [f(CI.V, CI.d, 'E'), f(CI.V, CI.d, 'dE')];
      const [pos, dP] = [f(CI.T, CI.d, 'P'), f(CI.T, CI.d, 'dP')];
      const tokens = u(N, 'tokens');
      const out = f(N, CI.d, 'x');
      const csr = { start: u(CI.V, 'start'), count: u(CI.V, 'count'), positions: u(N, 'positions') };
      return async (rec) => {
        await ops.embedForward(rec, s, { table, pos, tokens, out });
        await ops.embedBackward(rec, s, { dx: out, tokens, csr, embedGrad: dE, posGrad: dP });
      };
    },
  },
  {
    label: `lm head loss+grads ${N} tokens d=${CI.d} V=${CI.V}`,
    flops: 8 * N * CI.d * CI.V,
    build(gpu, keep) {
      const ws = new LmHeadWorkspace(gpu, { replicas: 1, tokens: N, dModel: CI.d, vocab: CI.V });
      keep({ ...ws.scratch, buffer: { destroy: () => ws.destroy() } as GPUBuffer });
      const f = (rows: number, cols: number, l: string) => keep(uploadTensor(gpu, { rows, cols, label: l }, randomF32(rows * cols, 8)));
      const h = f(N, CI.d, 'h');
      const W = f(CI.V, CI.d, 'W');
      const dW = f(CI.V, CI.d, 'dW');
      const dh = f(N, CI.d, 'dh');
      const targets = keep(
        uploadTensor(
          gpu,
          { rows: N, cols: 1, dtype: 'u32', label: 'targets' },
          Uint32Array.from({ length: N }, (_, i) => i % CI.V),
        ),
      );
      const weights = keep(uploadTensor(gpu, { rows: N, cols: 1, label: 'weights' }, new Float32Array(N).fill(1 / N)));
      return (rec) => lmHead(rec, ws, { h, W, targets, weights, dh, dW });
    },
  },
];

/**
 * Times each shape: one warm-up (compilation included, `firstRunMs`), then `runs` timed runs; the
 * time of a run is the sum of its passes' timestamp intervals.
 *
 * @example
 * const rows = await benchTransformer(gpu, { runs: 5 });
 */
export async function benchTransformer(gpu: Gpu, options: BenchOptions = {}): Promise<BenchRow[]> {
  const runs = options.runs ?? 10;
  const shapes = TRANSFORMER_BENCH_SHAPES.filter((s) => !options.shapes || options.shapes.some((f) => s.label.includes(f)));
  const profiler = gpu.hasTimestamps ? new TimestampProfiler(gpu) : undefined;
  const rows: BenchRow[] = [];
  try {
    for (const s of shapes) {
      const created: Tensor[] = [];
      try {
        const record = s.build(gpu, (t) => (created.push(t), t));
        const once = async (timed: boolean) => {
          const rec = new CommandRecorder(gpu, timed ? profiler : undefined, `bench ${s.label}`);
          const start = performance.now();
          await record(rec);
          const timings = await rec.submit({ wait: true });
          const wall = performance.now() - start;
          return timed && profiler ? timings.reduce((a, t) => a + t.ns, 0) / 1e6 : wall;
        };
        options.onProgress?.(`transformer ${s.label}: warm-up`);
        const firstRunMs = await once(false);
        const times: number[] = [];
        for (let i = 0; i < runs; i++) times.push(await once(true));
        const medianMs = median(times);
        rows.push({
          kernel: 'transformer',
          variant: 'default',
          shape: s.label,
          runs,
          medianMs,
          minMs: Math.min(...times),
          firstRunMs,
          flops: s.flops,
          gflops: s.flops / (medianMs * 1e6),
          timing: profiler ? 'timestamp-query' : 'wall-clock',
          chosen: true,
        });
      } finally {
        for (const t of created) t.buffer.destroy();
      }
    }
  } finally {
    profiler?.destroy();
  }
  return rows;
}

export { createTensor };
