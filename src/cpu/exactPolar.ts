/**
 * The GPU `exact` polar factor (docs/math.md §2.6): the design of its coefficient schedule, its stop
 * rule, and its Float64 twin (the same operations in the same order as
 * src/kernels/newtonSchulz/exactPolar.ts). The SVD reference is src/cpu/polar.ts.
 *
 * What "accurate" can mean in f32. The input X is an f32 matrix, exact as given; the reference is the
 * Float64 SVD polar factor U·Vᵀ of that matrix. The polar factor's sensitivity to a perturbation ΔX
 * is ≈ ‖ΔX‖₂/σ_min (Li's bound 2‖ΔX‖/(σ_min + σ_min')), so rounding X once more in f32 (‖ΔX‖₂ ≤
 * u·‖X‖_F, u = 2⁻²⁴) could already move U·Vᵀ by 2u·‖X‖_F/σ_min — about 0.1 at σ_min/σ_max = 1e-6.
 * An f32 iteration cannot beat that floor, and the f32 gradient it is given carries noise
 * ≈ √n·u·‖G‖ of its own. "Accurate" here is therefore *backward* accuracy: the result is the polar
 * factor of a matrix within about one f32 rounding of X, so ‖GPU − U·Vᵀ‖₂ ≲ 2u·‖X‖_F/σ_min(X),
 * and directions whose σ are at the f32 noise floor are treated as the null space they are
 * (mapped to 0, as the CPU reference maps σ ≤ max(m,n)·ε·σ_max to 0).
 *
 * The iteration, on the short side (transpose when rows > cols), every step X ← aX + (bA + cA²)X with
 * A = X·Xᵀ (odd polynomials act on each singular value alone: σ ← aσ + bσ³ + cσ⁵):
 *
 * 1. X₀ = X·2^−e with 2^(e−1) ≤ ‖X‖_F < 2^e: a power of two, so X₀ is exactly X rescaled (any other
 *    scale would round X once, costing the 2u·‖X‖_F/σ_min above before the first step).
 * 2. Scale s = 1.001·‖A₀²‖_F^{1/4} ≥ σ_max(X₀) (‖A²‖_F = (Σσ⁸)^{1/2}), at most r^{1/8}·σ_max for rank r
 *    — much tighter than ‖X‖_F (up to r^{1/2}·σ_max), so fewer steps are spent lifting σ that only
 *    look small. The 1.001 covers the f32 rounding of the reduction (≲ 1e-3 relative at n = 1024).
 *    It is folded into step 1 (P = (b/s²)A + (c/s⁴)A², X₁ = (aX₀ + P·X₀)/s), so X₀ is never rounded.
 * 3. Lifting: greedy minimax odd quintics (Polar Express, Amsel et al. arXiv 2505.16932) designed here
 *    for a lower bound ℓ = 1e-6 of σ/s, with a *cushion*: each step is the minimax polynomial on
 *    [max(ℓ_k, 0.1·u_k), u_k] instead of [ℓ_k, u_k]. Without it the minimax quintic for a tiny ℓ
 *    equioscillates down to 1 − E ≈ 0 inside the interval: it sends some large σ (≈ 0.82 in step 1)
 *    to ≈ ℓ_{k+1}, where their directions drown in f32 rounding and must be lifted again. Measured in
 *    f32 emulation (n = 256, rank 128, κ = 100 on the range): ‖error‖₂ 8e-3 without the cushion, 6e-6
 *    with it, at the same number of steps (12). With the cushion no σ ≥ 0.1·u_k ever falls below 0.37·u_{k+1}.
 *    Each step is designed on an interval whose top is 0.1 % above u_k (the *upper slack*). Without
 *    it the top of the interval is a repelling fixed point: once the schedule repeats a step
 *    (steps 2–9 share one quintic), p(u) = u with p'(u) ≈ 8.7, and a σ that step 1 sends exactly to
 *    u_1 (the σ at step 1's interior maximum, 0.409·s) is pushed above u by f32 rounding and then
 *    grows ×8.7 per step to overflow — seen on a well-conditioned (κ = 75) 256 × 128 [G; λI] of
 *    c-multistep, where every output was NaN. With the slack every σ ≤ 1.001·u_k maps to ≤ u_{k+1},
 *    so rounding (≲ 1e-5 relative per step) has 100× room; the schedule keeps its 12 lifting steps.
 * 4. Purification: (a, b, c) = (0, 2.5, −1.5), p(σ) = (5σ³ − 3σ⁵)/2, p(1) = 1, p'(1) = 0, p'(0) = 0.
 *    Every lifting polynomial has p'(0) > 1, so f32 rounding noise in the null space (≈ u per step,
 *    amplified by the lifting gain ≈ 3/ℓ to ≈ 0.1–0.3) would grow without end under more lifting steps;
 *    purification instead cubes it away (0.3 → 0.064 → 6.5e-4 → 7e-10) while lifted σ converge
 *    quadratically to 1 (1 − e → 1 − 7.5e²). Its unstable fixed point √(2/3) ≈ 0.816 is the threshold.
 *
 * Net effect on a singular value σ of X (relative to s): σ ≥ 0.5ℓ → 1, σ ≤ 0.2ℓ → 0 (to rounding),
 * between: a soft, monotone transition (those runs may need all purification steps). ℓ = 1e-6
 * trades the two needs measured on [C]'s gradients and on rank-deficient inputs: lifting down to
 * 1e-6 keeps c-capacity-onestep's recovered items within 1% of the Float64 SVD's at a = 2, d = 256
 * (hard thresholds: 1e-6 → 318, 3e-6 → 314, 1e-5 → 278 of 320), while ℓ = 3e-7 lifted the f32
 * rounding noise of a rank-deficient input to 0.54 (n = 256), too close to 0.816.
 *
 * Stop rule: after the lifting steps every purification step k records δ_k = ‖X_k − X_{k−1}‖_F; a run
 * stops at the first k with δ_k ≤ 2u·√(rows·cols) (δ_k ≈ the distance of X_{k−1} to a partial isometry,
 * so X_k is converged to f32 rounding; measured floors are 0.2–0.3·u·√(rows·cols)) and returns X_k;
 * a run that never gets there returns the last iterate, reported as not converged. All runs of a batch
 * share every dispatch (a GPU cannot skip work per run without a host round trip): the rule selects.
 */
