// C = alpha * op(A) * op(B) + beta * C, batched: one matrix product per workgroup z. The contract
// (shapes, transposes, batch strides, beta == 0) is shaders/lib/matmul_params.wgsl.
//
// Two variants live here, sharing bindings so they share a bind group layout:
//   matmul_register_blocked — no workgroup memory, no barriers; each invocation computes a 4×4
//     block of C from 4×4 blocks of A and B held in registers (as mat4x4, so the update is one
//     matrix product). On CPU-emulated adapters (SwiftShader) barriers are coroutine switches and
//     this wins by ~10×.
//   matmul_workgroup_tiled — the classic GPU design: a 64×64 tile of C per 16×16 workgroup, K in
//     slices of 16 staged through workgroup memory, 4×4 outputs per invocation.
// Both handle any M, N, K ≥ 1: loads outside the matrix read 0, stores outside are skipped.

//#import lib/matmul_epilogue.wgsl

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

@compute @workgroup_size(8, 8, 1)
fn matmul_register_blocked(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n0 = gid.x * 4u;
  let m0 = gid.y * 4u;
  let batch = gid.z;
  if (m0 >= params.M || n0 >= params.N || batch >= params.batch) {
    return;
  }
  let bases = operandBases(batch);
  let baseA = bases.x;
  let baseB = bases.y;
  let baseC = bases.z;
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
      storeElement(baseC, m0 + i, n0 + j, acc[i][j]);
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
  let bases = operandBases(batch);
  let baseA = bases.x;
  let baseB = bases.y;
  let baseC = bases.z;
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
      storeElement(baseC, tileM + lid.y + 16u * i, tileN + lid.x + 16u * j, acc[i][j]);
    }
  }
}
