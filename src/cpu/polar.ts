/**
 * The exact polar factor U Vᵀ of a matrix (docs/math.md §2, `orth: exact`, reference path) and the SVD
 * helpers the tests use (spectral norm, singular values, muon-reg's SVD form).
 *
 * The SVD comes from ml-matrix (installed with `npm install -E ml-matrix`): a maintained,
 * dependency-free JavaScript library whose one-sided Jacobi / Golub–Kahan SVD is Float64 — a
 * hand-written SVD would be one more thing to validate, and this file is the validator.
 */
import { Matrix, SingularValueDecomposition } from 'ml-matrix';

export interface Svd {
  /** rows×k, k = min(rows, cols), row-major. */
  u: Float64Array;
  /** Singular values, descending. */
  s: Float64Array;
  /** cols×k, row-major. */
  v: Float64Array;
  k: number;
}

/** Thin SVD of a row-major rows×cols matrix. */
export function svd(x: ArrayLike<number>, rows: number, cols: number): Svd {
  const m = new Matrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m.set(i, j, x[i * cols + j]);
  const d = new SingularValueDecomposition(m, { autoTranspose: true, computeLeftSingularVectors: true, computeRightSingularVectors: true });
  const k = Math.min(rows, cols);
  const order = Array.from({ length: k }, (_, i) => i).sort((p, q) => d.diagonal[q] - d.diagonal[p]);
  const U = d.leftSingularVectors;
  const V = d.rightSingularVectors;
  const u = new Float64Array(rows * k);
  const v = new Float64Array(cols * k);
  const s = new Float64Array(k);
  order.forEach((src, dst) => {
    s[dst] = d.diagonal[src];
    for (let i = 0; i < rows; i++) u[i * k + dst] = U.get(i, src);
    for (let j = 0; j < cols; j++) v[j * k + dst] = V.get(j, src);
  });
  return { u, s, v, k };
}

export function singularValues(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  return svd(x, rows, cols).s;
}

/** ‖x‖₂, the largest singular value. */
export function spectralNorm(x: ArrayLike<number>, rows: number, cols: number): number {
  return singularValues(x, rows, cols)[0] ?? 0;
}

/** Σ_i f(σ_i) u_i v_iᵀ: a spectral function of the matrix (rows×cols, row-major). */
export function spectralMap(
  x: ArrayLike<number>,
  rows: number,
  cols: number,
  f: (sigma: number, sigmaMax: number) => number,
): Float64Array {
  const { u, s, v, k } = svd(x, rows, cols);
  const out = new Float64Array(rows * cols);
  const sMax = s[0] ?? 0;
  for (let p = 0; p < k; p++) {
    const w = f(s[p], sMax);
    if (w === 0) continue;
    for (let i = 0; i < rows; i++) {
      const ui = u[i * k + p] * w;
      if (ui === 0) continue;
      for (let j = 0; j < cols; j++) out[i * cols + j] += ui * v[j * k + p];
    }
  }
  return out;
}

/**
 * The polar factor U Vᵀ. Singular values σ ≤ max(m, n)·ε_f64·σ_max count as zero (docs/math.md): their
 * directions are rounding noise of the SVD itself and stay zero in the output (the null space is kept).
 * `epsilon` = 2⁻²³ (ε_f32) treats a matrix that was rounded to f32 the way docs/math.md §3 does for
 * GPU-computed matrices: its zero σ sit at ~ε_f32·σ_max, not at ε_f64.
 *
 * @example
 * polarFactor([3, 0, 0, 0], 2, 2); // [1, 0, 0, 0]: rank 1 stays rank 1
 */
export function polarFactor(x: ArrayLike<number>, rows: number, cols: number, epsilon = Number.EPSILON): Float64Array {
  const threshold = Math.max(rows, cols) * epsilon;
  return spectralMap(x, rows, cols, (s, sMax) => (s > threshold * sMax ? 1 : 0));
}

/** muon-reg's direction in SVD form: σ → σ/√(σ² + λ²) (docs/math.md: D = G (GᵀG + λ²I)^{−1/2}). */
export function regularizedPolar(x: ArrayLike<number>, rows: number, cols: number, lambda: number): Float64Array {
  return spectralMap(x, rows, cols, (s) => s / Math.sqrt(s * s + lambda * lambda));
}
