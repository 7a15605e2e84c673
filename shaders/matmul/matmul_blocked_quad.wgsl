enable subgroups;

// C = alpha * op(A) * op(B) + beta * C, batched — same contract, uniform layout and overrides as
// shaders/matmul/matmul.wgsl (any M, N, K ≥ 1, any offsets and batch strides, beta == 0 never reads C).
// Needs the WebGPU "subgroups" feature (src/kernels/matmul/matmul.ts offers it only where present).
//
// matmul_register_blocked_quad: the barrier-free register-blocked design of
// shaders/matmul/matmul_blocked.wgsl (read its header first: on SwiftShader the cost is gathers, not
// multiply-adds), with the four invocations of a quad sharing their B loads. A workgroup is one quad
// stacked along M: invocation q computes rows 8q..8q+7 of a 32×32 block of C, and all four need the
// same 32 columns of op(B). Each loads one of the four B rows k..k+3 and takes the other three with
// quadBroadcast — on SwiftShader a quad is one 4-lane SIMD register, so that is a register shuffle.
//
// Per 4-deep k step an invocation reads 8×4 A values and 32 B values (64 gathers) for 8·32·4 = 1024
// multiply-adds. With B shared, a wide block beats a square one: 16×16 would read 64 + 16 = 80;
// measured, 8×32 ran ~10% faster than 16×16, and sharing A (quads along N) ~20% slower.
//
// Choices measured on SwiftShader (bench/README.md): the k-loop does two 4-deep steps per iteration
// (7–18% faster than one, for ~1.2 s of pipeline compilation against ~0.6 s); each step is four
// rank-1 updates with the A column loaded just before use (~20% faster than 4×4-block products);
// the store runs as a loop over the 16 blocks (written out it took ~4 s to compile).
//
// The lane within the quad is subgroup_invocation_id, not local_invocation_id: quadBroadcast(x, i)
// reads the invocation whose subgroup id is i (mod 4), so rows are assigned by that same id and the
// kernel is correct however an implementation numbers the invocations of a 4-wide workgroup.

//#import lib/matmul_blocked_access.wgsl
//#import lib/matmul_epilogue.wgsl
//#import lib/matmul_symmetric.wgsl

// Column kk = op(B)[k+kk, n..n+3]: this invocation loads row k+lane, the quad supplies the others.
// Must be called by all four invocations together (uniform control flow), with k + 3 < K.
fn sharedBlockB(cols: vec4<u32>, k: u32, lane: u32) -> mat4x4<f32> {
  let mine = rowB(cols, k + lane);
  return mat4x4<f32>(quadBroadcast(mine, 0u), quadBroadcast(mine, 1u), quadBroadcast(mine, 2u), quadBroadcast(mine, 3u));
}

// The 8×32 accumulator block: cGH covers rows 4G..4G+3, columns 4H..4H+3 (named members, constant
// accesses only, so they stay values).
struct Tile {
  c00: mat4x4<f32>, c01: mat4x4<f32>, c02: mat4x4<f32>, c03: mat4x4<f32>,
  c04: mat4x4<f32>, c05: mat4x4<f32>, c06: mat4x4<f32>, c07: mat4x4<f32>,
  c10: mat4x4<f32>, c11: mat4x4<f32>, c12: mat4x4<f32>, c13: mat4x4<f32>,
  c14: mat4x4<f32>, c15: mat4x4<f32>, c16: mat4x4<f32>, c17: mat4x4<f32>,
}

// The tile's 16 blocks, stored one per loop iteration. Every element store is bounds-checked (and
// reads C when beta != 0); written out 256 times that branchy code made pipeline compilation take
// 4–5 s, as a loop the whole kernel compiles in ~1 s. The copy into a dynamically indexed local
// array costs 256 stack reads per invocation: not measurable next to the k-loop.
fn storeTile(base: u32, m0: u32, n0: u32, t: Tile) {
  let blocks = array<mat4x4<f32>, 16>(
    t.c00, t.c01, t.c02, t.c03, t.c04, t.c05, t.c06, t.c07,
    t.c10, t.c11, t.c12, t.c13, t.c14, t.c15, t.c16, t.c17,
  );
  for (var g = 0u; g < 16u; g = g + 1u) {
    storeBlock(base, m0 + 4u * (g / 8u), n0 + 4u * (g % 8u), blocks[g]);
  }
}

