enable subgroups;

// C = α·op(A)·op(B) + β·C, batched — the contract of shaders/lib/matmul_params.wgsl (any M, N, K ≥ 1,
// any offsets and batch strides, β = 0 never reads C). Needs the WebGPU "subgroups" feature
// (src/kernels/matmul/matmul.ts offers it only where present).
//
// matmul_subgroup_tiled: no workgroup memory, no barriers; a 32-invocation workgroup computes an
// 8-row × 256-column tile of C. Every invocation owns all 8 rows and 8 columns of them (4·l..+3 and
// 128 + 4·l..+3 for l = local_invocation_index: neighbouring invocations load and store neighbouring
// columns). All invocations need the same 8 rows of op(A), so the subgroup loads them once — for each
// 4-deep k step, lane r loads op(A)[row r, k..k+3] — and every lane takes the 8 rows with
// subgroupShuffle, instead of staging them through workgroup memory behind a barrier. Per 4-deep k
// step an invocation issues ≤ 2 A loads (vec4 of k), 8 vec4 shuffles and 32 B loads for 256
// multiply-adds.
//
// Correct for any subgroup size ≥ 4 (WebGPU's minimum) and any assignment of invocations to
// subgroups: the rows are the same for the whole workgroup, so whichever invocations share a
// subgroup, the lane a value is shuffled from holds the row asked for. With 4 lanes (SwiftShader)
// lanes 0..3 load rows 0..3 and 4..7; with ≥ 8 lanes, lane l loads row l mod 8.
//
// gram_symmetric_subgroup: the same tiles for a symmetric result (X·Xᵀ, Xᵀ·X, S·S for symmetric S),
// launched as a full grid whose tiles wholly below the diagonal return at once; a tile stores its
// elements on and above the diagonal and mirrors those above, so the result is exactly symmetric
// (src/kernels/matmul/symmetricGram.ts).
//
// Rows and columns are clamped into the matrix once (lib/matmul_blocked_access.wgsl), so the loop
// has no bounds checks and every invocation runs every shuffle; only the stores are checked.

//#import lib/matmul_blocked_access.wgsl
//#import lib/matmul_epilogue.wgsl
//#import lib/matmul_block8x8.wgsl

const TILE_ROWS: u32 = 8u;
const TILE_COLS: u32 = 256u;

// op(A)[row, k..k+3] for one row (its clamped row part): four consecutive k's.
fn rowOfA(rowPart: u32, k: u32) -> vec4<f32> {
  let s = kStrideA();
  return vec4<f32>(a[rowPart + k * s], a[rowPart + (k + 1u) * s], a[rowPart + (k + 2u) * s], a[rowPart + (k + 3u) * s]);
}

// The tile's A rows for k..k+3, from the lanes that loaded them: row r is in lane r (≥ 8 lanes), or
// for 4 lanes in lane r mod 4, first value (r < 4) or second (r ≥ 4). `few` (fewer than 8 lanes) is
// uniform, so every lane shuffles the same register.
struct RowsA {
  r0: vec4<f32>, r1: vec4<f32>, r2: vec4<f32>, r3: vec4<f32>,
  r4: vec4<f32>, r5: vec4<f32>, r6: vec4<f32>, r7: vec4<f32>,
}

fn shuffledRows(first: vec4<f32>, second: vec4<f32>, few: bool) -> RowsA {
  let upper = select(first, second, few);
  let shift = select(0u, 4u, few);
  return RowsA(
    subgroupShuffle(first, 0u), subgroupShuffle(first, 1u), subgroupShuffle(first, 2u), subgroupShuffle(first, 3u),
    subgroupShuffle(upper, 4u - shift), subgroupShuffle(upper, 5u - shift), subgroupShuffle(upper, 6u - shift), subgroupShuffle(upper, 7u - shift),
  );
}

// The invocation's block (lib/matmul_block8x8.wgsl): block row R is C's row m0 + R; half H covers
// columns n0 + 4·l..+3 (H = 0) and n0 + 128 + 4·l..+3 (H = 1).
fn subgroupTile(batch: u32, m0: u32, n0: u32, l: u32, lane: u32, lanes: u32) -> Block8x8 {
  let bases = operandBases(batch);
  let few = lanes < 8u;
  // The rows this lane loads for the subgroup (clamped like every row).
  let mine = m0 + select(lane % 8u, lane % 4u, few);
  let partFirst = rowPartsA(bases.x, mine).x;
  let partSecond = rowPartsA(bases.x, mine + 4u).x;
  let rowsLo = rowPartsA(bases.x, m0);
  let rowsHi = rowPartsA(bases.x, m0 + 4u);
  let colsLo = colPartsB(bases.y, n0 + 4u * l);
  let colsHi = colPartsB(bases.y, n0 + 128u + 4u * l);
  var acc: Block8x8;
  var k = 0u;
  // The loop bound depends on uniforms only: every lane reaches every shuffle.
  for (; k + 4u <= params.K; k = k + 4u) {
    let first = rowOfA(partFirst, k);
    var second = vec4<f32>();
    if (few) {
      second = rowOfA(partSecond, k);
    }
    let r = shuffledRows(first, second, few);
    acc = rank1Block8x8(acc, vec4(r.r0.x, r.r1.x, r.r2.x, r.r3.x), vec4(r.r4.x, r.r5.x, r.r6.x, r.r7.x), rowB(colsLo, k), rowB(colsHi, k));
    acc = rank1Block8x8(acc, vec4(r.r0.y, r.r1.y, r.r2.y, r.r3.y), vec4(r.r4.y, r.r5.y, r.r6.y, r.r7.y), rowB(colsLo, k + 1u), rowB(colsHi, k + 1u));
    acc = rank1Block8x8(acc, vec4(r.r0.z, r.r1.z, r.r2.z, r.r3.z), vec4(r.r4.z, r.r5.z, r.r6.z, r.r7.z), rowB(colsLo, k + 2u), rowB(colsHi, k + 2u));
    acc = rank1Block8x8(acc, vec4(r.r0.w, r.r1.w, r.r2.w, r.r3.w), vec4(r.r4.w, r.r5.w, r.r6.w, r.r7.w), rowB(colsLo, k + 3u), rowB(colsHi, k + 3u));
  }
  // K mod 4: every lane loads its A column itself, no shuffles.
  for (; k < params.K; k = k + 1u) {
    acc = rank1Block8x8(acc, columnA(rowsLo, k), columnA(rowsHi, k), rowB(colsLo, k), rowB(colsHi, k));
  }
  return acc;
}

