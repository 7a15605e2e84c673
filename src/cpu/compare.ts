/**
 * Comparing a GPU result with its Float64 reference under an absolute + relative tolerance interval
 * (gpuweb/cts style): element i passes when |got − want| ≤ atol_i + rtol·|want|. `atol` may be one
 * number or one bound per element (e.g. an error bound that scales with |A|·|B| for a dot product).
 */

export interface Tolerance {
  atol: number | ArrayLike<number>;
  rtol: number;
}

export interface Comparison {
  pass: boolean;
  /** Elements compared. */
  count: number;
  maxAbsError: number;
  /** max over elements of error / allowed: ≤ 1 passes; how close to the edge a pass was. */
  worstRatio: number;
  worstIndex: number;
  worstGot: number;
  worstWant: number;
  /** Elements where got is NaN/±Inf but want is finite (or the other way round). */
  nonFinite: number;
}

export function compareToReference(got: ArrayLike<number>, want: ArrayLike<number>, tol: Tolerance): Comparison {
  if (got.length !== want.length) {
    throw new RangeError(`compareToReference: ${got.length} values against a reference of ${want.length}`);
  }
  let maxAbsError = 0;
  let worstRatio = 0;
  let worstIndex = -1;
  let nonFinite = 0;
  for (let i = 0; i < got.length; i++) {
    const g = got[i];
    const w = want[i];
    if (!Number.isFinite(g) || !Number.isFinite(w)) {
      if (!(Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w)))) {
        nonFinite++;
        if (worstRatio !== Infinity) {
          worstRatio = Infinity;
          worstIndex = i;
        }
      }
      continue;
    }
    const err = Math.abs(g - w);
    const atol = typeof tol.atol === 'number' ? tol.atol : tol.atol[i];
    const allowed = atol + tol.rtol * Math.abs(w);
    const ratio = allowed > 0 ? err / allowed : err > 0 ? Infinity : 0;
    if (err > maxAbsError) maxAbsError = err;
    if (ratio > worstRatio) {
      worstRatio = ratio;
      worstIndex = i;
    }
  }
  return {
    pass: worstRatio <= 1 && nonFinite === 0,
    count: got.length,
    maxAbsError,
    worstRatio,
    worstIndex,
    worstGot: worstIndex >= 0 ? got[worstIndex] : NaN,
    worstWant: worstIndex >= 0 ? want[worstIndex] : NaN,
    nonFinite,
  };
}

/** Unit roundoff of IEEE binary32 (round to nearest): 2^-24. */
export const F32_UNIT_ROUNDOFF = 2 ** -24;
