// The elementwise parts of batched Newton–Schulz (src/kernels/newtonSchulz/newtonSchulz.ts); the products are
// the batched matmul kernels (X·Xᵀ and A·A: gram_symmetric_quad in shaders/matmul/matmul_blocked_quad.wgsl).
// One dispatch covers all R matrices (workgroup y = matrix index).
//
// ns_normalize:    X0 = G / (normScale·‖G‖_F + eps), ‖G‖²_F per matrix from sum_squares (reduce.wgsl).
// ns_exact_select: the GPU `exact`: after step k, copy X_k into the output for every run whose stop
//                  rule has not fired yet. The rule is re-derived by every invocation from the run's
//                  history of squared step changes (δ_1² … δ_k²), so no invocation writes state that
//                  another reads in the same dispatch: stop at the first j ≥ firstChecked with
//                  δ_j ≥ δ_{j−1}, keeping X_{j−1} (already in the output from step j − 1).

struct NormalizeParams {
  count: u32,          // rows·cols of one matrix
  batch: u32,
  offsetIn: u32,
  batchStrideIn: u32,
  offsetOut: u32,
  batchStrideOut: u32,
  normScale: f32,
  eps: f32,
}

@group(0) @binding(0) var<storage, read> normInput: array<f32>;
@group(0) @binding(1) var<storage, read> sumSquares: array<f32>;
@group(0) @binding(2) var<storage, read_write> normOutput: array<f32>;
@group(0) @binding(3) var<uniform> norm: NormalizeParams;

@compute @workgroup_size(64, 1, 1)
fn ns_normalize(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let b = gid.y;
  if (i >= norm.count || b >= norm.batch) {
    return;
  }
  let scale = 1.0 / (norm.normScale * sqrt(sumSquares[b]) + norm.eps);
  normOutput[norm.offsetOut + b * norm.batchStrideOut + i] = normInput[norm.offsetIn + b * norm.batchStrideIn + i] * scale;
}

struct SelectParams {
  count: u32,          // rows·cols of one matrix
  batch: u32,
  step: u32,           // k: the iterate just computed is X_k (1-based)
  historyStride: u32,  // deltas of run b at b·historyStride + (j − 1)
  firstChecked: u32,
  offsetIn: u32,
  batchStrideIn: u32,
  offsetOut: u32,
  batchStrideOut: u32,
}

@group(0) @binding(4) var<storage, read> iterate: array<f32>;
@group(0) @binding(5) var<storage, read> deltas: array<f32>;
@group(0) @binding(6) var<storage, read_write> selected: array<f32>;
@group(0) @binding(7) var<uniform> sel: SelectParams;

@compute @workgroup_size(64, 1, 1)
fn ns_exact_select(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let b = gid.y;
  if (i >= sel.count || b >= sel.batch) {
    return;
  }
  let h = b * sel.historyStride;
  for (var j = max(sel.firstChecked, 2u); j <= sel.step; j = j + 1u) {
    if (deltas[h + j - 1u] >= deltas[h + j - 2u]) {
      return;
    }
  }
  selected[sel.offsetOut + b * sel.batchStrideOut + i] = iterate[sel.offsetIn + b * sel.batchStrideIn + i];
}
