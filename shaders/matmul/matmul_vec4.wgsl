// C = alpha * op(A) * op(B) + beta * C for aligned shapes: M, N, K, every offset and batch stride a
// multiple of 4 (src/kernels/matmul/ checks this before choosing it). Same contract and uniform
// layout as every matmul (shaders/lib/matmul_params.wgsl); the operands are read as vec4 rows and
// nothing is bounds-checked inside the loop, which is what makes it fast on CPU-emulated adapters.
//
// Each invocation computes a 4×4 block of C. A 4×4 block of each operand is four vec4 loads along
// its stored rows; a transposed operand is loaded the same way and flipped with transpose(), which
// costs a few register moves, not memory traffic.

//#import lib/matmul_vec4_bindings.wgsl

@compute @workgroup_size(8, 8, 1)
fn matmul_register_blocked_vec4(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n0 = gid.x * 4u;
  let m0 = gid.y * 4u;
  let batch = gid.z;
  if (m0 >= params.M || n0 >= params.N || batch >= params.batch) {
    return;
  }
  // Everything below is in vec4 units.
  let bases = operandBases(batch) / 4u;
  let baseA = bases.x;
  let baseB = bases.y;
  let baseC = bases.z;
  let rowC = params.N / 4u;
  var acc = mat4x4<f32>();
  for (var k = 0u; k < params.K; k = k + 4u) {
    // av's column i must be op(A)[m0+i, k..k+3]; bv's column j must be op(B)[k+j, n0..n0+3].
    var av: mat4x4<f32>;
    if (TRANS_A) {
      let rowA = params.M / 4u;
      let p = baseA + k * rowA + m0 / 4u;
      av = transpose(mat4x4<f32>(a[p], a[p + rowA], a[p + 2u * rowA], a[p + 3u * rowA]));
    } else {
      let rowA = params.K / 4u;
      let p = baseA + m0 * rowA + k / 4u;
      av = mat4x4<f32>(a[p], a[p + rowA], a[p + 2u * rowA], a[p + 3u * rowA]);
    }
    var bv: mat4x4<f32>;
    if (TRANS_B) {
      let rowB = params.K / 4u;
      let p = baseB + n0 * rowB + k / 4u;
      bv = transpose(mat4x4<f32>(b[p], b[p + rowB], b[p + 2u * rowB], b[p + 3u * rowB]));
    } else {
      let rowB = params.N / 4u;
      let p = baseB + k * rowB + n0 / 4u;
      bv = mat4x4<f32>(b[p], b[p + rowB], b[p + 2u * rowB], b[p + 3u * rowB]);
    }
    acc = acc + bv * av;
  }
  for (var i = 0u; i < 4u; i = i + 1u) {
    let p = baseC + (m0 + i) * rowC + n0 / 4u;
    var v = params.alpha * acc[i];
    if (params.beta != 0.0) {
      v = v + params.beta * c[p];
    }
    c[p] = v;
  }
}
