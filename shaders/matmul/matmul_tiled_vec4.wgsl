// C = α·op(A)·op(B) + β·C for aligned shapes (M, N, K, offsets, batch strides ≡ 0 mod 4) — the
// contract of shaders/lib/matmul_params.wgsl — in the shape real GPUs want: workgroup-memory tiles
// and vec4 global loads.
//
// matmul_workgroup_tiled_vec4: a 128×128 tile of C per 16×16 workgroup, K in slices of 8 staged
// through workgroup memory. Each invocation owns an 8×8 block of C (rows 4·ty..+3 and 64 + 4·ty..+3,
// columns 4·tx..+3 and 64 + 4·tx..+3: two vec4 apart by half a tile, so neighbouring invocations
// read neighbouring workgroup-memory words and store neighbouring vec4s of C). Per k of a slice it
// reads 2 + 2 vec4 from workgroup memory for 64 multiply-adds; each slice's global loads are one vec4
// of A and one of B per invocation, issued for the next slice before the current one is consumed
// (register prefetch), so the loads overlap the arithmetic. Workgroup memory: 2 × 8 × 128 floats =
// 8 KiB, inside WebGPU's default 16 KiB limit.
//
// gram_symmetric_tiled_vec4: the same tile product launched only on the 128×128 tiles on or above the
// diagonal of a symmetric result (X·Xᵀ, Xᵀ·X, S·S for symmetric S); an off-diagonal tile is stored at
// its place and mirrored (src/kernels/matmul/symmetricGram.ts).
//
// On a CPU adapter (SwiftShader) each workgroupBarrier is a coroutine switch of 256 invocations and
// this design is slow (bench/README.md); the variant choice is measured per adapter.
//
// Multiply-adds are fma(), summed over k in order, so element (i, j) of a product with B = Aᵀ is the
// same fma chain as element (j, i) with the factors swapped: diagonal tiles come out exactly symmetric.

//#import lib/matmul_vec4_bindings.wgsl
//#import lib/matmul_block8x8.wgsl
//#import lib/matmul_symmetric.wgsl

const TILE: u32 = 128u;
const TILE_K: u32 = 8u;
// vec4s across one 128-wide row of a tile.
const TILE_QUADS: u32 = 32u;

// One slice of the tiles, k-major: tileA[kk·32 + q] = op(A)[m0 + 4q .. 4q + 3, k0 + kk],
// tileB[kk·32 + q] = op(B)[k0 + kk, n0 + 4q .. 4q + 3].
var<workgroup> tileA: array<vec4<f32>, 256>;
var<workgroup> tileB: array<vec4<f32>, 256>;

// An invocation's share of one slice: one vec4 of A and one of B, as loaded from global memory.
struct SliceLoad {
  av: vec4<f32>,
  bv: vec4<f32>,
}

// Where the invocation's vec4 of a slice sits in its tile. A vec4 runs along the stored rows: along
// k for A (M×K) and Bᵀ (N×K), along m or n for Aᵀ (K×M) and B (K×N). Slice element (row, kQuad) for
// the k-contiguous forms: 128 rows × 2 vec4; (kk, quad) for the others: 8 k's × 32 vec4.
fn loadA(baseA4: u32, m0: u32, k0: u32, t: u32) -> vec4<f32> {
  if (TRANS_A) {
    let k = k0 + t / TILE_QUADS;
    let m = m0 + 4u * (t % TILE_QUADS);
    if (k >= params.K || m >= params.M) {
      return vec4<f32>();
    }
    return a[baseA4 + k * (params.M / 4u) + m / 4u];
  }
  let m = m0 + t / 2u;
  let k = k0 + 4u * (t % 2u);
  if (k >= params.K || m >= params.M) {
    return vec4<f32>();
  }
  return a[baseA4 + m * (params.K / 4u) + k / 4u];
}

