/**
 * The validate step of batched Newton–Schulz (`muonlab check newton-schulz`, and
 * test/newtonSchulz.browser.test.ts): addressable cases over shapes (square, wide, tall, d = 1, odd)
 * × batch (1, 3 with different inputs per run) × schedule (ns5, polar-express, cubic, a user list,
 * exact), each run on the GPU and compared with the Float64 twin from the same f32 input.
 *
 * Inputs are X = U·diag(σ)·Vᵀ with σ spread geometrically over [σ_max/κ, σ_max]. For the schedules
 * κ = 8 keeps every σ/‖X‖_F ≥ 0.01 (docs/math.md: below that ns5 maps anywhere in [0, 1.2], so f32 and
 * f64 may disagree by O(1) legitimately). The `exact` cases go down to κ = 1e6 (the GPU `exact`'s
 * design range, src/cpu/exactPolar.ts) and include rank-deficient inputs whose zero σ sit at the f32
 * rounding floor (≈ 1e-8·σ_max once U·diag(σ)·Vᵀ is rounded to f32) and must stay zero.
 */
import { runCommands } from '../../gpu/commands';
import type { Gpu } from '../../gpu/device';
import { readTensor, uploadTensor } from '../../gpu/tensor';
import { compareToReference, F32_UNIT_ROUNDOFF } from '../../cpu/compare';
import {
  CUBIC_TRIPLE,
  newtonSchulzCpu,
  NS5_TRIPLE,
  nsSchedule,
  polarExpressTriple,
  type NsSchedule,
  type NsScheduleSpec,
} from '../../cpu/newtonSchulz';
import { polarFactor, singularValues, spectralNorm } from '../../cpu/polar';
import { EXACT_MAX_STEPS, exactTriple, liftTopSpectrum } from '../../cpu/exactPolar';
import { seededUniform } from '../../cpu/random';
import type { CheckRow } from '../family';
import { createNsWorkspace, newtonSchulz, readExactReport, type OrthSchedule } from './newtonSchulz';
import { finiteOrNull } from '../../experiments/results';

export interface NsCase {
  rows: number;
  cols: number;
  batch: number;
  orth: OrthSchedule;
  /** Condition number of the input (σ_max/σ_min over the nonzero σ). */
  kappa: number;
  /** Number of exactly-zero singular values (rank-deficient input). */
  zeros?: number;
  /** `exact`: this many σ placed where step 1 sends them to the top of the lifting interval (liftTopSpectrum). */
  liftTop?: number;
  label?: string;
  /** false: the plain matmul for all three products (default: the symmetric Gram kernel where the device has subgroups). */
  symmetric?: boolean;
}

export function orthLabel(o: OrthSchedule): string {
  if (typeof o === 'string') return o;
  if ('coefficients' in o) return `user(${o.coefficients.length})`;
  return `${o.name}(${o.steps ?? 5})`;
}

export function nsCaseId(c: NsCase): string {
  return `${c.label ?? orthLabel(c.orth)} ${c.rows}x${c.cols} R=${c.batch} κ=${c.kappa}${c.zeros ? ` zeros=${c.zeros}` : ''}${c.liftTop ? ` liftTop=${c.liftTop}` : ''}`;
}

export const USER_SCHEDULE: NsScheduleSpec = {
  coefficients: [
    [3, -3.2, 1.2],
    [2.5, -2, 0.6],
    [1.875, -1.25, 0.375],
  ],
  normScale: 1.05,
};

