// Batched reductions, one workgroup per matrix of the batch (R matrices → R workgroups):
// sum_squares writes Σ x² (or Σ (x − y)² with DIFF) of matrix b to out[outOffset + b·outStride].
// Used for the Frobenius normalization of Newton–Schulz, the step change of the GPU `exact` and
// norms in tests. One workgroup per matrix keeps it one dispatch with no atomics (f32 has none);
// the O(rows·cols) work is small next to the O(m²n) products it serves. Each lane sums a strided
// slice, then a tree over the 64 partial sums: error ≲ (rows·cols/64 + 6)·u relative.
// count_nonfinite writes the number of NaN/±Inf entries of matrix b (as an f32: exact below 2^24,
// and never 0 when there is one) — the input validation of an optimizer step (src/optim/checkedStep.ts).

//#import lib/finite.wgsl
//#import lib/workgroup_sum.wgsl

struct ReduceParams {
  rows: u32,
  cols: u32,
  batch: u32,
  offsetX: u32,
  batchStrideX: u32,
  offsetY: u32,
  batchStrideY: u32,
  outOffset: u32,
  outStride: u32,
}

override DIFF: bool = false;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: ReduceParams;

@compute @workgroup_size(64, 1, 1)
fn sum_squares(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = wg.x;
  let n = params.rows * params.cols;
  let baseX = params.offsetX + b * params.batchStrideX;
  let baseY = params.offsetY + b * params.batchStrideY;
  var acc = 0.0;
  for (var i = lid; i < n; i = i + 64u) {
    var v = x[baseX + i];
    if (DIFF) {
      v = v - y[baseY + i];
    }
    acc = acc + v * v;
  }
  let total = workgroupSum(lid, acc);
  if (lid == 0u) {
    out[params.outOffset + b * params.outStride] = total;
  }
}

// Counts as f32: each lane's count and the total are exact below 2^24, and never round to 0.
@compute @workgroup_size(64, 1, 1)
fn count_nonfinite(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = wg.x;
  let n = params.rows * params.cols;
  let baseX = params.offsetX + b * params.batchStrideX;
  var found = 0.0;
  for (var i = lid; i < n; i = i + 64u) {
    found = found + select(1.0, 0.0, finite(x[baseX + i]));
  }
  let total = workgroupSum(lid, found);
  if (lid == 0u) {
    out[params.outOffset + b * params.outStride] = total;
  }
}