fn loadB(baseB4: u32, n0: u32, k0: u32, t: u32) -> vec4<f32> {
  if (TRANS_B) {
    let n = n0 + t / 2u;
    let k = k0 + 4u * (t % 2u);
    if (k >= params.K || n >= params.N) {
      return vec4<f32>();
    }
    return b[baseB4 + n * (params.K / 4u) + k / 4u];
  }
  let k = k0 + t / TILE_QUADS;
  let n = n0 + 4u * (t % TILE_QUADS);
  if (k >= params.K || n >= params.N) {
    return vec4<f32>();
  }
  return b[baseB4 + k * (params.N / 4u) + n / 4u];
}

// A vec4 along k (rows of A, or of Bᵀ) lands in four k-rows of the k-major tile, one component each.
fn storeAlongK(isA: bool, t: u32, v: vec4<f32>) {
  let row = t / 2u;
  let kq = 4u * (t % 2u);
  let q = row / 4u;
  let lane = row % 4u;
  for (var j = 0u; j < 4u; j = j + 1u) {
    let slot = (kq + j) * TILE_QUADS + q;
    if (isA) {
      tileA[slot][lane] = v[j];
    } else {
      tileB[slot][lane] = v[j];
    }
  }
}

fn storeSlice(s: SliceLoad, t: u32) {
  if (TRANS_A) {
    tileA[t] = s.av;
  } else {
    storeAlongK(true, t, s.av);
  }
  if (TRANS_B) {
    storeAlongK(false, t, s.bv);
  } else {
    tileB[t] = s.bv;
  }
}

// The invocation's 8×8 block (lib/matmul_block8x8.wgsl): block row R is C's row 4·ty + R for R < 4
// and 64 + 4·ty + R − 4 after; half H covers columns 4·tx..+3 (H = 0) and 64 + 4·tx..+3 (H = 1).

// One k of the slice, read from workgroup memory.
fn rank1FromTiles(acc: Block8x8, kk: u32, tx: u32, ty: u32) -> Block8x8 {
  return rank1Block8x8(acc, tileA[kk * TILE_QUADS + ty], tileA[kk * TILE_QUADS + 16u + ty],
                       tileB[kk * TILE_QUADS + tx], tileB[kk * TILE_QUADS + 16u + tx]);
}

// The 128×128 tile of product `batch` at rows m0.., columns n0.., over all of K; this invocation's
// 8×8 block of it. Every invocation of the workgroup must call it (barriers inside).
fn tileProduct(batch: u32, m0: u32, n0: u32, lid: vec3<u32>) -> Block8x8 {
  let bases = operandBases(batch) / 4u;
  let t = lid.y * 16u + lid.x;
  var s = SliceLoad(loadA(bases.x, m0, 0u, t), loadB(bases.y, n0, 0u, t));
  var acc: Block8x8;
  // The loop bound and the prefetch condition depend on uniforms only: the barriers are reached by
  // the whole workgroup together.
  for (var k0 = 0u; k0 < params.K; k0 = k0 + TILE_K) {
    storeSlice(s, t);
    workgroupBarrier();
    if (k0 + TILE_K < params.K) {
      s = SliceLoad(loadA(bases.x, m0, k0 + TILE_K, t), loadB(bases.y, n0, k0 + TILE_K, t));
    }
    for (var kk = 0u; kk < TILE_K; kk = kk + 1u) {
      acc = rank1FromTiles(acc, kk, lid.x, lid.y);
    }
    workgroupBarrier();
  }
  return acc;
}

// C[m, n..n+3] = α·v + β·C[m, n..n+3], skipped outside the matrix (N ≡ 0 mod 4: a vec4 is wholly
// inside or outside). C is read only when β ≠ 0.
fn storeQuad(baseC4: u32, m: u32, n: u32, v: vec4<f32>) {
  if (m >= params.M || n >= params.N) {
    return;
  }
  let i = baseC4 + m * (params.N / 4u) + n / 4u;
  var out = params.alpha * v;
  if (params.beta != 0.0) {
    out = out + params.beta * c[i];
  }
  c[i] = out;
}

