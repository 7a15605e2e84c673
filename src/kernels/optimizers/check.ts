/**
 * The validate step of the optimizers (`muonlab check optimizers`, test/optim.browser.test.ts): one
 * step of each optimizer on the GPU and on its Float64 twin (src/cpu/optim.ts) from the same f32
 * state, over square, wide, tall, 1×1 and odd shapes, R = 1 and R = 5 runs with different
 * hyper-parameters per run. Tolerances are stated per optimizer in `tolerances` below.
 */
import { runCommands } from '../../gpu/commands';
import type { Gpu } from '../../gpu/device';
import { advanceRuns, createRunParams, defaultRunParams, readRunParams, type RunParamValues } from '../../gpu/runParams';
import { readTensor, uploadTensor, writeTensor, type Tensor } from '../../gpu/tensor';
import { compareToReference, F32_UNIT_ROUNDOFF, type Comparison } from '../../cpu/compare';
import { nsSchedule } from '../../cpu/newtonSchulz';
import { optimizerStepCpu, type CpuEmbeddings, type CpuRunState } from '../../cpu/optim';
import { randomF32 } from '../../cpu/random';
import type { CheckRow } from '../family';
import { nsTolerance, orthLabel, conditionedMatrix, USER_SCHEDULE } from '../newtonSchulz/check';
import { finiteOrNull } from '../../experiments/results';
import { parseOptimizerConfig, type OptimizerConfig, type OptimizerConfigInput } from '../../optim/config';
import { runParamsFor, writeListLearningRates } from '../../optim/common';
import { learningRateAt } from '../../optim/schedule';
import { createOptimizer } from '../../optim/index';

export interface OptimCase {
  /** Per-run configs (same optimizer kind; Muon: same orth). */
  configs: OptimizerConfigInput[];
  rows: number;
  cols: number;
  /** Steps already taken (Adam's bias correction uses step + 1). */
  step?: number;
  /** tra-signgd: number of items N (orthonormal embeddings need d ≥ N). */
  items?: number;
  embedding?: 'orthonormal' | 'coupled-rotation';
  /** Steps to take (default 1), each with η_t of the run's schedule and advance_runs in between. */
  steps?: number;
  label?: string;
}

export function optimCaseId(c: OptimCase): string {
  const first = c.configs[0] as OptimizerConfigInput & { orth?: unknown };
  const orth = first.name === 'muon' ? ` ${orthLabel((first.orth ?? 'ns5') as never)}` : '';
  return `${first.name}${orth} ${c.rows}x${c.cols} R=${c.configs.length}${c.label ? ` ${c.label}` : ''}`;
}

const SHAPES: [number, number][] = [
  [16, 16],
  [8, 20],
  [21, 6],
  [1, 1],
  [1, 9],
  [13, 7],
];

/** Five runs with different hyper-parameters, one kind of optimizer. */
function variedRuns(name: string): OptimizerConfigInput[] {
  const r = [0, 1, 2, 3, 4];
  switch (name) {
    case 'gd':
      return r.map((k) => ({ name: 'gd', lr: 0.05 * (k + 1), momentum: [0, 0.9, 0.5, 0.99, 0.3][k], nesterov: k % 2 === 0 }));
    case 'signgd':
      return r.map((k) => ({ name: 'signgd', lr: 0.01 * (k + 1) }));
    case 'adam':
      return r.map(
        (k) =>
          ({
            name: k % 2 ? 'adamw' : 'adam',
            lr: 1e-3 * (k + 1),
            beta1: [0.9, 0, 0.5, 0.95, 0.8][k],
            beta2: [0.999, 0, 0.9, 0.99, 0.5][k],
            eps: [1e-8, 1e-12, 1e-6, 1e-8, 1e-3][k],
            weightDecay: [0, 0.1, 0.01, 0, 0.2][k],
          }) as OptimizerConfigInput,
      );
    case 'muon':
      return r.map(
        (k) =>
          ({
            name: 'muon',
            lr: 0.02 * (k + 1),
            momentum: [0.95, 0.9, 0, 0.5, 0.8][k],
            momentumForm: k % 2 ? 'sum' : 'ema',
            nesterov: k % 3 === 0,
            shapeScale: k % 2 === 0,
          }) as OptimizerConfigInput,
      );
    case 'muon-reg':
      return r.map((k) => ({ name: 'muon-reg', lr: 1, lambda: [1e-3, 0.05, 0.3, 1, 3][k] }));
    case 'tra-signgd':
      return r.map((k) => ({ name: 'tra-signgd', lr: 0.01 * (k + 1) }));
    default:
      throw new RangeError(name);
  }
}