struct Operands {
  ra0: vec4<u32>, ra1: vec4<u32>,
  cb0: vec4<u32>, cb1: vec4<u32>, cb2: vec4<u32>, cb3: vec4<u32>,
  cb4: vec4<u32>, cb5: vec4<u32>, cb6: vec4<u32>, cb7: vec4<u32>,
  lane: u32,
}

// One k: a rank-1 update of the tile from 8 A values and 32 B values.
fn rank1Tile(t: Tile, a0: vec4<f32>, a1: vec4<f32>, b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32>,
             b4: vec4<f32>, b5: vec4<f32>, b6: vec4<f32>, b7: vec4<f32>) -> Tile {
  return Tile(
    rank1(t.c00, a0, b0), rank1(t.c01, a0, b1), rank1(t.c02, a0, b2), rank1(t.c03, a0, b3),
    rank1(t.c04, a0, b4), rank1(t.c05, a0, b5), rank1(t.c06, a0, b6), rank1(t.c07, a0, b7),
    rank1(t.c10, a1, b0), rank1(t.c11, a1, b1), rank1(t.c12, a1, b2), rank1(t.c13, a1, b3),
    rank1(t.c14, a1, b4), rank1(t.c15, a1, b5), rank1(t.c16, a1, b6), rank1(t.c17, a1, b7),
  );
}

// k..k+3: the quad's shared B block first, then four rank-1 updates, each loading its A column
// just before use. Measured orderings: this one ~20% faster than 4×4-block products (mat4x4 ·
// mat4x4 per accumulator) and than loading every A value up front.
fn step4(t: Tile, o: Operands, k: u32) -> Tile {
  let b0 = sharedBlockB(o.cb0, k, o.lane); let b1 = sharedBlockB(o.cb1, k, o.lane);
  let b2 = sharedBlockB(o.cb2, k, o.lane); let b3 = sharedBlockB(o.cb3, k, o.lane);
  let b4 = sharedBlockB(o.cb4, k, o.lane); let b5 = sharedBlockB(o.cb5, k, o.lane);
  let b6 = sharedBlockB(o.cb6, k, o.lane); let b7 = sharedBlockB(o.cb7, k, o.lane);
  var r = rank1Tile(t, columnA(o.ra0, k), columnA(o.ra1, k), b0[0], b1[0], b2[0], b3[0], b4[0], b5[0], b6[0], b7[0]);
  r = rank1Tile(r, columnA(o.ra0, k + 1u), columnA(o.ra1, k + 1u), b0[1], b1[1], b2[1], b3[1], b4[1], b5[1], b6[1], b7[1]);
  r = rank1Tile(r, columnA(o.ra0, k + 2u), columnA(o.ra1, k + 2u), b0[2], b1[2], b2[2], b3[2], b4[2], b5[2], b6[2], b7[2]);
  return rank1Tile(r, columnA(o.ra0, k + 3u), columnA(o.ra1, k + 3u), b0[3], b1[3], b2[3], b3[3], b4[3], b5[3], b6[3], b7[3]);
}

// One k (the K mod 8 tail): every invocation loads the B row itself, no quad operations.
fn step1(t: Tile, o: Operands, k: u32) -> Tile {
  return rank1Tile(t, columnA(o.ra0, k), columnA(o.ra1, k), rowB(o.cb0, k), rowB(o.cb1, k), rowB(o.cb2, k), rowB(o.cb3, k),
                   rowB(o.cb4, k), rowB(o.cb5, k), rowB(o.cb6, k), rowB(o.cb7, k));
}