fn storeTileBlock(baseC: u32, m0: u32, nLo: u32, nHi: u32, acc: Block8x8) {
  storeRow(baseC, m0, nLo, acc.r0h0); storeRow(baseC, m0, nHi, acc.r0h1);
  storeRow(baseC, m0 + 1u, nLo, acc.r1h0); storeRow(baseC, m0 + 1u, nHi, acc.r1h1);
  storeRow(baseC, m0 + 2u, nLo, acc.r2h0); storeRow(baseC, m0 + 2u, nHi, acc.r2h1);
  storeRow(baseC, m0 + 3u, nLo, acc.r3h0); storeRow(baseC, m0 + 3u, nHi, acc.r3h1);
  storeRow(baseC, m0 + 4u, nLo, acc.r4h0); storeRow(baseC, m0 + 4u, nHi, acc.r4h1);
  storeRow(baseC, m0 + 5u, nLo, acc.r5h0); storeRow(baseC, m0 + 5u, nHi, acc.r5h1);
  storeRow(baseC, m0 + 6u, nLo, acc.r6h0); storeRow(baseC, m0 + 6u, nHi, acc.r6h1);
  storeRow(baseC, m0 + 7u, nLo, acc.r7h0); storeRow(baseC, m0 + 7u, nHi, acc.r7h1);
}

@compute @workgroup_size(32, 1, 1)
fn matmul_subgroup_tiled(@builtin(local_invocation_index) l: u32,
                         @builtin(subgroup_invocation_id) lane: u32,
                         @builtin(subgroup_size) lanes: u32,
                         @builtin(workgroup_id) wid: vec3<u32>) {
  let m0 = wid.y * TILE_ROWS;
  let n0 = wid.x * TILE_COLS;
  let acc = subgroupTile(wid.z, m0, n0, l, lane, lanes);
  storeTileBlock(operandBases(wid.z).z, m0, n0 + 4u * l, n0 + 128u + 4u * l, acc);
}

// Elements on and above the diagonal of C (column ≥ row) are stored; those strictly above are also
// stored at the mirrored place. With β ≠ 0 the mirrored store reads C there: C must be symmetric.
fn storeUpperMirrored(baseC: u32, m: u32, n: u32, v: vec4<f32>) {
  for (var j = 0u; j < 4u; j = j + 1u) {
    let col = n + j;
    if (col >= m) {
      storeElement(baseC, m, col, v[j]);
    }
    if (col > m) {
      storeElement(baseC, col, m, v[j]);
    }
  }
}

fn storeTileBlockUpper(baseC: u32, m0: u32, nLo: u32, nHi: u32, acc: Block8x8) {
  storeUpperMirrored(baseC, m0, nLo, acc.r0h0); storeUpperMirrored(baseC, m0, nHi, acc.r0h1);
  storeUpperMirrored(baseC, m0 + 1u, nLo, acc.r1h0); storeUpperMirrored(baseC, m0 + 1u, nHi, acc.r1h1);
  storeUpperMirrored(baseC, m0 + 2u, nLo, acc.r2h0); storeUpperMirrored(baseC, m0 + 2u, nHi, acc.r2h1);
  storeUpperMirrored(baseC, m0 + 3u, nLo, acc.r3h0); storeUpperMirrored(baseC, m0 + 3u, nHi, acc.r3h1);
  storeUpperMirrored(baseC, m0 + 4u, nLo, acc.r4h0); storeUpperMirrored(baseC, m0 + 4u, nHi, acc.r4h1);
  storeUpperMirrored(baseC, m0 + 5u, nLo, acc.r5h0); storeUpperMirrored(baseC, m0 + 5u, nHi, acc.r5h1);
  storeUpperMirrored(baseC, m0 + 6u, nLo, acc.r6h0); storeUpperMirrored(baseC, m0 + 6u, nHi, acc.r6h1);
  storeUpperMirrored(baseC, m0 + 7u, nLo, acc.r7h0); storeUpperMirrored(baseC, m0 + 7u, nHi, acc.r7h1);
}

// Dispatch: [ceil(M / 256), ceil(M / 8), batch].
@compute @workgroup_size(32, 1, 1)
fn gram_symmetric_subgroup(@builtin(local_invocation_index) l: u32,
                           @builtin(subgroup_invocation_id) lane: u32,
                           @builtin(subgroup_size) lanes: u32,
                           @builtin(workgroup_id) wid: vec3<u32>) {
  let m0 = wid.y * TILE_ROWS;
  let n0 = wid.x * TILE_COLS;
  // The whole workgroup leaves together (its id is uniform): no shuffle is left half-attended.
  if (n0 + TILE_COLS <= m0) {
    return;
  }
  let acc = subgroupTile(wid.z, m0, n0, l, lane, lanes);
  storeTileBlockUpper(operandBases(wid.z).z, m0, n0 + 4u * l, n0 + 128u + 4u * l, acc);
}