export function optimCases(scope: 'full' | 'quick' = 'full'): OptimCase[] {
  const cases: OptimCase[] = [];
  const shapes = scope === 'quick' ? [SHAPES[1], SHAPES[4]] : SHAPES;
  for (const name of ['gd', 'signgd', 'adam', 'muon']) {
    const runs = variedRuns(name);
    for (const [rows, cols] of shapes) {
      cases.push({ configs: [runs[1]], rows, cols, step: 3 });
      cases.push({ configs: runs, rows, cols, step: 3 });
    }
  }
  // `sgd` is gd under its other name (heavy ball + Nesterov).
  cases.push({ configs: [{ name: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true }], rows: 8, cols: 20, step: 3 });
  // Learning-rate schedules over three steps, one run each: constant, geometric (advance_runs
  // multiplies η on the GPU), an explicit list (written by the host before each step).
  const schedules: OptimizerConfigInput['lr'][] = [
    0.01,
    { kind: 'geometric', lr: '0.005*sqrt(d_in)', growth: 0.5 },
    { kind: 'list', values: [0.02, 0.001, 0.03] },
  ];
  for (const name of ['adam', 'gd'] as const) {
    const extra = name === 'gd' ? { momentum: 0.9 } : {};
    cases.push({
      configs: schedules.map((lr) => ({ name, lr, ...extra }) as OptimizerConfigInput),
      rows: 8,
      cols: 20,
      step: 0,
      steps: 3,
      label: 'lr constant/geometric/list, 3 steps',
    });
  }
  const muon = variedRuns('muon') as (OptimizerConfigInput & Record<string, unknown>)[];
  for (const orth of ['polar-express', { name: 'cubic', steps: 6 }, USER_SCHEDULE, 'exact']) {
    cases.push({ configs: muon.map((m) => ({ ...m, orth }) as OptimizerConfigInput), rows: 12, cols: 20, step: 1 });
  }
  for (const [rows, cols] of scope === 'quick'
    ? [[12, 20]]
    : [
        [12, 20],
        [20, 12],
        [1, 1],
        [9, 9],
      ]) {
    cases.push({ configs: variedRuns('muon-reg'), rows, cols, label: 'κ=10' });
  }
  cases.push({ configs: variedRuns('muon-reg').slice(2, 3), rows: 7, cols: 11, label: 'κ=10' });
  cases.push({ configs: variedRuns('tra-signgd'), rows: 24, cols: 20, items: 12, embedding: 'orthonormal' });
  cases.push({ configs: variedRuns('tra-signgd').slice(0, 1), rows: 9, cols: 13, items: 5, embedding: 'orthonormal' });
  cases.push({ configs: variedRuns('tra-signgd').slice(0, 2), rows: 12, cols: 12, items: 12, embedding: 'coupled-rotation' });
  return cases;
}

/** docs/math.md §1's R(a, b, c) (row-major 3×3). */
export function rotation(a: number, b: number, c: number): number[] {
  const [sa, ca, sb, cb, sc, cc] = [Math.sin(a), Math.cos(a), Math.sin(b), Math.cos(b), Math.sin(c), Math.cos(c)];
  return [
    ca * cb * cc - sa * sc,
    -ca * cb * sc - sa * cc,
    ca * sb,
    sa * cb * cc + ca * sc,
    -sa * cb * sc + ca * cc,
    sa * sb,
    -sb * cc,
    sb * sc,
    cb,
  ];
}

/** Item-major embeddings (N × d): random orthonormal rows (d ≥ N) or [B]'s coupled rotations (d = N). */
export function testEmbeddings(
  kind: 'orthonormal' | 'coupled-rotation',
  N: number,
  dIn: number,
  dOut: number,
  seed: number,
): { input: Float32Array; output: Float32Array } {
  if (kind === 'coupled-rotation') {
    const block = (r: number[]) => {
      const out = new Float32Array(N * N);
      for (let g = 0; g < N / 3; g++)
        for (let i = 0; i < 3; i++)
          for (let j = 0; j < 3; j++) {
            // Column e_i of E is row i of the item-major table: E = I ⊗ R, so row 3g+i holds R[:, i].
            out[(3 * g + i) * N + 3 * g + j] = r[j * 3 + i];
          }
      return out;
    };
    return { input: block(rotation(1.715, 0.876, 3.098)), output: block(rotation(3.638, 2.949, 5.218)) };
  }
  // N orthonormal rows of length d ≥ N: U·Vᵀ with every σ = 1 (κ = 1), orthonormal up to f32 rounding.
  return { input: conditionedMatrix(N, dIn, 1, seed), output: conditionedMatrix(N, dOut, 1, seed + 1) };
}

