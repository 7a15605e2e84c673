/**
 * The validate step of the transformer kernels (`muonlab check transformer`, and
 * test/transformerKernels.browser.test.ts): every kernel on odd shapes (T = 1, 7, 65; d not a
 * multiple of 4; H = 1 and H = d; several replicas with views at offsets), on the GPU and through its
 * Float64 twin (src/cpu/transformer.ts) from the same f32 inputs.
 *
 * Tolerance (per element, u = 2⁻²⁴): allowed_i = C·u·A_i, where A_i is the element's magnitude
 * (the same formula evaluated on absolute values: Σ|terms| for a sum, |out| for a pointwise map) and
 * C the length of the longest chain of f32 roundings behind it — K + 2 for a K-term sum (γ_K), one
 * per arithmetic step of a pointwise formula, and WGSL's stated accuracies for transcendentals: exp
 * 3 + 2|x| ULP, inverseSqrt 2 ULP, tanh and the sigmoid inherited from exp (≤ 64 u over the tested
 * range |x| ≤ 4). Softmax probabilities carry the scores' error through exp: a score error
 * δ = scale·(dh + 2)·u·Σ|q||k| becomes a relative error e^δ − 1 ≈ δ in p, so C grows by δ/u for
 * attention. The constants are stated per kernel below.
 */
import { runCommands, type CommandRecorder } from '../../gpu/commands';
import type { Gpu } from '../../gpu/device';
import { createTensor, readTensor, uploadTensor, type Tensor } from '../../gpu/tensor';
import { compareToReference, F32_UNIT_ROUNDOFF as u } from '../../cpu/compare';
import { randomF32, seededUniform } from '../../cpu/random';
import * as cpu from '../../cpu/transformer';
import { finiteOrNull } from '../../experiments/results';
import type { CheckRow } from '../family';
import * as ops from './ops';
import { LmHeadWorkspace, lmHead } from '../../model/lmHead';

export interface TransformerCase {
  kernel: 'embed' | 'rmsnorm' | 'residual' | 'relu2' | 'gelu' | 'swiglu' | 'attention' | 'lm-head' | 'grad-clip';
  R: number;
  rows: number;
  T: number;
  d: number;
  H?: number;
  V?: number;
}

export function transformerCaseId(c: TransformerCase): string {
  return `${c.kernel} R=${c.R},rows=${c.rows},T=${c.T},d=${c.d}${c.H ? `,H=${c.H}` : ''}${c.V ? `,V=${c.V}` : ''}`;
}

/** The suite; `quick` keeps one odd case per kernel. */
export function transformerCases(scope: 'full' | 'quick' = 'full'): TransformerCase[] {
  const quick: TransformerCase[] = [
    { kernel: 'embed', R: 2, rows: 2, T: 7, d: 6, V: 11 },
    { kernel: 'rmsnorm', R: 2, rows: 1, T: 7, d: 6 },
    { kernel: 'residual', R: 2, rows: 1, T: 7, d: 5 },
    { kernel: 'relu2', R: 2, rows: 1, T: 7, d: 10 },
    { kernel: 'gelu', R: 1, rows: 2, T: 7, d: 6 },
    { kernel: 'swiglu', R: 2, rows: 1, T: 7, d: 10 },
    { kernel: 'attention', R: 2, rows: 2, T: 7, d: 6, H: 6 },
    { kernel: 'lm-head', R: 2, rows: 1, T: 7, d: 6, V: 11 },
    { kernel: 'grad-clip', R: 3, rows: 1, T: 1, d: 5 },
  ];
  if (scope === 'quick') return quick;
  return [
    ...quick,
    { kernel: 'embed', R: 1, rows: 1, T: 1, d: 5, V: 2 },
    { kernel: 'embed', R: 1, rows: 2, T: 65, d: 10, V: 13 },
    { kernel: 'rmsnorm', R: 1, rows: 1, T: 65, d: 1 },
    { kernel: 'rmsnorm', R: 1, rows: 1, T: 1, d: 65 },
    { kernel: 'gelu', R: 1, rows: 1, T: 65, d: 7 },
    { kernel: 'attention', R: 1, rows: 1, T: 1, d: 6, H: 1 },
    { kernel: 'attention', R: 1, rows: 2, T: 65, d: 10, H: 2 },
    { kernel: 'attention', R: 1, rows: 1, T: 7, d: 5, H: 5 },
    { kernel: 'attention', R: 2, rows: 1, T: 7, d: 6, H: 1 },
    { kernel: 'lm-head', R: 1, rows: 1, T: 1, d: 5, V: 2 },
    { kernel: 'lm-head', R: 1, rows: 2, T: 65, d: 10, V: 300 },
  ];
}