import { F32_UNIT_ROUNDOFF } from './compare';
import { frobeniusNorm, transpose, type NsTriple } from './newtonSchulz';

/** Lower bound ℓ of σ/s the lifting schedule is designed for. */
export const EXACT_LOWER_BOUND = 1e-6;
/** Each lifting step is the minimax on [max(ℓ_k, cushion·u_k), u_k]. */
export const EXACT_CUSHION = 0.1;
/** Each lifting step is designed on [d, (1 + slack)·u_k]: rounding above u_k stays bounded (header, 3). */
export const EXACT_UPPER_SLACK = 1e-3;
/** The lifting ends once the minimax error E < this (σ ∈ [ℓ, 1] then lie in [1 − E, 1 + E]). */
export const EXACT_DESIGN_TOLERANCE = 1e-3;
/** s = EXACT_SCALE_SAFETY·‖A²‖_F^{1/4}. */
export const EXACT_SCALE_SAFETY = 1.001;
/** p(σ) = (5σ³ − 3σ⁵)/2: fixed points 0 and 1 (superattracting), √(2/3) (unstable). */
export const PURIFICATION_TRIPLE: NsTriple = [0, 2.5, -1.5];
/** Purification steps after the lifting (3 converge a clean spectrum; the rest are for σ near the threshold). */
export const EXACT_PURIFICATION_STEPS = 6;

export interface Minimax {
  triple: NsTriple;
  /** max over [lo, hi] of |1 − p(σ)|. */
  error: number;
}

const quintic = ([a, b, c]: NsTriple, x: number) => x * (a + x * x * (b + c * x * x));

function solve4(m: number[][], r: number[]): number[] {
  const n = 4;
  const aug = m.map((row, i) => [...row, r[i]]);
  for (let col = 0; col < n; col++) {
    let piv = col;
    for (let i = col + 1; i < n; i++) if (Math.abs(aug[i][col]) > Math.abs(aug[piv][col])) piv = i;
    [aug[col], aug[piv]] = [aug[piv], aug[col]];
    for (let i = 0; i < n; i++) {
      if (i === col) continue;
      const f = aug[i][col] / aug[col][col];
      for (let j = col; j <= n; j++) aug[i][j] -= f * aug[col][j];
    }
  }
  return aug.map((row, i) => row[n] / row[i]);
}