export function nsCases(scope: 'full' | 'quick' = 'full'): NsCase[] {
  const shapes: [number, number][] =
    scope === 'quick'
      ? [
          [24, 24],
          [13, 37],
        ]
      : [
          [32, 32],
          [16, 40],
          [37, 13],
          [1, 9],
          [9, 1],
          [64, 64],
        ];
  const schedules: OrthSchedule[] = ['ns5', 'polar-express', { name: 'cubic', steps: 8 }, USER_SCHEDULE];
  const cases: NsCase[] = [];
  for (const orth of schedules) {
    for (const [rows, cols] of shapes) cases.push({ rows, cols, batch: rows * cols > 2000 ? 1 : 3, orth, kappa: 8 });
  }
  if (scope === 'full') {
    for (const orth of ['ns5', 'polar-express'] as const) {
      cases.push({ rows: 32, cols: 32, batch: 3, orth, kappa: 8, symmetric: false, label: `${orth} plain-matmul` });
      cases.push({ rows: 16, cols: 40, batch: 3, orth, kappa: 8, symmetric: false, label: `${orth} plain-matmul` });
    }
  }
  // One step of each distinct triple: no later polynomial amplifies the rounding, so the bound is
  // the per-step 3·√n·u·(|a| + |b| + |c|) alone (ns5: ≈ 1.6e-5 at n = 42) — a tight check of one map.
  if (scope === 'full') {
    for (const [name, triple, normScale] of [
      ['ns5', NS5_TRIPLE, 1],
      ['pe1', polarExpressTriple(0), 1.01],
      ['cubic', CUBIC_TRIPLE, 1],
    ] as const) {
      for (const [rows, cols] of [
        [24, 40],
        [33, 17],
      ] as const) {
        cases.push({ rows, cols, batch: 2, orth: { coefficients: [triple], normScale }, kappa: 8, label: `one ${name} step` });
      }
    }
  }
  const exactShapes: [number, number][] =
    scope === 'quick'
      ? [[24, 40]]
      : [
          [24, 40],
          [40, 24],
          [33, 33],
        ];
  for (const [rows, cols] of exactShapes) {
    cases.push({ rows, cols, batch: 2, orth: 'exact', kappa: 10 });
    cases.push({ rows, cols, batch: 2, orth: 'exact', kappa: 100 });
  }
  cases.push({ rows: 24, cols: 40, batch: 2, orth: 'exact', kappa: 10, zeros: 6 });
  // Ill-conditioned inputs (the issue's κ = 1e4 and 1e6) and rank-deficient ones at the f32 floor;
  // one d = 256 case of each kind in the full scope.
  cases.push({ rows: 64, cols: 64, batch: 2, orth: 'exact', kappa: 1e4 });
  cases.push({ rows: 64, cols: 64, batch: 2, orth: 'exact', kappa: 1e6 });
  cases.push({ rows: 40, cols: 72, batch: 2, orth: 'exact', kappa: 1e6 });
  cases.push({ rows: 64, cols: 64, batch: 2, orth: 'exact', kappa: 100, zeros: 32 });
  // σ that step 1 sends exactly to the top of the lifting interval: without the upper slack, f32
  // rounding pushes them above it and the repeated lifting step (p'(u) ≈ 8.7) overflows to NaN.
  cases.push({ rows: 64, cols: 64, batch: 2, orth: 'exact', kappa: 100, liftTop: 8 });
  cases.push({ rows: 128, cols: 64, batch: 1, orth: 'exact', kappa: 100, liftTop: 16 });
  if (scope === 'full') {
    cases.push({ rows: 72, cols: 40, batch: 2, orth: 'exact', kappa: 1e6 });
    cases.push({ rows: 256, cols: 256, batch: 1, orth: 'exact', kappa: 1e6 });
    cases.push({ rows: 256, cols: 256, batch: 1, orth: 'exact', kappa: 100, zeros: 128 });
  }
  return cases;
}

function orthonormalColumns(n: number, k: number, rnd: () => number): Float64Array {
  const q = new Float64Array(n * k);
  for (let j = 0; j < k; j++) {
    const v = Array.from({ length: n }, () => rnd() - 0.5);
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < j; p++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += q[i * k + p] * v[i];
        for (let i = 0; i < n; i++) v[i] -= dot * q[i * k + p];
      }
    }
    const norm = Math.hypot(...v);
    for (let i = 0; i < n; i++) q[i * k + j] = v[i] / norm;
  }
  return q;
}

