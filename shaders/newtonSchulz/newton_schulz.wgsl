// The elementwise parts of batched Newton–Schulz (src/kernels/newtonSchulz/newtonSchulz.ts); the products are
// the batched matmul kernels (X·Xᵀ and A·A: gram_symmetric_quad in shaders/matmul/matmul_blocked_quad.wgsl).
// One dispatch covers all R matrices (workgroup y = matrix index).
//
// ns_normalize:    X0 = G / (normScale·‖G‖_F + eps), ‖G‖²_F per matrix from sum_squares (reduce.wgsl).

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