/**
 * The odd quintic p(σ) = aσ + bσ³ + cσ⁵ minimizing max over [lo, hi] of |1 − p(σ)|, by the Remez
 * exchange on its four alternation points (lo, the interior maximum, the interior minimum, hi), where
 * 1 − p = +E, −E, +E, −E (Chebyshev's alternation theorem: three coefficients, four points).
 *
 * @example
 * minimaxOddQuintic(0.1, 1); // { triple: [5.60…, −13.88…, 9.73…], error: 0.65… }
 */
export function minimaxOddQuintic(lo: number, hi: number): Minimax {
  if (!(lo > 0 && hi > lo)) throw new RangeError(`minimaxOddQuintic: need 0 < lo < hi, got [${lo}, ${hi}]`);
  let x = [lo, lo + (hi - lo) / 3, lo + (2 * (hi - lo)) / 3, hi];
  let triple: NsTriple = [1, 0, 0];
  let error = 0;
  for (let it = 0; it < 200; it++) {
    const s = solve4(
      x.map((xi, i) => [xi, xi ** 3, xi ** 5, i % 2 === 0 ? 1 : -1]),
      [1, 1, 1, 1],
    );
    triple = [s[0], s[1], s[2]];
    error = Math.abs(s[3]);
    // Interior extrema: p'(x) = a + 3b·x² + 5c·x⁴ = 0, a quadratic in x².
    const [a, b, c] = triple;
    const disc = 9 * b * b - 20 * a * c;
    if (disc < 0 || c === 0) break;
    const roots = [(-3 * b - Math.sqrt(disc)) / (10 * c), (-3 * b + Math.sqrt(disc)) / (10 * c)]
      .filter((y) => y > 0)
      .map(Math.sqrt)
      .filter((v) => v > lo && v < hi)
      .sort((p, q) => p - q);
    if (roots.length < 2) break;
    const next = [lo, roots[0], roots[1], hi];
    const moved = Math.max(...next.map((v, i) => Math.abs(v - x[i])));
    x = next;
    if (moved <= 1e-15 * hi) break;
  }
  return { triple, error };
}

/**
 * The lifting schedule: greedy cushioned minimax steps from [lowerBound, 1] until the error is below
 * `tolerance` (see the header). After a step designed on [d, (1 + upperSlack)·u_k] with
 * d = max(ℓ_k, cushion·u_k), σ ∈ [d, (1 + upperSlack)·u_k] land in [1 − E, 1 + E] and σ ∈ [ℓ_k, d]
 * (where p increases) in [p(ℓ_k), 1 − E].
 *
 * @example
 * designLiftingSchedule({ lowerBound: 1e-6, cushion: 0.1, tolerance: 1e-3, upperSlack: 1e-3 }).length; // 12
 */
export function designLiftingSchedule(o: { lowerBound: number; cushion: number; tolerance: number; upperSlack?: number }): NsTriple[] {
  if (!(o.lowerBound > 0 && o.lowerBound < 1)) throw new RangeError(`lowerBound: must be in (0, 1), got ${o.lowerBound}`);
  if (!(o.cushion >= 0 && o.cushion < 1)) throw new RangeError(`cushion: must be in [0, 1), got ${o.cushion}`);
  const slack = o.upperSlack ?? 0;
  if (!(slack >= 0 && slack < 1)) throw new RangeError(`upperSlack: must be in [0, 1), got ${o.upperSlack}`);
  const steps: NsTriple[] = [];
  let lo = o.lowerBound;
  let hi = 1;
  for (let k = 0; k < 60; k++) {
    const d = Math.max(lo, o.cushion * hi);
    const { triple, error } = minimaxOddQuintic(d, hi * (1 + slack));
    steps.push(triple);
    const cushioned = d > lo;
    lo = cushioned ? quintic(triple, lo) : 1 - error;
    hi = 1 + error;
    if (!cushioned && error < o.tolerance) return steps;
  }
  throw new Error(`designLiftingSchedule: no convergence in 60 steps for lowerBound ${o.lowerBound}`);
}

/** The lifting steps of the GPU `exact` (designed once, at load: a few Remez solves). */
export const EXACT_LIFT_STEPS: readonly NsTriple[] = designLiftingSchedule({
  lowerBound: EXACT_LOWER_BOUND,
  cushion: EXACT_CUSHION,
  tolerance: EXACT_DESIGN_TOLERANCE,
  upperSlack: EXACT_UPPER_SLACK,
});

