/**
 * Newton–Schulz orthogonalization (docs/math.md §2, `orth`): the coefficient schedules and the Float64 twin
 * of the batched GPU iteration in src/kernels/newtonSchulz/newtonSchulz.ts — the same operations in the same order:
 *
 *   transpose when rows > cols;  X ← X / (s·‖X‖_F + 1e-7);
 *   per step k with (a, b, c):   A = X Xᵀ;  B = b·A + c·A·A;  X ← a·X + B·X.
 */

export type NsTriple = readonly [a: number, b: number, c: number];

/** Keller Jordan's quintic (docs/math.md: deliberately not convergent to 1; outputs ≈ [0.68, 1.13]). */
export const NS5_TRIPLE: NsTriple = [3.4445, -4.775, 2.0315];

/** Amsel et al. (arXiv 2505.16932), per-step minimax coefficients, before the safety factor. */
export const POLAR_EXPRESS_TRIPLES: readonly NsTriple[] = [
  [8.28721201814563, -23.595886519098837, 17.300387312530933],
  [4.107059111542203, -2.9478499167379106, 0.5448431082926601],
  [3.9486908534822946, -2.908902115962949, 0.5518191394370137],
  [3.3184196573706015, -2.488488024314874, 0.51004894012372],
  [2.300652019954817, -1.6689039845747493, 0.4188073119525673],
  [1.891301407787398, -1.2679958271945868, 0.37680408948524835],
  [1.8750014808534479, -1.2500016453999487, 0.3750001645474248],
];
/** Used from step 8 on, never scaled by the safety factor. */
export const POLAR_EXPRESS_TAIL: NsTriple = [1.875, -1.25, 0.375];
export const POLAR_EXPRESS_SAFETY = 1.01;

export const CUBIC_TRIPLE: NsTriple = [1.5, -0.5, 0];

export const NS_SCHEDULE_NAMES = ['ns5', 'polar-express', 'cubic'] as const;
export type NsScheduleName = (typeof NS_SCHEDULE_NAMES)[number];

export type NsScheduleSpec =
  NsScheduleName | { name: NsScheduleName; steps?: number } | { coefficients: readonly NsTriple[]; normScale?: number };

/** A resolved schedule: one triple per step and the normalization X / (normScale·‖X‖_F + eps). */
export interface NsSchedule {
  name: string;
  coefficients: NsTriple[];
  normScale: number;
  eps: number;
}

export const NS_NORM_EPS = 1e-7;

/** The k-th (0-based) Polar Express triple with the safety factor on the seven listed ones. */
export function polarExpressTriple(k: number): NsTriple {
  if (k >= POLAR_EXPRESS_TRIPLES.length) return POLAR_EXPRESS_TAIL;
  const [a, b, c] = POLAR_EXPRESS_TRIPLES[k];
  const s = POLAR_EXPRESS_SAFETY;
  return [a / s, b / s ** 3, c / s ** 5];
}

/**
 * Resolves a schedule name (default 5 steps each) or a user list of (a, b, c).
 *
 * @example
 * nsSchedule('polar-express').coefficients[0]; // (8.287…/1.01, −23.59…/1.01³, 17.30…/1.01⁵)
 * nsSchedule({ coefficients: [[1.5, -0.5, 0]] }); // one cubic step
 */
export function nsSchedule(spec: NsScheduleSpec): NsSchedule {
  if (typeof spec === 'object' && 'coefficients' in spec) {
    const coefficients = spec.coefficients.map((t, k) => {
      if (!Array.isArray(t) || t.length !== 3 || !t.every((v) => Number.isFinite(v))) {
        throw new RangeError(`orth.coefficients[${k}]: expected three finite numbers (a, b, c), got ${JSON.stringify(t)}`);
      }
      return [t[0], t[1], t[2]] as NsTriple;
    });
    if (coefficients.length === 0) throw new RangeError('orth.coefficients: at least one (a, b, c) triple is needed');
    const normScale = spec.normScale ?? 1;
    if (!(normScale > 0) || !Number.isFinite(normScale))
      throw new RangeError(`orth.normScale: must be a positive number, got ${normScale}`);
    return { name: 'custom', coefficients, normScale, eps: NS_NORM_EPS };
  }
  const name = typeof spec === 'string' ? spec : spec.name;
  const steps = typeof spec === 'string' ? 5 : (spec.steps ?? 5);
  if (!Number.isInteger(steps) || steps < 1 || steps > 100) {
    throw new RangeError(`orth.steps: must be an integer in [1, 100], got ${steps}`);
  }
  const range = Array.from({ length: steps }, (_, k) => k);
  switch (name) {
    case 'ns5':
      return { name, coefficients: range.map(() => NS5_TRIPLE), normScale: 1, eps: NS_NORM_EPS };
    case 'polar-express':
      return { name, coefficients: range.map(polarExpressTriple), normScale: POLAR_EXPRESS_SAFETY, eps: NS_NORM_EPS };
    case 'cubic':
      return { name, coefficients: range.map(() => CUBIC_TRIPLE), normScale: 1, eps: NS_NORM_EPS };
    default:
      throw new RangeError(
        `orth: unknown coefficient schedule "${String(name)}"; allowed: ${NS_SCHEDULE_NAMES.join(', ')}, exact, or { coefficients: [[a, b, c], …] }`,
      );
  }
}

/** Row-major m×n product helpers on Float64Array. */
function gram(x: Float64Array, m: number, n: number): Float64Array {
  const a = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += x[i * n + k] * x[j * n + k];
      a[i * m + j] = s;
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

export function transpose(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = x[i * cols + j];
  return t;
}

export function frobeniusNorm(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s);
}

/** One polynomial step on a wide (m ≤ n) matrix: X ← aX + (bA + cA²)X with A = X Xᵀ. */
export function nsStep(x: Float64Array, m: number, n: number, [a, b, c]: NsTriple): Float64Array {
  const A = gram(x, m, n);
  const B = c === 0 ? A.map((v) => b * v) : multiply(A, A, m, m, m).map((v, i) => b * A[i] + c * v);
  const BX = multiply(B, x, m, m, n);
  return BX.map((v, i) => a * x[i] + v);
}

export interface NsCpuResult {
  /** rows×cols, the input's orientation. */
  x: Float64Array;
  /** Step changes ‖X_k − X_{k−1}‖_F of the normalized iteration, k = 1…steps. */
  deltas: number[];
}

/**
 * The Float64 iteration for one rows×cols matrix; `iterates` returns every X_k (k = 0…steps, input
 * orientation) for tests of the stop rule.
 *
 * @example
 * const { x } = newtonSchulzCpu(g, 3, 5, nsSchedule('ns5'));
 */
export function newtonSchulzCpu(
  input: ArrayLike<number>,
  rows: number,
  cols: number,
  schedule: NsSchedule,
  iterates?: Float64Array[],
): NsCpuResult {
  const tall = rows > cols;
  const m = tall ? cols : rows;
  const n = tall ? rows : cols;
  let x = tall ? transpose(input, rows, cols) : Float64Array.from(input);
  const scale = 1 / (schedule.normScale * frobeniusNorm(x) + schedule.eps);
  x = x.map((v) => v * scale);
  const orient = (y: Float64Array) => (tall ? transpose(y, m, n) : y);
  iterates?.push(orient(x));
  const deltas: number[] = [];
  for (const triple of schedule.coefficients) {
    const next = nsStep(x, m, n, triple);
    deltas.push(frobeniusNorm(next.map((v, i) => v - x[i])));
    x = next;
    iterates?.push(orient(x));
  }
  return { x: orient(x), deltas };
}