/** One compared output: GPU values, twin values and the per-element allowed error. */
interface Output {
  name: string;
  got: ArrayLike<number>;
  want: ArrayLike<number>;
  allowed: ArrayLike<number>;
}

type Upload = (data: ArrayLike<number>, batch: number, rows: number, cols: number, label: string, dtype?: 'f32' | 'u32') => Tensor;

async function withTensors(
  gpu: Gpu,
  fn: (up: Upload, empty: (batch: number, rows: number, cols: number, label: string, dtype?: 'f32' | 'u32') => Tensor) => Promise<Output[]>,
): Promise<Output[]> {
  const made: Tensor[] = [];
  const up: Upload = (data, batch, rows, cols, label, dtype = 'f32') => {
    const t = uploadTensor(gpu, { batch, rows, cols, label: `check ${label}`, dtype }, Array.from(data));
    made.push(t);
    return t;
  };
  const empty = (batch: number, rows: number, cols: number, label: string, dtype: 'f32' | 'u32' = 'f32') => {
    // Pre-filled with garbage so an element the kernel fails to write cannot match by accident.
    const t = uploadTensor(
      gpu,
      { batch, rows, cols, label: `check ${label}`, dtype },
      dtype === 'f32' ? randomF32(batch * rows * cols, 99, 50, 60) : new Uint32Array(batch * rows * cols).fill(7),
    );
    made.push(t);
    return t;
  };
  try {
    return await fn(up, empty);
  } finally {
    for (const t of made) t.buffer.destroy();
  }
}

const f64 = (x: ArrayLike<number>) => Float64Array.from(x);
const read = async (gpu: Gpu, t: Tensor) => f64(await readTensor(gpu, t));
const run = (gpu: Gpu, record: (rec: CommandRecorder) => Promise<void>) => runCommands(gpu, record);
/** Per replica slices of a flat array. */
const slice = (x: ArrayLike<number>, r: number, per: number) => Array.prototype.slice.call(x, r * per, (r + 1) * per) as number[];
const absOf = (x: ArrayLike<number>) => Float64Array.from(x, Math.abs);

/** A parameter stored at an offset inside a larger slot, replicas strided (as the model's slots). */
function slotView(up: Upload, data: Float32Array, R: number, rows: number, cols: number, label: string): Tensor {
  const pad = 3;
  const stride = rows * cols + 5;
  const host = new Float32Array(pad + R * stride);
  for (let r = 0; r < R; r++) host.set(data.subarray(r * rows * cols, (r + 1) * rows * cols), pad + r * stride);
  const t = up(host, 1, 1, host.length, label);
  return { ...t, batch: R, rows, cols, offset: pad, batchStride: R > 1 ? stride : 0 };
}

async function readView(gpu: Gpu, t: Tensor): Promise<Float64Array> {
  const all = await readTensor(gpu, { ...t, batch: 1, rows: 1, cols: t.buffer.size / 4, offset: 0, batchStride: 0 });
  const out = new Float64Array(t.batch * t.rows * t.cols);
  for (let r = 0; r < t.batch; r++)
    for (let i = 0; i < t.rows * t.cols; i++) out[r * t.rows * t.cols + i] = all[t.offset + r * t.batchStride + i];
  return out;
}