// The 32×32 block of C at rows m0.., columns n0.. (this lane: rows m0 + 8·lane …), over all of K.
fn productTile(baseA: u32, baseB: u32, rowBlock: u32, n0: u32, lane: u32) -> Tile {
  let m0 = rowBlock + lane * 8u;
  let o = Operands(
    rowPartsA(baseA, m0), rowPartsA(baseA, m0 + 4u),
    colPartsB(baseB, n0), colPartsB(baseB, n0 + 4u), colPartsB(baseB, n0 + 8u), colPartsB(baseB, n0 + 12u),
    colPartsB(baseB, n0 + 16u), colPartsB(baseB, n0 + 20u), colPartsB(baseB, n0 + 24u), colPartsB(baseB, n0 + 28u),
    lane,
  );
  var t: Tile;
  var k = 0u;
  // The loop condition depends on uniforms only, so all four invocations run every quadBroadcast.
  for (; k + 8u <= params.K; k = k + 8u) {
    t = step4(t, o, k);
    t = step4(t, o, k + 4u);
  }
  for (; k < params.K; k = k + 1u) {
    t = step1(t, o, k);
  }
  return t;
}

// One quad per workgroup: 32 rows × 32 columns of C.
@compute @workgroup_size(4, 1, 1)
fn matmul_register_blocked_quad(@builtin(subgroup_invocation_id) sid: u32,
                                @builtin(workgroup_id) wid: vec3<u32>) {
  let lane = sid & 3u;
  let n0 = wid.x * 32u;
  let rowBlock = wid.y * 32u;
  let batch = wid.z;
  let t = productTile(params.offsetA + batch * params.batchStrideA, params.offsetB + batch * params.batchStrideB, rowBlock, n0, lane);
  storeTile(params.offsetC + batch * params.batchStrideC, rowBlock + lane * 8u, n0, t);
}

// --- Symmetric products: C = α·op(A)·op(B) + β·C where the result is symmetric (M = N) ------------
//
// gram_symmetric_quad: the same kernel for products known to be symmetric — X·Xᵀ, Xᵀ·X (A and B
// the same matrix) and S·S for a symmetric S — as needed by Newton–Schulz (src/kernels/
// newtonSchulz.ts). Only the 32×32 tiles on or above the diagonal are launched (T·(T+1)/2 of T²
// workgroups per matrix, T = ceil(M/32)); an off-diagonal tile is stored at its place and mirrored.
// Element (i, j) and (j, i) of a diagonal tile are the same fma chain with the factors swapped, so
// the result is exactly symmetric. With β ≠ 0 the mirrored store reads C at the mirrored place:
// C must be symmetric too (Newton–Schulz passes a copy of A). Dispatch: [T·(T+1)/2, 1, batch].

fn storeTileMirrored(base: u32, m0: u32, n0: u32, t: Tile) {
  let blocks = array<mat4x4<f32>, 16>(
    t.c00, t.c01, t.c02, t.c03, t.c04, t.c05, t.c06, t.c07,
    t.c10, t.c11, t.c12, t.c13, t.c14, t.c15, t.c16, t.c17,
  );
  for (var g = 0u; g < 16u; g = g + 1u) {
    let b = transpose(blocks[g]);
    storeBlock(base, n0 + 4u * (g % 8u), m0 + 4u * (g / 8u), b);
  }
}

@compute @workgroup_size(4, 1, 1)
fn gram_symmetric_quad(@builtin(subgroup_invocation_id) sid: u32,
                       @builtin(workgroup_id) wid: vec3<u32>) {
  let lane = sid & 3u;
  let batch = wid.z;
  // Tile (tr, tc), tr ≤ tc, from the index over the upper triangle, row by row.
  let tile = upperTriangleTile(wid.x, (params.M + 31u) / 32u);
  let tr = tile.x;
  let tc = tile.y;
  let t = productTile(params.offsetA + batch * params.batchStrideA, params.offsetB + batch * params.batchStrideB, tr * 32u, tc * 32u, lane);
  let baseC = params.offsetC + batch * params.batchStrideC;
  storeTile(baseC, tr * 32u + lane * 8u, tc * 32u, t);
  if (tr != tc) {
    storeTileMirrored(baseC, tr * 32u + lane * 8u, tc * 32u, t);
  }
}
