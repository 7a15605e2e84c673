// C = alpha * op(A) * op(B) + beta * C, batched: one matrix product per workgroup z.
//
// Shapes, offsets and batch strides are uniforms (one pipeline serves every shape); transposes are
// override constants (they change the inner loop's addressing, so they are compiled in).
// op(A) is M×K, op(B) is K×N, C is M×N, all row-major. A stored transposed is K×M, B is N×K.
// A batch stride of 0 shares one operand across the whole batch.
// beta == 0 never reads C (BLAS convention): C may hold garbage or NaN on entry.
//
// Two variants live here, sharing bindings so they share a bind group layout:
//   matmul_register_blocked — no workgroup memory, no barriers; each invocation computes a 4×4
//     block of C from 4×4 blocks of A and B held in registers (as mat4x4, so the update is one
//     matrix product). On CPU-emulated adapters (SwiftShader) barriers are coroutine switches and
//     this wins by ~10×.
//   matmul_workgroup_tiled — the classic GPU design: a 64×64 tile of C per 16×16 workgroup, K in
//     slices of 16 staged through workgroup memory, 4×4 outputs per invocation.
// Both handle any M, N, K ≥ 1: loads outside the matrix read 0, stores outside are skipped.

struct MatmulParams {
  M: u32,
  N: u32,
  K: u32,
  batch: u32,
  offsetA: u32,
  offsetB: u32,
  offsetC: u32,
  batchStrideA: u32,
  batchStrideB: u32,
  batchStrideC: u32,
  alpha: f32,
  beta: f32,
}

override TRANS_A: bool = false;
override TRANS_B: bool = false;

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> params: MatmulParams;

// op(A)[m, k], 0 outside the matrix.
fn loadA(base: u32, m: u32, k: u32) -> f32 {
  if (m >= params.M || k >= params.K) {
    return 0.0;
  }
  if (TRANS_A) {
    return a[base + k * params.M + m];
  }
  return a[base + m * params.K + k];
}

// op(B)[k, n], 0 outside the matrix.
fn loadB(base: u32, k: u32, n: u32) -> f32 {
  if (k >= params.K || n >= params.N) {
    return 0.0;
  }
  if (TRANS_B) {
    return b[base + n * params.K + k];
  }
  return b[base + k * params.N + n];
}

fn storeC(base: u32, m: u32, n: u32, product: f32) {
  if (m >= params.M || n >= params.N) {
    return;
  }
  let i = base + m * params.N + n;
  var v = params.alpha * product;
  if (params.beta != 0.0) {
    v = v + params.beta * c[i];
  }
  c[i] = v;
}

@compute @workgroup_size(8, 8, 1)
fn matmul_register_blocked(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n0 = gid.x * 4u;
  let m0 = gid.y * 4u;
  let batch = gid.z;
  if (m0 >= params.M || n0 >= params.N || batch >= params.batch) {
    return;
  }
  let baseA = params.offsetA + batch * params.batchStrideA;
  let baseB = params.offsetB + batch * params.batchStrideB;
  let baseC = params.offsetC + batch * params.batchStrideC;
  // acc[i] is row m0+i of the C block (columns n0..n0+3). With av's column i = op(A)[m0+i, k..k+3]
  // and bv's column j = op(B)[k+j, n0..n0+3], the block update C += A·B is acc += bv·av.
  var acc = mat4x4<f32>();
  for (var k = 0u; k < params.K; k = k + 4u) {
    var av: mat4x4<f32>;
    var bv: mat4x4<f32>;
    for (var i = 0u; i < 4u; i = i + 1u) {
      av[i] = vec4<f32>(loadA(baseA, m0 + i, k), loadA(baseA, m0 + i, k + 1u),
                        loadA(baseA, m0 + i, k + 2u), loadA(baseA, m0 + i, k + 3u));
      bv[i] = vec4<f32>(loadB(baseB, k + i, n0), loadB(baseB, k + i, n0 + 1u),
                        loadB(baseB, k + i, n0 + 2u), loadB(baseB, k + i, n0 + 3u));
    }
    acc = acc + bv * av;
  }
  for (var i = 0u; i < 4u; i = i + 1u) {
    for (var j = 0u; j < 4u; j = j + 1u) {
      storeC(baseC, m0 + i, n0 + j, acc[i][j]);
    }
  }
}

const TILE: u32 = 64u;
const TILE_K: u32 = 16u;
// Staged slices, k-major: tileA[kk * TILE + mm] = op(A)[tileM + mm, k0 + kk], same for B over n.
var<workgroup> tileA: array<f32, 1024>;
var<workgroup> tileB: array<f32, 1024>;

@compute @workgroup_size(16, 16, 1)
fn matmul_workgroup_tiled(@builtin(local_invocation_id) lid: vec3<u32>,
                          @builtin(workgroup_id) wid: vec3<u32>) {
  let tileM = wid.y * TILE;
  let tileN = wid.x * TILE;
  let batch = wid.z;
  let thread = lid.y * 16u + lid.x;
  let baseA = params.offsetA + batch * params.batchStrideA;
  let baseB = params.offsetB + batch * params.batchStrideB;
  let baseC = params.offsetC + batch * params.batchStrideC;
  // Outputs of this invocation: rows tileM + lid.y + 16i, columns tileN + lid.x + 16j (strided so
  // neighbouring invocations read neighbouring workgroup-memory words).
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < params.K; k0 = k0 + TILE_K) {
    for (var r = 0u; r < 4u; r = r + 1u) {
      let e = thread + 256u * r;
      let kk = e / TILE;
      let mm = e % TILE;
      tileA[e] = loadA(baseA, tileM + mm, k0 + kk);
      tileB[e] = loadB(baseB, k0 + kk, tileN + mm);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TILE_K; kk = kk + 1u) {
      let row = kk * TILE;
      let av = vec4<f32>(tileA[row + lid.y], tileA[row + lid.y + 16u],
                         tileA[row + lid.y + 32u], tileA[row + lid.y + 48u]);
      let bv = vec4<f32>(tileB[row + lid.x], tileB[row + lid.x + 16u],
                         tileB[row + lid.x + 32u], tileB[row + lid.x + 48u]);
      for (var i = 0u; i < 4u; i = i + 1u) {
        acc[i] = acc[i] + av[i] * bv;
      }
    }
    workgroupBarrier();
  }
  if (batch >= params.batch) {
    return;
  }
  for (var i = 0u; i < 4u; i = i + 1u) {
    for (var j = 0u; j < 4u; j = j + 1u) {
      storeC(baseC, tileM + lid.y + 16u * i, tileN + lid.x + 16u * j, acc[i][j]);
    }
  }
}