/** Runs one case; returns its compared outputs. */
export async function runTransformerCase(gpu: Gpu, c: TransformerCase, seed = 1): Promise<Output[]> {
  const { R, rows, T, d } = c;
  const N = rows * T;
  return withTensors(gpu, async (up, empty) => {
    const x = randomF32(R * N * d, seed, -2, 2);
    switch (c.kernel) {
      case 'embed': {
        const V = c.V!;
        const Tmax = T + 2;
        const E = randomF32(R * V * d, seed + 1, -1, 1);
        const P = randomF32(R * Tmax * d, seed + 2, -1, 1);
        const next = seededUniform(seed + 3);
        const tokens = Uint32Array.from({ length: R * N }, () => Math.floor(next() * V));
        const s = { replicas: R, tokens: N, seqLen: T, dModel: d, vocab: V, maxSeqLen: Tmax };
        const table = slotView(up, E, R, V, d, 'E');
        const pos = slotView(up, P, R, Tmax, d, 'P');
        const tok = up(tokens, R, N, 1, 'tokens', 'u32');
        const out = empty(R, N, d, 'x');
        const dEv = slotView(up, randomF32(R * V * d, 5, 50, 60), R, V, d, 'dE');
        const dPv = slotView(up, randomF32(R * Tmax * d, 6, 50, 60), R, Tmax, d, 'dP');
        const csr = {
          start: empty(R, V, 1, 'csr start', 'u32'),
          count: empty(R, V, 1, 'csr count', 'u32'),
          positions: empty(R, N, 1, 'csr positions', 'u32'),
        };
        await run(gpu, async (rec) => {
          await ops.embedForward(rec, s, { table, pos, tokens: tok, out });
          await ops.embedBackward(rec, s, { dx: up(x, R, N, d, 'dx'), tokens: tok, csr, embedGrad: dEv, posGrad: dPv });
        });
        const want: number[] = [];
        const wantDE: number[] = [];
        const allowDE: number[] = [];
        const wantDP: number[] = [];
        const allowDP: number[] = [];
        for (let r = 0; r < R; r++) {
          const tk = slice(tokens, r, N);
          want.push(...cpu.embedForwardCpu(slice(E, r, V * d), slice(P, r, Tmax * d), tk, { vocab: V, dModel: d, rows, seqLen: T }));
          const dxr = slice(x, r, N * d);
          wantDE.push(...cpu.embedBackwardCpu(dxr, tk, { vocab: V, dModel: d }));
          // A sum of k terms: γ_k ≤ (k + 2)u times Σ|terms| (k ≤ N tokens).
          allowDE.push(...Array.from(cpu.embedBackwardCpu(absOf(dxr), tk, { vocab: V, dModel: d }), (a) => (N + 2) * u * a));
          const sp = { dModel: d, rows, seqLen: T, maxSeqLen: Tmax };
          wantDP.push(...cpu.posBackwardCpu(dxr, sp));
          allowDP.push(...Array.from(cpu.posBackwardCpu(absOf(dxr), sp), (a) => (rows + 2) * u * a));
        }
        return [
          // One f32 addition: ≤ u·|E + P| — the GPU result must be the correctly rounded sum.
          { name: 'x', got: await read(gpu, out), want, allowed: want.map((w) => u * Math.abs(w)) },
          { name: 'dE', got: await readView(gpu, dEv), want: wantDE, allowed: allowDE },
          { name: 'dP', got: await readView(gpu, dPv), want: wantDP, allowed: allowDP },
        ];
      }
      case 'rmsnorm': {
        const X = up(x, R, N, d, 'x');
        const Y = empty(R, N, d, 'y');
        const rstd = empty(R, N, 1, 'rstd');
        const dyData = randomF32(R * N * d, seed + 4, -1, 1);
        const dx = empty(R, N, d, 'dx');
        await run(gpu, (rec) => ops.rmsnormForward(rec, { x: X, y: Y, rstd }));
        const gotY = await read(gpu, Y);
        const gotR = await read(gpu, rstd);
        // The backward pass from the GPU's own y and r (what training feeds it).
        await run(gpu, (rec) => ops.rmsnormBackward(rec, { dy: up(dyData, R, N, d, 'dy'), y: Y, rstd, dx }));
        const ref = cpu.rmsnormForwardCpu(x, R * N, d);
        const refDx = cpu.rmsnormBackwardCpu(dyData, gotY, gotR, R * N, d);
        // Forward: Σx² (d terms, γ_d) halves through the square root, + inverseSqrt 2 ULP, + ÷d, +ε, ×x: C = d + 8.
        // Backward: the d-term dot product (γ_d) times |y|, plus 4 pointwise steps: C = d + 8 on r·(|dy| + |y|·Σ|dy·y|/d).
        const allowDx = new Float64Array(R * N * d);
        for (let n = 0; n < R * N; n++) {
          let s = 0;
          for (let k = 0; k < d; k++) s += Math.abs(dyData[n * d + k] * gotY[n * d + k]);
          for (let k = 0; k < d; k++)
            allowDx[n * d + k] = (d + 8) * u * gotR[n] * (Math.abs(dyData[n * d + k]) + (Math.abs(gotY[n * d + k]) * s) / d);
        }
        return [
          { name: 'y', got: gotY, want: ref.y, allowed: Array.from(ref.y, (y) => (d + 8) * u * Math.abs(y)) },
          { name: 'rstd', got: gotR, want: ref.rstd, allowed: Array.from(ref.rstd, (r) => (d + 8) * u * r) },
          { name: 'dx', got: await read(gpu, dx), want: refDx, allowed: allowDx },
        ];
      }
      case 'residual': {
        const y = randomF32(R * N * d, seed + 5, -3, 3);
        const X = up(x, R, N, d, 'x');
        await run(gpu, (rec) => ops.residualAdd(rec, { x: X, y: up(y, R, N, d, 'y'), alpha: 0.75 }));
        const want = cpu.residualAddCpu(f64(x), y, 0.75);
        // α·y and one addition: 2u·(|x| + |α·y|).
        return [
          { name: 'x', got: await read(gpu, X), want, allowed: Array.from(x, (xi, i) => 2 * u * (Math.abs(xi) + Math.abs(0.75 * y[i]))) },
        ];
      }
      case 'relu2':
      case 'gelu': {
        const kind = c.kernel;
        const hid = d;
        const pre = up(x, R, N, hid, 'pre');
        const out = empty(R, N, hid, 'act');
        const da = randomF32(R * N * hid, seed + 6, -1, 1);
        const dpre = empty(R, N, hid, 'dpre');
        await run(gpu, async (rec) => {
          await ops.activationForward(rec, kind, { pre, out });
          await ops.activationBackward(rec, kind, { dact: up(da, R, N, hid, 'dact'), pre, dpre });
        });
        const want = cpu.activationForwardCpu(kind, x);
        const wantD = cpu.activationBackwardCpu(kind, da, x);
        // ReLU²: one or two exact-size steps (C = 2 on |out|). GELU: 64 u for tanh over |x| ≤ 2
        // (inherited from exp), propagated through ½x(1 + t) and the derivative's (1 + 3ax²) factor,
        // bounded by 64u·(1 + |x|)³ (× |dact| for the derivative).
        const allowF = Array.from(x, (xi, i) => (kind === 'relu2' ? 2 * u * Math.abs(want[i]) : 64 * u * (1 + Math.abs(xi)) ** 3));
        const allowB = Array.from(x, (xi, i) =>
          kind === 'relu2' ? 3 * u * Math.abs(wantD[i]) : 64 * u * (1 + Math.abs(xi)) ** 3 * Math.abs(da[i]),
        );
        return [
          { name: 'act', got: await read(gpu, out), want, allowed: allowF },
          { name: 'dpre', got: await read(gpu, dpre), want: wantD, allowed: allowB },
        ];
      }
      case 'swiglu': {
        const g = randomF32(R * N * d, seed + 7, -4, 4);
        const da = randomF32(R * N * d, seed + 8, -1, 1);
        const G = up(g, R, N, d, 'gate');
        const U = up(x, R, N, d, 'up');
        const out = empty(R, N, d, 'out');
        const dg = empty(R, N, d, 'dgate');
        const du = empty(R, N, d, 'dup');
        await run(gpu, async (rec) => {
          await ops.swigluForward(rec, { gate: G, up: U, out });
          await ops.swigluBackward(rec, { da: up(da, R, N, d, 'da'), gate: G, up: U, dgate: dg, dup: du });
        });
        const want = cpu.swigluForwardCpu(g, x);
        const back = cpu.swigluBackwardCpu(da, g, x);
        // σ through exp (3 + 2|g| ≤ 11 ULP at |g| ≤ 4) and 1/(1 + e): ≤ 16u relative; 2–5 more steps on top.
        const mag = (i: number) => (1 + Math.abs(g[i])) * Math.abs(x[i]) * Math.abs(da[i]);
        return [
          { name: 'out', got: await read(gpu, out), want, allowed: Array.from(want, (w) => 24 * u * Math.abs(w)) },
          { name: 'dgate', got: await read(gpu, dg), want: back.dgate, allowed: Array.from(g, (_, i) => 48 * u * mag(i)) },
          { name: 'dup', got: await read(gpu, du), want: back.dup, allowed: Array.from(back.dup, (w) => 24 * u * Math.abs(w)) },
        ];
      }
      case 'attention':
        return runAttentionCase(gpu, c, up, empty, seed);
      case 'lm-head':
        return runLmHeadCase(gpu, c, up, empty, seed);
      case 'grad-clip':
        return runClipCase(gpu, c, up, empty, seed);
    }
  });
}