fn storeBlock(baseC4: u32, m0: u32, n0: u32, acc: Block8x8, tx: u32, ty: u32) {
  let r = m0 + 4u * ty;
  let q0 = n0 + 4u * tx;
  let q1 = q0 + 64u;
  storeQuad(baseC4, r, q0, acc.r0h0); storeQuad(baseC4, r, q1, acc.r0h1);
  storeQuad(baseC4, r + 1u, q0, acc.r1h0); storeQuad(baseC4, r + 1u, q1, acc.r1h1);
  storeQuad(baseC4, r + 2u, q0, acc.r2h0); storeQuad(baseC4, r + 2u, q1, acc.r2h1);
  storeQuad(baseC4, r + 3u, q0, acc.r3h0); storeQuad(baseC4, r + 3u, q1, acc.r3h1);
  storeQuad(baseC4, r + 64u, q0, acc.r4h0); storeQuad(baseC4, r + 64u, q1, acc.r4h1);
  storeQuad(baseC4, r + 65u, q0, acc.r5h0); storeQuad(baseC4, r + 65u, q1, acc.r5h1);
  storeQuad(baseC4, r + 66u, q0, acc.r6h0); storeQuad(baseC4, r + 66u, q1, acc.r6h1);
  storeQuad(baseC4, r + 67u, q0, acc.r7h0); storeQuad(baseC4, r + 67u, q1, acc.r7h1);
}

// The block stored transposed: element (i, j) of the block goes to C[j, i]. Component j of four
// consecutive block rows (v0..v3, rows r..r+3) is a vec4 of C's row col + j.
fn storeQuadsMirrored(baseC4: u32, col: u32, r: u32, v0: vec4<f32>, v1: vec4<f32>, v2: vec4<f32>, v3: vec4<f32>) {
  for (var j = 0u; j < 4u; j = j + 1u) {
    storeQuad(baseC4, col + j, r, vec4<f32>(v0[j], v1[j], v2[j], v3[j]));
  }
}

fn storeBlockMirrored(baseC4: u32, m0: u32, n0: u32, acc: Block8x8, tx: u32, ty: u32) {
  let r = m0 + 4u * ty;
  let q0 = n0 + 4u * tx;
  let q1 = q0 + 64u;
  storeQuadsMirrored(baseC4, q0, r, acc.r0h0, acc.r1h0, acc.r2h0, acc.r3h0);
  storeQuadsMirrored(baseC4, q1, r, acc.r0h1, acc.r1h1, acc.r2h1, acc.r3h1);
  storeQuadsMirrored(baseC4, q0, r + 64u, acc.r4h0, acc.r5h0, acc.r6h0, acc.r7h0);
  storeQuadsMirrored(baseC4, q1, r + 64u, acc.r4h1, acc.r5h1, acc.r6h1, acc.r7h1);
}

@compute @workgroup_size(16, 16, 1)
fn matmul_workgroup_tiled_vec4(@builtin(local_invocation_id) lid: vec3<u32>,
                               @builtin(workgroup_id) wid: vec3<u32>) {
  let m0 = wid.y * TILE;
  let n0 = wid.x * TILE;
  let acc = tileProduct(wid.z, m0, n0, lid);
  storeBlock(operandBases(wid.z).z / 4u, m0, n0, acc, lid.x, lid.y);
}

// Dispatch: [T·(T + 1)/2, 1, batch], T = ceil(M / 128). With β ≠ 0 the mirrored store reads C at
// the mirrored place: C must be symmetric too (Newton–Schulz passes a copy of A).
@compute @workgroup_size(16, 16, 1)
fn gram_symmetric_tiled_vec4(@builtin(local_invocation_id) lid: vec3<u32>,
                             @builtin(workgroup_id) wid: vec3<u32>) {
  let tile = upperTriangleTile(wid.x, (params.M + TILE - 1u) / TILE);
  let m0 = tile.x * TILE;
  let n0 = tile.y * TILE;
  let acc = tileProduct(wid.z, m0, n0, lid);
  let baseC4 = operandBases(wid.z).z / 4u;
  storeBlock(baseC4, m0, n0, acc, lid.x, lid.y);
  if (tile.x != tile.y) {
    storeBlockMirrored(baseC4, m0, n0, acc, lid.x, lid.y);
  }
}