export interface OptimCaseResult {
  w: Comparison;
  state: Comparison[];
  /** Run-param flags after the step (all should still be running). */
  diverged: number[];
}

function magnitude(...xs: ArrayLike<number>[]): Float64Array {
  const out = new Float64Array(xs[0].length);
  for (const x of xs) for (let i = 0; i < out.length; i++) out[i] += Math.abs(x[i]);
  return out;
}

/**
 * Runs one case: GPU step vs CPU twin, and compares W and the state under the tolerance of the
 * optimizer (see the comments inline; u = 2⁻²⁴).
 */
export async function runOptimCase(gpu: Gpu, c: OptimCase): Promise<OptimCaseResult> {
  const { rows, cols } = c;
  const R = c.configs.length;
  const per = rows * cols;
  const configs: OptimizerConfig[] = c.configs.map((x) => parseOptimizerConfig(x));
  const name = configs[0].name;
  const seed = rows * 97 + cols * 13 + R;
  const w0 = randomF32(R * per, seed, -1, 1);
  const g = randomF32(R * per, seed + 1, -1, 1);
  const m0 = randomF32(R * per, seed + 2, -0.5, 0.5);
  const v0 = randomF32(R * per, seed + 3, 0.1, 1);
  let embeddings: CpuEmbeddings | undefined;
  if (name === 'muon-reg') {
    // Gradients with κ = 10 and σ_max = 1: the SVD form is then well conditioned on the GPU.
    for (let r = 0; r < R; r++) g.set(conditionedMatrix(rows, cols, 10, seed + 10 + r), r * per);
    w0.fill(0);
  }
  if (name === 'tra-signgd') {
    const N = c.items!;
    const emb = testEmbeddings(c.embedding!, N, cols, rows, seed);
    embeddings = { N, input: emb.input, output: emb.output };
    // G = Ẽ·S0·Eᵀ with |S0| ∈ [0.2, 1]: then ẼᵀGE = S0 up to f32 rounding and no sign is ambiguous.
    for (let r = 0; r < R; r++) {
      const s0 = randomF32(N * N, seed + 20 + r, 0.2, 1).map((v, i) => ((i * 7 + r) % 3 === 0 ? -v : v));
      for (let i = 0; i < rows; i++)
        for (let j = 0; j < cols; j++) {
          let acc = 0;
          for (let p = 0; p < N; p++) for (let q = 0; q < N; q++) acc += emb.output[p * rows + i] * s0[p * N + q] * emb.input[q * cols + j];
          g[r * per + i * cols + j] = acc;
        }
    }
  }
  const steps = c.steps ?? 1;
  const resolved = configs.map((cfg) => runParamsFor(cfg, { rows, cols, steps }));
  const runValues: RunParamValues[] = resolved.map((x) => defaultRunParams({ ...x.params, step: c.step ?? 0 }));
  const params = createRunParams(gpu, runValues);
  const W = uploadTensor(gpu, { batch: R, rows, cols, label: 'W' }, w0);
  const G = uploadTensor(gpu, { batch: R, rows, cols, label: 'G' }, g);
  const gpuEmb = embeddings && {
    input: uploadTensor(gpu, { rows: embeddings.N, cols, label: 'E (item-major)' }, embeddings.input as Float32Array),
    output: uploadTensor(gpu, { rows: embeddings.N, cols: rows, label: 'Ẽ (item-major)' }, embeddings.output as Float32Array),
  };
  const opt = createOptimizer(gpu, configs[0], { batch: R, rows, cols }, { embeddings: gpuEmb });
  const stateNames = Object.keys(opt.state);
  const initial: Record<string, Float32Array> = { momentum: m0, m: m0, v: v0 };
  for (const k of stateNames) writeTensor(gpu, opt.state[k], initial[k]);
  try {
    for (let t = 1; t <= steps; t++) {
      writeListLearningRates(
        gpu,
        params,
        resolved.map((x) => x.schedule),
        t,
      );
      await runCommands(gpu, async (rec) => {
        await opt.step(rec, { w: W, g: G, params });
        if (steps > 1) await advanceRuns(rec, params);
      });
    }
    const gotW = await readTensor(gpu, W);
    const gotState = await Promise.all(stateNames.map((k) => readTensor(gpu, opt.state[k] as Tensor)));
    const after = await readRunParams(gpu, params);
    const wantW = new Float64Array(R * per);
    const wantState = stateNames.map(() => new Float64Array(R * per));
    const atolW = new Float64Array(R * per);
    for (let r = 0; r < R; r++) {
      const sl = (x: Float32Array) => x.subarray(r * per, (r + 1) * per);
      const state: CpuRunState = { w: Float64Array.from(sl(w0)), m: Float64Array.from(sl(m0)), v: Float64Array.from(sl(v0)) };
      for (let t = 1; t <= steps; t++) {
        const at = { ...runValues[r], lr: learningRateAt(resolved[r].schedule, t), step: runValues[r].step + t - 1 };
        optimizerStepCpu(state, { config: configs[r], rows, cols, params: at, gradient: sl(g), embeddings });
      }
      wantW.set(state.w, r * per);
      stateNames.forEach((k, s) => wantState[s].set(k === 'v' ? state.v! : state.m!, r * per));
      // Over several steps the per-step bounds below add up: η becomes Σ_t η_t, and |W|, the state
      // and (gd) the momentum, which grows by ≤ |G| per step, are taken at their largest (×steps).
      const lrSum = Array.from({ length: steps }, (_, t) => learningRateAt(resolved[r].schedule, t + 1)).reduce((a, b) => a + b, 0);
      const p = { ...runValues[r], lr: lrSum * steps };
      const mag = magnitude(sl(w0));
      const dir = magnitude(sl(g), sl(m0));
      for (let i = 0; i < per; i++) {
        // Elementwise updates: ≤ 10 f32 operations per element, each off by ≤ u relative to the
        // magnitudes it combines (|W|, η·(|G| + |m|) and the O(1) direction of sign/Adam) — 32u
        // of those magnitudes covers them with a 3× margin; a wrong β, sign or bias correction
        // is off by ≥ 1e-3·η.
        let bound = 32 * F32_UNIT_ROUNDOFF * (mag[i] + p.lr * p.scale * (dir[i] + 1));
        if (name === 'muon') {
          const orth = configs[0].name === 'muon' ? configs[0].orth : 'ns5';
          // orth(·) on top: its own tolerance (nsTolerance, derived in src/kernels/newtonSchulz/check.ts), or for
          // `exact` the issue's 1e-3 (an elementwise error is ≤ the spectral one).
          bound += p.lr * p.scale * (orth === 'exact' ? 1e-3 : nsTolerance(nsSchedule(orth), rows, cols));
        }
        if (name === 'muon-reg') {
          // Against the SVD form, gradients with κ(G) = 10: forming GᵀG in f32 costs κ(GᵀG)·u = κ²·u
          // relative in its small eigen-directions, inherited by the inverse square root (spectral,
          // hence elementwise): 100·u ≈ 6e-6 (docs/math.md measured ≈ 5e-6 at κ = 10; this suite ≈ 5e-7).
          bound = 100 * F32_UNIT_ROUNDOFF * p.lr * p.scale;
        }
        if (name === 'tra-signgd') {
          // D = Ẽ·sign(·)·Eᵀ via two N-long f32 products of unit-norm rows: ≤ 2N·u·N per entry.
          bound += p.lr * 2 * c.items! * c.items! * F32_UNIT_ROUNDOFF * 4;
        }
        atolW[r * per + i] = bound * steps;
      }
    }
    const stateTol = {
      atol: magnitude(
        m0,
        g,
        v0,
        g.map((x) => x * x),
      ).map((x) => 32 * F32_UNIT_ROUNDOFF * x * steps * steps),
      rtol: 0,
    };
    return {
      w: compareToReference(gotW, wantW, { atol: atolW, rtol: 0 }),
      state: gotState.map((got, s) => compareToReference(got, wantState[s], stateTol)),
      diverged: after.map((p) => p.diverged),
    };
  } finally {
    opt.destroy();
    W.buffer.destroy();
    G.buffer.destroy();
    params.buffer.destroy();
    gpuEmb?.input.buffer.destroy();
    gpuEmb?.output.buffer.destroy();
  }
}

export async function checkOptimizers(gpu: Gpu, options: { scope?: 'full' | 'quick' } = {}): Promise<CheckRow[]> {
  const rows: CheckRow[] = [];
  for (const c of optimCases(options.scope ?? 'quick')) {
    const caseId = optimCaseId(c);
    const variant = caseId.split(' ')[0];
    try {
      const r = await runOptimCase(gpu, c);
      const all = [r.w, ...r.state];
      const worst = all.reduce((a, b) => (b.worstRatio > a.worstRatio ? b : a));
      rows.push({
        kernel: 'optimizers',
        variant,
        caseId,
        pass: all.every((x) => x.pass) && r.diverged.every((d) => d === 0),
        maxAbsError: finiteOrNull(Math.max(...all.map((x) => x.maxAbsError))),
        worstRatio: finiteOrNull(worst.worstRatio),
      });
    } catch (err) {
      rows.push({ kernel: 'optimizers', variant, caseId, pass: false, maxAbsError: null, worstRatio: null, error: (err as Error).message });
    }
  }
  return rows;
}