/**
 * X = U·diag(σ)·Vᵀ, σ geometric from σ_max down to σ_max/κ, then `zeros` exact zeros; f32-rounded.
 * `spectrum` (min(rows, cols) values, times σ_max) replaces the geometric σ.
 */
export function conditionedMatrix(
  rows: number,
  cols: number,
  kappa: number,
  seed: number,
  zeros = 0,
  sigmaMax = 1,
  spectrum?: readonly number[],
): Float32Array<ArrayBuffer> {
  const rnd = seededUniform(seed);
  const k = Math.min(rows, cols);
  const u = orthonormalColumns(rows, k, rnd);
  const v = orthonormalColumns(cols, k, rnd);
  const live = k - zeros;
  if (spectrum && spectrum.length !== k) throw new RangeError(`conditionedMatrix: spectrum needs ${k} values, got ${spectrum.length}`);
  const sigma = spectrum
    ? spectrum.map((x) => sigmaMax * x)
    : Array.from({ length: k }, (_, i) => (i >= live ? 0 : live === 1 ? sigmaMax : sigmaMax * kappa ** (-i / (live - 1))));
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) {
      let acc = 0;
      for (let p = 0; p < k; p++) acc += u[i * k + p] * sigma[p] * v[j * k + p];
      out[i * cols + j] = acc;
    }
  return out;
}

export interface NsCaseResult {
  got: Float32Array;
  /** The same schedule in Float64 (for `exact`: the SVD polar factor). */
  want: Float64Array;
  inputs: Float32Array[];
  schedule?: NsSchedule;
  exactSteps?: number[];
  exactStepChange?: number[];
  exactConverged?: boolean[];
  dispatchesPerStep: number;
  passesRecorded: number;
  /** Whether the symmetric Gram kernel was used. */
  symmetric: boolean;
}

export async function runNsCase(gpu: Gpu, c: NsCase): Promise<NsCaseResult> {
  const { rows, cols, batch } = c;
  const per = rows * cols;
  const inputs = Array.from({ length: batch }, (_, r) =>
    conditionedMatrix(
      rows,
      cols,
      c.kappa,
      1000 + r * 7 + rows * 13 + cols,
      c.zeros ?? 0,
      0.5 + r,
      c.liftTop ? liftTopSpectrum(Math.min(rows, cols), c.kappa, c.liftTop) : undefined,
    ),
  );
  const host = new Float32Array(batch * per);
  inputs.forEach((x, r) => host.set(x, r * per));
  const input = uploadTensor(gpu, { batch, rows, cols, label: 'ns input' }, host);
  const output = uploadTensor(gpu, { batch, rows, cols, label: 'ns output' }, new Float32Array(batch * per).fill(Number.NaN));
  const workspace = createNsWorkspace(gpu, { batch, rows, cols });
  let passes = 0;
  let call: Awaited<ReturnType<typeof newtonSchulz>> | undefined;
  try {
    await runCommands(gpu, async (r) => {
      call = await newtonSchulz(r, { input, output, orth: c.orth, workspace, symmetric: c.symmetric });
      passes = r.dispatched.length;
    });
    const got = await readTensor(gpu, output);
    const want = new Float64Array(batch * per);
    let exact: { steps: number[]; stepChange: number[]; converged: boolean[] } | undefined;
    if (c.orth === 'exact') {
      // A rank-deficient input went through f32 rounding: its zero σ are ~ε_f32·σ_max, so the
      // reference counts them as zero with docs/math.md §3's f32 threshold (the f64 one would map them to 1).
      const epsilon = c.zeros ? 2 ** -23 : Number.EPSILON;
      inputs.forEach((x, r) => want.set(polarFactor(x, rows, cols, epsilon), r * per));
      exact = await readExactReport(gpu, call!.workspace);
    } else {
      const schedule = nsSchedule(c.orth);
      inputs.forEach((x, r) => want.set(newtonSchulzCpu(x, rows, cols, schedule).x, r * per));
    }
    return {
      got,
      want,
      inputs,
      schedule: call!.schedule,
      exactSteps: exact?.steps,
      exactStepChange: exact?.stepChange,
      exactConverged: exact?.converged,
      dispatchesPerStep: call!.dispatchesPerStep,
      passesRecorded: passes,
      symmetric: call!.symmetric,
    };
  } finally {
    input.buffer.destroy();
    output.buffer.destroy();
    workspace.destroy();
  }
}