async function runAttentionCase(
  gpu: Gpu,
  c: TransformerCase,
  up: Upload,
  empty: (b: number, r: number, c: number, l: string) => Tensor,
  seed: number,
): Promise<Output[]> {
  const { R, rows, T, d } = c;
  const H = c.H!;
  const N = rows * T;
  const dh = d / H;
  const q = randomF32(R * N * d, seed + 10, -1.5, 1.5);
  const k = randomF32(R * N * d, seed + 11, -1.5, 1.5);
  const v = randomF32(R * N * d, seed + 12, -1, 1);
  const dout = randomF32(R * N * d, seed + 13, -1, 1);
  const s = { replicas: R, rows, seqLen: T, dModel: d, heads: H };
  const Q = up(q, R, N, d, 'q');
  const K = up(k, R, N, d, 'k');
  const Vt = up(v, R, N, d, 'v');
  const P = empty(R, rows * H * T, T, 'P');
  const out = empty(R, N, d, 'out');
  const rowMax = empty(R, rows * H * T, 1, 'rowMax');
  const ds = empty(R, rows * H * T, T, 'dS');
  const dq = empty(R, N, d, 'dq');
  const dk = empty(R, N, d, 'dk');
  const dv = empty(R, N, d, 'dv');
  await run(gpu, async (rec) => {
    await ops.attentionForward(rec, s, { q: Q, k: K, v: Vt, p: P, out, rowMax });
    await ops.attentionBackward(rec, s, { dout: up(dout, R, N, d, 'dout'), q: Q, k: K, v: Vt, p: P, ds, dq, dk, dv });
  });
  const shape = { rows, seqLen: T, dModel: d, heads: H };
  const want = {
    out: [] as number[],
    rowMax: [] as number[],
    P: [] as number[],
    dq: [] as number[],
    dk: [] as number[],
    dv: [] as number[],
  };
  const mag = { out: [] as number[], dq: [] as number[], dk: [] as number[], dv: [] as number[] };
  // Scores: |Δs| ≤ δ = scale·(dh + 2)·u·Σ_c|q||k| ≤ scale·(dh + 2)·dh·1.5²·u. p = e^{s−m}/Σ: exp at
  // |s − m| ≤ 2·max|s| (3 + 2|x| ULP), the T-term sum and the division: relative error
  // C_p·u with C_p = 2δ/u + 3 + 4·max|s| + T + 4.
  const scale = 1 / Math.sqrt(dh);
  const maxS = scale * dh * 1.5 * 1.5;
  const deltaS = scale * (dh + 2) * dh * 2.25;
  const Cp = 2 * deltaS + 3 + 4 * maxS + T + 4;
  for (let r = 0; r < R; r++) {
    const [qr, kr, vr, dor] = [q, k, v, dout].map((a) => slice(a, r, N * d));
    const f = cpu.attentionForwardCpu(qr, kr, vr, shape);
    const b = cpu.attentionBackwardCpu(dor, qr, kr, vr, f.P, shape);
    want.out.push(...f.out);
    want.rowMax.push(...f.rowMax);
    want.P.push(...f.P);
    want.dq.push(...b.dq);
    want.dk.push(...b.dk);
    want.dv.push(...b.dv);
    const m = attentionMagnitudes(dor, qr, kr, vr, f.P, shape);
    mag.out.push(...m.out);
    mag.dq.push(...m.dq);
    mag.dk.push(...m.dk);
    mag.dv.push(...m.dv);
  }
  // dS = P·scale·(dP − D): dP a dh-term dot (dh + 2), D a T-term sum of P·dP (T + 2 + C_p), P itself
  // (C_p): C_ds = 2·C_p + dh + T + 8 relative to scale·P·(A_j + B) (see attentionMagnitudes). The
  // sums of dq, dk over j or i add T + 2; out and dv are T-term sums of p·v or p·dout (C_p + T + 2).
  const Cds = 2 * Cp + dh + T + 8;
  return [
    { name: 'P', got: await read(gpu, P), want: want.P, allowed: want.P.map((p) => Cp * u * p) },
    { name: 'rowMax', got: await read(gpu, rowMax), want: want.rowMax, allowed: want.rowMax.map(() => deltaS * u + u * maxS) },
    { name: 'out', got: await read(gpu, out), want: want.out, allowed: mag.out.map((m) => (Cp + T + 2) * u * m) },
    { name: 'dq', got: await read(gpu, dq), want: want.dq, allowed: mag.dq.map((m) => (Cds + T + 2) * u * m) },
    { name: 'dk', got: await read(gpu, dk), want: want.dk, allowed: mag.dk.map((m) => (Cds + T + 2) * u * m) },
    { name: 'dv', got: await read(gpu, dv), want: want.dv, allowed: mag.dv.map((m) => (Cp + T + 2) * u * m) },
  ];
}

