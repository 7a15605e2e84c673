// The elementwise parts of batched Newton–Schulz (src/kernels/newtonSchulz.ts); the products are
// the batched matmul kernels. One dispatch covers all R matrices (workgroup y = matrix index).
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

// ns_gram_vec4: C = α·X·Xᵀ + β·C (or α·Xᵀ·X + β·C with TRANS) exploiting the symmetry of the
// result: only the 32×32 tiles on or above the diagonal are launched (T·(T+1)/2 workgroups per matrix
// instead of T²), and each 4×4 block is written twice, at (i, j) and mirrored at (j, i), so the
// output is exactly symmetric. Used for A = X·Xᵀ and for A·A = A·Aᵀ (A symmetric): two of the three
// products of a Newton–Schulz step at half their FLOPs. Same vec4 register blocking as
// shaders/matmul_vec4.wgsl; aligned shapes only (M, K, offsets, batch strides ≡ 0 mod 4).
// With β ≠ 0 the mirrored write reads C at the mirrored place: C must be symmetric (it is: a copy of A).

struct GramParams {
  M: u32,              // C is M×M
  K: u32,              // the inner dimension
  batch: u32,
  tiles: u32,          // T = ceil(M / 32)
  offsetX: u32,
  batchStrideX: u32,
  offsetC: u32,
  batchStrideC: u32,
  alpha: f32,
  beta: f32,
}

override TRANS: bool = false;

@group(0) @binding(8) var<storage, read> gx: array<vec4<f32>>;
@group(0) @binding(9) var<storage, read_write> gc: array<vec4<f32>>;
@group(0) @binding(10) var<uniform> gram: GramParams;

@compute @workgroup_size(8, 8, 1)
fn ns_gram_vec4(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  // Upper-triangular tile (tr, tc), tr ≤ tc, from the linear index wg.x (row-major over the triangle).
  var p = wg.x;
  var tr = 0u;
  var rowLength = gram.tiles;
  loop {
    if (p < rowLength || rowLength == 0u) {
      break;
    }
    p = p - rowLength;
    tr = tr + 1u;
    rowLength = rowLength - 1u;
  }
  let tc = tr + p;
  let m0 = tr * 32u + lid.y * 4u;
  let n0 = tc * 32u + lid.x * 4u;
  let batch = wg.z;
  if (m0 >= gram.M || n0 >= gram.M || batch >= gram.batch || (tr == tc && m0 > n0)) {
    return;
  }
  let base = (gram.offsetX + batch * gram.batchStrideX) / 4u;
  let baseC = (gram.offsetC + batch * gram.batchStrideC) / 4u;
  var acc = mat4x4<f32>();
  for (var k = 0u; k < gram.K; k = k + 4u) {
    var av: mat4x4<f32>;
    var bv: mat4x4<f32>;
    if (TRANS) {
      // X is K×M: op(A) = Xᵀ, op(B) = X.
      let row = gram.M / 4u;
      let pa = base + k * row + m0 / 4u;
      av = transpose(mat4x4<f32>(gx[pa], gx[pa + row], gx[pa + 2u * row], gx[pa + 3u * row]));
      let pb = base + k * row + n0 / 4u;
      bv = mat4x4<f32>(gx[pb], gx[pb + row], gx[pb + 2u * row], gx[pb + 3u * row]);
    } else {
      // X is M×K: op(A) = X, op(B) = Xᵀ.
      let row = gram.K / 4u;
      let pa = base + m0 * row + k / 4u;
      av = mat4x4<f32>(gx[pa], gx[pa + row], gx[pa + 2u * row], gx[pa + 3u * row]);
      let pb = base + n0 * row + k / 4u;
      bv = transpose(mat4x4<f32>(gx[pb], gx[pb + row], gx[pb + 2u * row], gx[pb + 3u * row]));
    }
    acc = acc + bv * av;
  }
  // acc[i] = C[m0 + i, n0 .. n0 + 3]; its transpose's column j is C[n0 + j, m0 .. m0 + 3].
  let rowC = gram.M / 4u;
  for (var i = 0u; i < 4u; i = i + 1u) {
    let q = baseC + (m0 + i) * rowC + n0 / 4u;
    var v = gram.alpha * acc[i];
    if (gram.beta != 0.0) {
      v = v + gram.beta * gc[q];
    }
    gc[q] = v;
  }
  if (m0 != n0) {
    let t = transpose(acc);
    for (var j = 0u; j < 4u; j = j + 1u) {
      let q = baseC + (n0 + j) * rowC + m0 / 4u;
      var v = gram.alpha * t[j];
      if (gram.beta != 0.0) {
        v = v + gram.beta * gc[q];
      }
      gc[q] = v;
    }
  }
}