/**
 * The tolerance of a scheduled (non-exact) case, absolute per element (relative part 0), a
 * first-order rounding budget:
 * - each step's three f32 products and two axpy-like updates perturb X by ≲ 3·γ·(|a| + |b| + |c|)
 *   in spectral norm (‖X‖₂ ≤ 1.2 on the iteration's range), with γ = √n·u, n = max(rows, cols) + 2:
 *   the probabilistic rounding bound of an n-long dot product (Higham & Mary 2019; the worst case
 *   n·u never occurs with independent roundings and would make the bound 8–10× looser);
 * - a later step k maps a perturbation through the Fréchet derivative of the odd polynomial p_k,
 *   whose gain is bounded by L_k = max(|a_k|, max over σ ∈ [0, 1.2] of |p_k'(σ)|) (the derivative's
 *   singular-value and divided-difference factors all lie within that);
 * so tol = Σ_k 3γ(|a_k| + |b_k| + |c_k|)·Π_{j>k} L_j. ns5 at n = 66: ≈ 5e-3; measured errors are
 * ≈ 1e-6 (the bound is pessimistic), while a wrong coefficient, a missing step or transpose moves
 * outputs by ≥ 5e-2.
 */
export function nsTolerance(schedule: NsSchedule, rows: number, cols: number): number {
  const n = Math.max(rows, cols) + 2;
  const gamma = Math.sqrt(n) * F32_UNIT_ROUNDOFF;
  const gain = ([a, b, c]: readonly [number, number, number]) => {
    let worst = Math.abs(a);
    for (let i = 0; i <= 120; i++) {
      const x = (1.2 * i) / 120;
      worst = Math.max(worst, Math.abs(a + 3 * b * x * x + 5 * c * x ** 4));
    }
    return worst;
  };
  const coeffs = schedule.coefficients;
  let total = 0;
  for (let k = 0; k < coeffs.length; k++) {
    let amplification = 1;
    for (let j = k + 1; j < coeffs.length; j++) amplification *= gain(coeffs[j]);
    const [a, b, c] = coeffs[k];
    total += 3 * gamma * (Math.abs(a) + Math.abs(b) + Math.abs(c)) * amplification;
  }
  return total;
}

/**
 * The tolerance of an `exact` case on ‖GPU − U_r·V_rᵀ‖₂ (the Float64 SVD polar factor over the σ
 * counted nonzero), derived from what f32 allows (src/cpu/exactPolar.ts):
 * - input: the polar factor moves by ≤ 2‖ΔX‖₂/(σ_r + σ_{r−1}) ≤ ‖ΔX‖_F/σ_r under a perturbation ΔX
 *   (Li 1995), and one more f32 rounding of X is ‖ΔX‖_F ≤ u·‖X‖_F — "as accurate as the exact polar
 *   factor of X rounded once more", with a factor 2 for the rounding of the first step's output,
 *   whose small σ are still ≈ 5.6·σ (its errors are divided by that growth, and the later lifting
 *   steps' by more): 2u·‖X‖_F/σ_r;
 * - iterate: every step k perturbs an iterate by ≲ 3γ(|a_k| + |b_k| + |c_k|) (three products and the
 *   update, γ = √n·u, n = max(rows, cols) + 2: the probabilistic bound of nsTolerance); once the σ are
 *   O(1) that is a rotation of the singular vectors, which odd polynomials carry unchanged (their
 *   divided difference (p(σ) + p(τ))/(σ + τ) is 1 at σ = τ = 1) and purification does not undo,
 *   so these add up over the EXACT_MAX_STEPS steps without amplification.
 * tol = 2u·‖X‖_F/σ_r + 3γ·Σ_k (|a_k| + |b_k| + |c_k|). At 64×64: 3.5e-4 + 0.37 at κ = 1e6, 3.5e-4 + 3.7e-3
 * at κ = 1e4; a σ left unlifted or a null direction lifted moves the output by ≈ 1.
 */