/**
 * The magnitudes the attention tolerances scale with, per element: out Σ_j p|v|; dv Σ_i p|dout|;
 * dq scale·Σ_j p_ij(A_ij + B_i)|k_j|, dk scale·Σ_i p_ij(A_ij + B_i)|q_i| with A_ij = Σ_c|dout_ic||v_jc|
 * (the bound on |dP_ij|) and B_i = Σ_j p_ij A_ij (on |D_i|).
 */
function attentionMagnitudes(
  dout: number[],
  q: number[],
  k: number[],
  v: number[],
  P: Float64Array,
  s: { rows: number; seqLen: number; dModel: number; heads: number },
) {
  const { rows, seqLen: T, dModel: d, heads: H } = s;
  const dh = d / H;
  const scale = 1 / Math.sqrt(dh);
  const out = new Float64Array(rows * T * d);
  const dq = new Float64Array(rows * T * d);
  const dk = new Float64Array(rows * T * d);
  const dv = new Float64Array(rows * T * d);
  const A = new Float64Array(T);
  for (let b = 0; b < rows; b++)
    for (let h = 0; h < H; h++)
      for (let i = 0; i < T; i++) {
        const at = (n: number, c: number) => (b * T + n) * d + h * dh + c;
        const pr = ((b * H + h) * T + i) * T;
        let B = 0;
        for (let j = 0; j <= i; j++) {
          A[j] = 0;
          for (let c = 0; c < dh; c++) A[j] += Math.abs(dout[at(i, c)] * v[at(j, c)]);
          B += P[pr + j] * A[j];
        }
        for (let j = 0; j <= i; j++) {
          const w = scale * P[pr + j] * (A[j] + B);
          for (let c = 0; c < dh; c++) {
            out[at(i, c)] += P[pr + j] * Math.abs(v[at(j, c)]);
            dv[at(j, c)] += P[pr + j] * Math.abs(dout[at(i, c)]);
            dq[at(i, c)] += w * Math.abs(k[at(j, c)]);
            dk[at(j, c)] += w * Math.abs(q[at(i, c)]);
          }
        }
      }
  return { out, dq, dk, dv };
}