/**
 * Where step 1 sends σ to the top of the lifting interval: the interior maximum of its quintic
 * (σ/s, the run's scale s), where p₁ reaches 1 + E₁ = u₁. A spectrum with σ there is the worst case
 * for the upper slack (header, 3); `muonlab check` places several σ of an input on it.
 *
 * @example
 * liftTopPoint(); // ≈ 0.409
 */
export function liftTopPoint(triple: NsTriple = EXACT_LIFT_STEPS[0]): number {
  const [a, b, c] = triple;
  // p'(x) = a + 3b·x² + 5c·x⁴ = 0: the smaller positive root in x² is the local maximum.
  const disc = 9 * b * b - 20 * a * c;
  const roots = [(-3 * b - Math.sqrt(disc)) / (10 * c), (-3 * b + Math.sqrt(disc)) / (10 * c)].filter((y) => y > 0).sort((p, q) => p - q);
  if (!(disc > 0) || roots.length === 0) throw new RangeError(`liftTopPoint: the quintic (${triple.join(', ')}) has no interior maximum`);
  return Math.sqrt(roots[0]);
}

/**
 * A spectrum with `count` singular values where step 1 lands them on the top of the lifting interval:
 * σ geometric from 1 down to 1/κ (k values), then σ₂ … σ_{count+1} set to liftTopPoint()·s, with s =
 * EXACT_SCALE_SAFETY·(Σσ⁸)^{1/8} the kernel's own scale (solved by fixed-point iteration, since s
 * depends on those σ too).
 *
 * @example
 * liftTopSpectrum(64, 100, 8); // 64 values, 8 of them ≈ 0.41·s
 */
export function liftTopSpectrum(k: number, kappa: number, count: number): number[] {
  if (!(count >= 1 && count < k)) throw new RangeError(`liftTopSpectrum: count must be in [1, ${k - 1}], got ${count}`);
  const sigma = Array.from({ length: k }, (_, i) => kappa ** (-i / (k - 1)));
  const x = liftTopPoint();
  for (let it = 0; it < 100; it++) {
    const s = EXACT_SCALE_SAFETY * Math.sqrt(Math.sqrt(Math.sqrt(sigma.reduce((acc, v) => acc + v ** 8, 0))));
    for (let i = 1; i <= count; i++) sigma[i] = x * s;
  }
  return sigma;
}
/** Lifting + purification: the steps every call records (and the deltas buffer's stride). */
export const EXACT_MAX_STEPS = EXACT_LIFT_STEPS.length + EXACT_PURIFICATION_STEPS;
/** The first step (1-based) the stop rule looks at: the first purification step. */
export const EXACT_FIRST_CHECKED_STEP = EXACT_LIFT_STEPS.length + 1;

/** Every step's triple, 0-based: lifting, then purification. */
export function exactTriple(k: number): NsTriple {
  return k < EXACT_LIFT_STEPS.length ? EXACT_LIFT_STEPS[k] : PURIFICATION_TRIPLE;
}

/**
 * What the whole iteration does to one singular value σ of X₀ (in units of the scale s), in exact
 * arithmetic: the transfer function of docs/math.md §2.6.
 *
 * @example
 * exactTransfer(1e-5); // ≈ 1 (lifted); exactTransfer(1e-8) ≈ 0 (null space)
 */
export function exactTransfer(sigma: number, steps = EXACT_MAX_STEPS): number {
  let x = sigma;
  for (let k = 0; k < steps; k++) x = quintic(exactTriple(k), x);
  return x;
}

/** The stop threshold on δ_k = ‖X_k − X_{k−1}‖_F for a rows×cols matrix: 2u·√(rows·cols). */
export function exactConvergenceTolerance(rows: number, cols: number): number {
  return 2 * F32_UNIT_ROUNDOFF * Math.sqrt(rows * cols);
}

export interface ExactStop {
  /** Steps of the returned iterate (EXACT_FIRST_CHECKED_STEP ≤ steps ≤ EXACT_MAX_STEPS when all were recorded). */
  steps: number;
  /** δ at the returned step: the residual (≈ distance of the previous iterate to a partial isometry). */
  residual: number;
  /** Whether δ reached the tolerance (otherwise the last iterate is returned). */
  converged: boolean;
}

