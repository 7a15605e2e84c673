// C = alpha * op(A) * op(B) + beta * C, batched — same contract, uniform layout and overrides as
// shaders/matmul/matmul.wgsl (any M, N, K ≥ 1, any offsets and batch strides, beta == 0 never reads C).
//
// matmul_register_blocked_16x16: no workgroup memory, no barriers; each invocation computes a 16×16
// block of C, held as a 4×4 grid of mat4x4 accumulators (cGH: rows 4G..4G+3, columns 4H..4H+3;
// column i of a matrix is row 4G+i of C).
//
// Why so large a block: on a CPU-emulated adapter (SwiftShader) an invocation is one lane of a
// 4-wide SIMD register, and every storage-buffer read whose address differs per lane is a gather —
// ~20–25 CPU cycles for the 4 lanes (estimated from a loads-only copy of the 4×4 vec4 kernel, which
// took ~90% of the full kernel's time), against about one for a 4-wide fused multiply-add. Per k,
// a 4×4 block reads 8 values for 16 multiply-adds, a 16×16 block 32 for 256: 4× fewer gathers per
// FLOP. Its 256 accumulators do not fit in registers, but a spill is a plain vector load/store to
// the stack, far cheaper than the gather it saves.
//
// What keeps it fast on SwiftShader (each measured, see bench/README.md):
//   - accumulators and operands are named values indexed by constants only (a struct of matrices,
//     not an array): a dynamically indexed local array lives in memory and is gathered per lane;
//   - no bounds checks in the k-loop: rows and columns are clamped into the matrix once (an
//     out-of-range row re-reads the last valid one), and only the stores are checked;
//   - the loop body is straight-line: one 4-deep step written out as four rank-1 updates; K mod 4
//     is finished one k at a time;
//   - scalar array<f32> bindings: a vec4 load costs 4 gathers on SwiftShader anyway (measured equal
//     speed), and scalar addressing takes unaligned shapes, offsets and strides.
// Multiply-adds are fma(), one rounding each, summed over k in order: inside the γ_K bound of the
// check suite (src/kernels/matmul/check.ts) like every other order.

//#import lib/matmul_blocked_access.wgsl
//#import lib/matmul_epilogue.wgsl

// The 16×16 accumulator block of one invocation: cGH covers rows 4G..4G+3, columns 4H..4H+3.
// A struct of named matrices, not an array: only constant member accesses, so every accumulator
// stays a value (a dynamically indexed local array would live in memory and be gathered per lane).
struct Tile {
  c00: mat4x4<f32>, c01: mat4x4<f32>, c02: mat4x4<f32>, c03: mat4x4<f32>,
  c10: mat4x4<f32>, c11: mat4x4<f32>, c12: mat4x4<f32>, c13: mat4x4<f32>,
  c20: mat4x4<f32>, c21: mat4x4<f32>, c22: mat4x4<f32>, c23: mat4x4<f32>,
  c30: mat4x4<f32>, c31: mat4x4<f32>, c32: mat4x4<f32>, c33: mat4x4<f32>,
}

// The tile's 16 blocks, stored one per loop iteration. Every element store is bounds-checked (and
// reads C when beta != 0); written out 256 times that branchy code made pipeline compilation take
// 4–5 s, as a loop the whole kernel compiles in ~1 s. The copy into a dynamically indexed local
// array costs 256 stack reads per invocation: not measurable next to the k-loop.
fn storeTile(base: u32, m0: u32, n0: u32, t: Tile) {
  let blocks = array<mat4x4<f32>, 16>(
    t.c00, t.c01, t.c02, t.c03, t.c10, t.c11, t.c12, t.c13,
    t.c20, t.c21, t.c22, t.c23, t.c30, t.c31, t.c32, t.c33,
  );
  for (var g = 0u; g < 16u; g = g + 1u) {
    storeBlock(base, m0 + 4u * (g / 4u), n0 + 4u * (g % 4u), blocks[g]);
  }
}

// Row parts of the invocation's 16 A rows (4 per vec4) and column parts of its 16 B columns.
struct Operands {
  ra0: vec4<u32>, ra1: vec4<u32>, ra2: vec4<u32>, ra3: vec4<u32>,
  cb0: vec4<u32>, cb1: vec4<u32>, cb2: vec4<u32>, cb3: vec4<u32>,
}

// One k: a rank-1 update of the tile from 16 A values (a column) and 16 B values (a row) — 32
// loads for 256 multiply-adds.
fn step1(t: Tile, o: Operands, k: u32) -> Tile {
  let a0 = columnA(o.ra0, k); let a1 = columnA(o.ra1, k); let a2 = columnA(o.ra2, k); let a3 = columnA(o.ra3, k);
  let b0 = rowB(o.cb0, k); let b1 = rowB(o.cb1, k); let b2 = rowB(o.cb2, k); let b3 = rowB(o.cb3, k);
  return Tile(
    rank1(t.c00, a0, b0), rank1(t.c01, a0, b1), rank1(t.c02, a0, b2), rank1(t.c03, a0, b3),
    rank1(t.c10, a1, b0), rank1(t.c11, a1, b1), rank1(t.c12, a1, b2), rank1(t.c13, a1, b3),
    rank1(t.c20, a2, b0), rank1(t.c21, a2, b1), rank1(t.c22, a2, b2), rank1(t.c23, a2, b3),
    rank1(t.c30, a3, b0), rank1(t.c31, a3, b1), rank1(t.c32, a3, b2), rank1(t.c33, a3, b3),
  );
}

// Four k's as four rank-1 updates (every accumulator once per k). Grouping the same multiply-adds
// into 4×4-block products instead measured the same here and ~20% slower in the quad kernel.
fn step4(t: Tile, o: Operands, k: u32) -> Tile {
  return step1(step1(step1(step1(t, o, k), o, k + 1u), o, k + 2u), o, k + 3u);
}

// Four invocations per workgroup, stacked along M: a workgroup covers 64 rows × 16 columns. Small
// workgroups keep both CPU cores busy on small and skinny products (a workgroup runs on one thread).
@compute @workgroup_size(4, 1, 1)
fn matmul_register_blocked_16x16(@builtin(local_invocation_id) lid: vec3<u32>,
                                 @builtin(workgroup_id) wid: vec3<u32>) {
  let m0 = wid.y * 64u + lid.x * 16u;
  let n0 = wid.x * 16u;
  let batch = wid.z;
  let bases = operandBases(batch);
  let baseA = bases.x;
  let baseB = bases.y;
  let baseC = bases.z;
  let o = Operands(
    rowPartsA(baseA, m0), rowPartsA(baseA, m0 + 4u), rowPartsA(baseA, m0 + 8u), rowPartsA(baseA, m0 + 12u),
    colPartsB(baseB, n0), colPartsB(baseB, n0 + 4u), colPartsB(baseB, n0 + 8u), colPartsB(baseB, n0 + 12u),
  );
  var t: Tile;
  var k = 0u;
  // One 4-deep step per iteration. Two written out (k-step 8) measured the same speed and took 4×
  // the compile time (2.4 s); a loop over single k's is ~1.3× slower (every back edge merges all 256
  // accumulators).
  for (; k + 4u <= params.K; k = k + 4u) {
    t = step4(t, o, k);
  }
  for (; k < params.K; k = k + 1u) {
    t = step1(t, o, k);
  }
  storeTile(baseC, m0, n0, t);
}