async function runLmHeadCase(
  gpu: Gpu,
  c: TransformerCase,
  up: Upload,
  empty: (b: number, r: number, c: number, l: string, dt?: 'f32' | 'u32') => Tensor,
  seed: number,
): Promise<Output[]> {
  const { R, rows, T, d } = c;
  const V = c.V!;
  const N = rows * T;
  const h = randomF32(R * N * d, seed + 20, -1, 1);
  const W = randomF32(R * V * d, seed + 21, -1, 1);
  const next = seededUniform(seed + 22);
  const targets = Uint32Array.from({ length: R * N }, () => Math.floor(next() * V));
  const mask = Float64Array.from({ length: N }, (_, n) => (n % 3 === 1 ? 0 : 1));
  const w = cpu.residualAddCpu(
    new Float64Array(N),
    mask.map((m) => m / mask.reduce((a, b) => a + b, 0)),
  );
  const weights = Float32Array.from({ length: R * N }, (_, i) => w[i % N]);
  const ws = new LmHeadWorkspace(gpu, { replicas: R, tokens: N, dModel: d, vocab: V, chunk: 128 });
  try {
    const Wv = slotView(up, W, R, V, d, 'W_head');
    const dWv = slotView(up, randomF32(R * V * d, 7, 50, 60), R, V, d, 'dW_head');
    const dh = empty(R, N, d, 'dh');
    await run(gpu, (rec) =>
      lmHead(rec, ws, {
        h: up(h, R, N, d, 'h'),
        W: Wv,
        targets: up(targets, R, N, 1, 'targets', 'u32'),
        weights: up(weights, R, N, 1, 'weights'),
        dh,
        dW: dWv,
      }),
    );
    const outputs = await read(gpu, ws.outputs);
    const want = { nll: [] as number[], dh: [] as number[], dW: [] as number[], magDh: [] as number[], magDW: [] as number[] };
    for (let r = 0; r < R; r++) {
      const wr = Array.from(weights.subarray(r * N, (r + 1) * N));
      const [hr, Wr, yr] = [slice(h, r, N * d), slice(W, r, V * d), slice(targets, r, N)];
      const res = cpu.lmHeadCpu(hr, Wr, yr, wr, { tokens: N, dModel: d, vocab: V });
      want.nll.push(...res.nll);
      want.dh.push(...res.dh);
      want.dW.push(...res.dW);
      // Magnitudes: dh_nc ≤ w_n(Σ_j p_nj|W_jc| + |W_yc|), dW_jc ≤ Σ_n w_n(p_nj + [j = y_n])|h_nc|.
      const magDh = new Float64Array(N * d);
      const magDW = new Float64Array(V * d);
      for (let n = 0; n < N; n++) {
        for (let j = 0; j < V; j++) {
          let z = 0;
          for (let c2 = 0; c2 < d; c2++) z += hr[n * d + c2] * Wr[j * d + c2];
          const p = Math.exp(z - res.lse[n]) + (j === yr[n] ? 1 : 0);
          for (let c2 = 0; c2 < d; c2++) {
            magDh[n * d + c2] += wr[n] * p * Math.abs(Wr[j * d + c2]);
            magDW[j * d + c2] += wr[n] * p * Math.abs(hr[n * d + c2]);
          }
        }
      }
      want.magDh.push(...magDh);
      want.magDW.push(...magDW);
    }
    const nllGot = Array.from({ length: R * N }, (_, i) => outputs[i * 5 + 1]);
    // Logits: |Δz| ≤ (d + 2)u·Σ|h||W| ≤ (d + 2)·d·u. The loss lse − z_y: twice that, exp at |x| ≤ 2d
    // (3 + 4d ULP), the V-term sum, and log's absolute 2⁻²¹ = 8u: Cz = 2(d + 2)d + 4d + V + 20, absolute;
    // the probabilities carry Cz·u relative.
    const Cz = 2 * (d + 2) * d + 4 * d + V + 20;
    return [
      { name: 'nll', got: nllGot, want: want.nll, allowed: want.nll.map(() => Cz * u) },
      // dh: O = Σ p·W over V terms (V + 2), ÷ s, − W_y: (Cz + V + 6) on its magnitude; dW: N-term sums (N + 2).
      { name: 'dh', got: await read(gpu, dh), want: want.dh, allowed: want.magDh.map((m) => (Cz + V + 6) * u * m) },
      { name: 'dW', got: await readView(gpu, dWv), want: want.dW, allowed: want.magDW.map((m) => (Cz + N + 4) * u * m) },
    ];
  } finally {
    ws.destroy();
  }
}

