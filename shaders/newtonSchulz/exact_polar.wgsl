// The elementwise parts of the GPU `exact` polar factor (src/kernels/newtonSchulz/exactPolar.ts; the
// numerics are explained in src/cpu/exactPolar.ts, its Float64 twin). The products are the batched
// matmul and symmetric Gram kernels. Every dispatch covers all R matrices (workgroup y = matrix b).
//
// exact_normalize:     X₀ = X·2^−e with 2^(e−1) ≤ ‖X‖_F < 2^e — a power of two, so X₀ is X exactly
//                      (frexp/ldexp, no rounding; any other scale would round the input once).
// exact_first_poly:    step 1's P = (b/s²)·A + (c/s⁴)·A², in place over A², with the per-run scale
//                      s = safety·‖A²‖_F^{1/4} ≥ σ_max(X₀) (A = X₀X₀ᵀ, so ‖A²‖_F = (Σσ⁸)^{1/2}).
// exact_first_combine: step 1's X₁ = (a·X₀ + T)/s, in place over T = P·X₀. Folding s into step 1
//                      keeps X₀ unrounded; s is recomputed from the same sum by the same code in
//                      both kernels, so both see the same value.
// exact_select:        after step k of the purification phase, copy X_k into the output unless the
//                      run already stopped: stop at the first j ≥ firstChecked with δ_j² ≤ tol²
//                      (re-derived by every invocation from the run's history, so no invocation
//                      writes state another reads in the same dispatch).

struct ExactNormalizeParams {
  count: u32,          // rows·cols of one matrix
  batch: u32,
  offsetIn: u32,
  batchStrideIn: u32,
  offsetOut: u32,
  batchStrideOut: u32,
}

@group(0) @binding(0) var<storage, read> exactInput: array<f32>;
@group(0) @binding(1) var<storage, read> inputSquares: array<f32>;
@group(0) @binding(2) var<storage, read_write> exactScaled: array<f32>;
@group(0) @binding(3) var<uniform> normalizeParams: ExactNormalizeParams;

@compute @workgroup_size(64, 1, 1)
fn exact_normalize(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let b = gid.y;
  if (i >= normalizeParams.count || b >= normalizeParams.batch) {
    return;
  }
  // frexp(‖X‖_F) = (fract, e) with fract ∈ [0.5, 1): ‖X₀‖_F ∈ [0.5, 1). A zero matrix has e = 0.
  let e = frexp(sqrt(inputSquares[b])).exp;
  let value = exactInput[normalizeParams.offsetIn + b * normalizeParams.batchStrideIn + i];
  exactScaled[normalizeParams.offsetOut + b * normalizeParams.batchStrideOut + i] = ldexp(value, -e);
}

// s = safety·(Σ (A²)_ij²)^{1/8}: three square roots (each within a few ulp) rather than pow.
fn exact_scale(sumOfSquares: f32, safetyFactor: f32) -> f32 {
  return safetyFactor * sqrt(sqrt(sqrt(sumOfSquares)));
}

struct ExactPolyParams {
  count: u32,          // s·s of one Gram matrix
  batch: u32,
  offsetGram: u32,
  batchStrideGram: u32,
  offsetPoly: u32,
  batchStridePoly: u32,
  b: f32,
  c: f32,
  safety: f32,
}

@group(0) @binding(4) var<storage, read> polyGram: array<f32>;
@group(0) @binding(5) var<storage, read_write> polySquareToP: array<f32>;
@group(0) @binding(6) var<storage, read> polyGramSquares: array<f32>;
@group(0) @binding(7) var<uniform> polyParams: ExactPolyParams;

@compute @workgroup_size(64, 1, 1)
fn exact_first_poly(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let b = gid.y;
  if (i >= polyParams.count || b >= polyParams.batch) {
    return;
  }
  let s = exact_scale(polyGramSquares[b], polyParams.safety);
  let at = polyParams.offsetPoly + b * polyParams.batchStridePoly + i;
  if (!(s > 0.0)) {
    polySquareToP[at] = 0.0;  // X₀ = 0: every later product is 0 too
    return;
  }
  let s2 = s * s;
  let gramValue = polyGram[polyParams.offsetGram + b * polyParams.batchStrideGram + i];
  polySquareToP[at] = (polyParams.b / s2) * gramValue + (polyParams.c / (s2 * s2)) * polySquareToP[at];
}

struct ExactCombineParams {
  count: u32,          // rows·cols of one matrix
  batch: u32,
  offsetX: u32,
  batchStrideX: u32,
  offsetT: u32,
  batchStrideT: u32,
  a: f32,
  safety: f32,
}

@group(0) @binding(8) var<storage, read> combineX0: array<f32>;
@group(0) @binding(9) var<storage, read_write> combineTToX1: array<f32>;
@group(0) @binding(10) var<storage, read> combineGramSquares: array<f32>;
@group(0) @binding(11) var<uniform> combineParams: ExactCombineParams;

@compute @workgroup_size(64, 1, 1)
fn exact_first_combine(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let b = gid.y;
  if (i >= combineParams.count || b >= combineParams.batch) {
    return;
  }
  let s = exact_scale(combineGramSquares[b], combineParams.safety);
  let at = combineParams.offsetT + b * combineParams.batchStrideT + i;
  if (!(s > 0.0)) {
    combineTToX1[at] = 0.0;
    return;
  }
  let x0 = combineX0[combineParams.offsetX + b * combineParams.batchStrideX + i];
  combineTToX1[at] = (combineParams.a * x0 + combineTToX1[at]) / s;
}

struct ExactSelectParams {
  count: u32,          // rows·cols of one matrix
  batch: u32,
  step: u32,           // k: the iterate just computed is X_k (1-based)
  historyStride: u32,  // δ² of run b at b·historyStride + (j − 1)
  firstChecked: u32,   // the first purification step
  offsetIn: u32,
  batchStrideIn: u32,
  offsetOut: u32,
  batchStrideOut: u32,
  toleranceSquared: f32,
}

@group(0) @binding(12) var<storage, read> selectIterate: array<f32>;
@group(0) @binding(13) var<storage, read> selectDeltas: array<f32>;
@group(0) @binding(14) var<storage, read_write> selectOutput: array<f32>;
@group(0) @binding(15) var<uniform> selectParams: ExactSelectParams;

@compute @workgroup_size(64, 1, 1)
fn exact_select(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let b = gid.y;
  if (i >= selectParams.count || b >= selectParams.batch) {
    return;
  }
  let h = b * selectParams.historyStride;
  for (var j = selectParams.firstChecked; j < selectParams.step; j = j + 1u) {
    if (selectDeltas[h + j - 1u] <= selectParams.toleranceSquared) {
      return;
    }
  }
  selectOutput[selectParams.offsetOut + b * selectParams.batchStrideOut + i] = selectIterate[selectParams.offsetIn + b * selectParams.batchStrideIn + i];
}