/**
 * The stop rule from the step changes δ_1 … δ_K (K ≤ EXACT_MAX_STEPS): the first purification step k
 * with δ_k ≤ tolerance, else the last step. NaN never stops (the update kernels catch divergence).
 *
 * @example
 * exactStopStep([...Array(12).fill(1), 0.3, 2e-3, 1e-6, 9e-7], 1e-5); // { steps: 15, residual: 1e-6, converged: true }
 */
export function exactStopStep(deltas: readonly number[], tolerance: number): ExactStop {
  for (let k = EXACT_FIRST_CHECKED_STEP; k <= deltas.length; k++) {
    if (deltas[k - 1] <= tolerance) return { steps: k, residual: deltas[k - 1], converged: true };
  }
  return { steps: deltas.length, residual: deltas[deltas.length - 1], converged: false };
}

/** Row-major products on Float64Array (m ≤ n: the short side first). */
function gram(x: Float64Array, m: number, n: number): Float64Array {
  const a = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = i; j < m; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += x[i * n + k] * x[j * n + k];
      a[i * m + j] = s;
      a[j * m + i] = s;
    }
  }
  return a;
}

function multiply(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const v = a[i * k + p];
      if (v === 0) continue;
      for (let j = 0; j < n; j++) c[i * n + j] += v * b[p * n + j];
    }
  }
  return c;
}

/** 2^−e with 2^(e−1) ≤ norm < 2^e (1 for 0): the exact power-of-two normalization of step 1. */
export function powerOfTwoScale(norm: number): number {
  if (!(norm > 0) || !Number.isFinite(norm)) return 1;
  return 2 ** -(Math.floor(Math.log2(norm)) + 1);
}

export interface ExactPolarCpuResult {
  /** rows×cols, the input's orientation. */
  x: Float64Array;
  /** δ_k = ‖X_k − X_{k−1}‖_F, k = 1 … EXACT_MAX_STEPS. */
  deltas: number[];
  /** s/σ_max(X₀)-free: the scale s of step 2 (in units of X₀). */
  scale: number;
  stop: ExactStop;
}

/**
 * Float64 twin of the GPU `exact` (same operations, same order; the stop rule selects the iterate).
 *
 * @example
 * const { x, stop } = exactPolarCpu(g, 64, 64); // x ≈ U·Vᵀ of g; stop.steps ≤ EXACT_MAX_STEPS
 */
export function exactPolarCpu(input: ArrayLike<number>, rows: number, cols: number): ExactPolarCpuResult {
  const tall = rows > cols;
  const m = tall ? cols : rows;
  const n = tall ? rows : cols;
  const raw = tall ? transpose(input, rows, cols) : Float64Array.from(input);
  const pow2 = powerOfTwoScale(frobeniusNorm(raw));
  const x0 = raw.map((v) => v * pow2);
  const a = gram(x0, m, m === 0 ? 0 : n);
  const a2 = multiply(a, a, m, m, m);
  const s = EXACT_SCALE_SAFETY * Math.sqrt(Math.sqrt(frobeniusNorm(a2)));
  const [a1, b1, c1] = EXACT_LIFT_STEPS[0];
  let x: Float64Array;
  if (s > 0) {
    const p = a.map((v, i) => (b1 / (s * s)) * v + (c1 / (s * s * s * s)) * a2[i]);
    const t = multiply(p, x0, m, m, n);
    x = x0.map((v, i) => (a1 * v + t[i]) / s);
  } else {
    x = new Float64Array(x0.length);
  }
  const iterates = [x0, x];
  const deltas = [frobeniusNorm(x.map((v, i) => v - x0[i]))];
  for (let k = 1; k < EXACT_MAX_STEPS; k++) {
    const [ak, bk, ck] = exactTriple(k);
    const g = gram(x, m, n);
    const poly = multiply(g, g, m, m, m).map((v, i) => bk * g[i] + ck * v);
    const px = multiply(poly, x, m, m, n);
    const next = px.map((v, i) => ak * x[i] + v);
    deltas.push(frobeniusNorm(next.map((v, i) => v - x[i])));
    x = next;
    iterates.push(x);
  }
  const stop = exactStopStep(deltas, exactConvergenceTolerance(rows, cols));
  const chosen = iterates[stop.steps];
  return { x: tall ? transpose(chosen, m, n) : chosen, deltas, scale: s, stop };
}