async function runClipCase(gpu: Gpu, c: TransformerCase, up: Upload, _empty: unknown, seed: number): Promise<Output[]> {
  // Two slots of R·n matrices each (name-major, replica-minor) at offsets, like the model's gradient slots.
  const R = c.R;
  const shapes: [number, number, number][] = [
    [2, 3, c.d],
    [1, 7, 1],
  ];
  const slots = shapes.map(([n, rows, cols], i) => {
    const data = randomF32(n * R * rows * cols, seed + 30 + i, -1, 1);
    return { n, rows, cols, data, view: slotView(up, data, n * R, rows, cols, `grad slot ${i}`) };
  });
  const entries = slots.reduce((a, s) => a + s.n * R, 0);
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const sumsq = gpu.device.createBuffer({ label: 'check sumsq', size: entries * 4, usage });
  const clip = gpu.device.createBuffer({ label: 'check clip', size: 2 * R * 4, usage });
  const maxNorm = 1.5;
  try {
    await run(gpu, async (rec) => {
      let at = 0;
      for (const s of slots) {
        await ops.gradSumsq(rec, { g: s.view, out: sumsq, outOffset: at });
        at += s.n * R;
      }
      await ops.clipScale(rec, { sumsq, entries, replicas: R, clip, maxNorm });
      for (const s of slots) await ops.gradScale(rec, { g: s.view, clip, replicas: R });
    });
    const clipGot = f64(
      await readTensor(gpu, { buffer: clip, label: 'clip', batch: 1, rows: 1, cols: 2 * R, batchStride: 0, offset: 0, dtype: 'f32' }),
    );
    const norms = new Float64Array(R);
    let count = 0;
    for (const s of slots) {
      const per = s.rows * s.cols;
      for (let b = 0; b < s.n * R; b++) for (let i = 0; i < per; i++) norms[b % R] += s.data[b * per + i] ** 2;
      count += s.n * per;
    }
    const wantNorm = Array.from(norms, Math.sqrt);
    const wantScale = wantNorm.map((n) => Math.min(1, maxNorm / (n + 1e-6)));
    const got: number[] = [];
    const want: number[] = [];
    for (const s of slots) {
      const g = await readView(gpu, s.view);
      const per = s.rows * s.cols;
      for (let i = 0; i < g.length; i++) {
        got.push(g[i]);
        want.push(s.data[i] * wantScale[Math.floor(i / per) % R]);
      }
    }
    // Σ g² over `count` terms (per-matrix tree + the replica's sum: γ_count), halved by √, then ÷ and ×: C = count + 8.
    const C = count + 8;
    return [
      { name: 'norm', got: clipGot.slice(R), want: wantNorm, allowed: wantNorm.map((n) => C * u * n) },
      { name: 'scale', got: clipGot.slice(0, R), want: wantScale, allowed: wantScale.map((s) => C * u * s) },
      { name: 'g', got, want, allowed: want.map((w) => (C + 1) * u * Math.abs(w)) },
    ];
  } finally {
    sumsq.destroy();
    clip.destroy();
  }
}