export function exactTolerance(input: ArrayLike<number>, rows: number, cols: number, zeros: number): number {
  const sigma = singularValues(input, rows, cols);
  let frob = 0;
  for (let i = 0; i < input.length; i++) frob += input[i] * input[i];
  return exactToleranceFor(Math.sqrt(frob) / sigma[sigma.length - zeros - 1], rows, cols);
}

/**
 * exactTolerance from the ratio ‖X‖_F/σ_r (≤ √r·κ for rank r and condition number κ over the
 * nonzero σ): 2u·‖X‖_F/σ_r + 3γ·Σ_k (|a_k| + |b_k| + |c_k|), γ = √(max(rows, cols) + 2)·u.
 *
 * @example
 * exactToleranceFor(8 * 100, 8, 8); // κ ≤ 100 at d = 8: ≈ 9.6e-5 + 1.5e-4
 */
export function exactToleranceFor(frobeniusOverSigmaR: number, rows: number, cols: number): number {
  const gamma = Math.sqrt(Math.max(rows, cols) + 2) * F32_UNIT_ROUNDOFF;
  let coefficientSum = 0;
  for (let k = 0; k < EXACT_MAX_STEPS; k++) coefficientSum += exactTriple(k).reduce((s, v) => s + Math.abs(v), 0);
  return 2 * F32_UNIT_ROUNDOFF * frobeniusOverSigmaR + 3 * gamma * coefficientSum;
}

export async function checkNewtonSchulz(gpu: Gpu, options: { scope?: 'full' | 'quick' } = {}): Promise<CheckRow[]> {
  const rows: CheckRow[] = [];
  for (const c of nsCases(options.scope ?? 'quick')) {
    const caseId = nsCaseId(c);
    try {
      const r = await runNsCase(gpu, c);
      if (c.orth === 'exact') {
        const per = c.rows * c.cols;
        let worst = 0;
        let worstRatio = 0;
        for (let b = 0; b < c.batch; b++) {
          const diff = Array.from({ length: per }, (_, i) => r.got[b * per + i] - r.want[b * per + i]);
          const error = spectralNorm(diff, c.rows, c.cols);
          worst = Math.max(worst, error);
          // NaN (a non-finite output) fails: NaN ≤ tol is false and the ratio is reported as null.
          worstRatio = Math.max(worstRatio, error / exactTolerance(r.inputs[b], c.rows, c.cols, c.zeros ?? 0));
          if (Number.isNaN(error)) worstRatio = Number.NaN;
        }
        rows.push({
          kernel: 'newton-schulz',
          variant: 'exact',
          caseId,
          pass: worstRatio <= 1,
          maxAbsError: finiteOrNull(worst),
          worstRatio: finiteOrNull(worstRatio),
        });
      } else {
        const cmp = compareToReference(r.got, r.want, { atol: nsTolerance(r.schedule!, c.rows, c.cols), rtol: 0 });
        rows.push({
          kernel: 'newton-schulz',
          variant: orthLabel(c.orth),
          caseId,
          pass: cmp.pass,
          maxAbsError: finiteOrNull(cmp.maxAbsError),
          worstRatio: finiteOrNull(cmp.worstRatio),
        });
      }
    } catch (err) {
      rows.push({
        kernel: 'newton-schulz',
        variant: orthLabel(c.orth),
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