/**
 * Runs the suite; one row per case, failing when any output of the case is out of tolerance.
 *
 * @example
 * const rows = await checkTransformer(gpu, { scope: 'quick' });
 */
export async function checkTransformer(gpu: Gpu, options: { scope?: 'full' | 'quick' } = {}): Promise<CheckRow[]> {
  const rows: CheckRow[] = [];
  for (const c of transformerCases(options.scope)) {
    const caseId = transformerCaseId(c);
    try {
      const outputs = await runTransformerCase(gpu, c);
      let worst = 0;
      let maxAbs = 0;
      const failures: string[] = [];
      for (const o of outputs) {
        const cmp = compareToReference(o.got, o.want, { atol: o.allowed, rtol: 0 });
        worst = Math.max(worst, cmp.worstRatio);
        maxAbs = Math.max(maxAbs, cmp.maxAbsError);
        if (!cmp.pass)
          failures.push(
            `${o.name}: worst ${cmp.worstRatio.toExponential(2)} at ${cmp.worstIndex} (got ${cmp.worstGot}, want ${cmp.worstWant})`,
          );
      }
      rows.push({
        kernel: 'transformer',
        variant: c.kernel,
        caseId,
        pass: failures.length === 0,
        maxAbsError: finiteOrNull(maxAbs),
        worstRatio: finiteOrNull(worst),
        ...(failures.length ? { error: failures.join('; ') } : {}),
      });
    } catch (err) {
      rows.push({
        kernel: 'transformer',
        variant: c.kernel,
        caseId,
        pass: false,
        maxAbsError: null,
        worstRatio: null,
        error: (err as Error).message,
      });
    }
  }
  return rows;
}

/** For tests: the tensor-creating helper's type. */
export type { Output as TransformerCheckOutput };
export { createTensor };
