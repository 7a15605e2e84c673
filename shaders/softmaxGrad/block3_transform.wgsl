// block3_transform: Y = (I ⊗ L) · X · (I ⊗ Q)ᵀ for n×n matrices (n divisible by 3), batched over
// runs: Y[3p+a, 3s+b] = Σ_{a',b'} L[a][a'] · X[3p+a', 3s+b'] · Q[b][b']. One invocation per 3×3 block
// (run, p, s): it reads the block's 9 entries once, forms X_blk·Qᵀ and then L·(X_blk·Qᵀ), and writes 9.
// X of run r starts at srcOffset + r·srcStride, Y at dstOffset + r·dstStride (views of W or G).
//
// Why per block: the first form (one invocation per entry) read each entry's whole 3×3 block — 9
// loads per entry, each a gather on a CPU adapter — indexed the 3×3 matrices dynamically (a local
// array in memory) and spent four integer divisions per entry; it ran at 0.03–0.08 GFLOP/s on
// SwiftShader (bench/README.md). Per block it is 1 load and 1 store per entry, and the block comes
// from the 3-D grid without an integer division.
// The sums run in the same order as before: X·Qᵀ over b' first, then L over a', left to right.
struct Block3Params {
  n: u32,
  runs: u32,
  l00: f32, l01: f32, l02: f32,
  l10: f32, l11: f32, l12: f32,
  l20: f32, l21: f32, l22: f32,
  q00: f32, q01: f32, q02: f32,
  q10: f32, q11: f32, q12: f32,
  q20: f32, q21: f32, q22: f32,
  srcOffset: u32,
  srcStride: u32,
  dstOffset: u32,
  dstStride: u32,
}

@group(0) @binding(0) var<storage, read> block_src: array<f32>;
@group(0) @binding(1) var<storage, read_write> block_dst: array<f32>;
@group(0) @binding(2) var<uniform> blocks: Block3Params;

// Row r of (I ⊗ L) applied to the three rows of T = X_blk·Qᵀ: l0·t0 + l1·t1 + l2·t2, left to right.
fn combineRows(l: vec3<f32>, t0: vec3<f32>, t1: vec3<f32>, t2: vec3<f32>) -> vec3<f32> {
  return l.x * t0 + l.y * t1 + l.z * t2;
}

// Grid: x = block column q, y = block row p, z = run — no divisions to find the block.
@compute @workgroup_size(16, 4, 1)
fn block3_transform(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = blocks.n;
  let side = n / 3u;
  let q = gid.x;
  let p = gid.y;
  let run = gid.z;
  if (q >= side || p >= side || run >= blocks.runs) {
    return;
  }
  let src = blocks.srcOffset + run * blocks.srcStride + 3u * p * n + 3u * q;
  let dst = blocks.dstOffset + run * blocks.dstStride + 3u * p * n + 3u * q;
  // Column j of Q as a vector over b: (Q[0][j], Q[1][j], Q[2][j]), so X_blk row · Qᵀ is
  // x0·qc0 + x1·qc1 + x2·qc2 (one row of T, over b).
  let qc0 = vec3<f32>(blocks.q00, blocks.q10, blocks.q20);
  let qc1 = vec3<f32>(blocks.q01, blocks.q11, blocks.q21);
  let qc2 = vec3<f32>(blocks.q02, blocks.q12, blocks.q22);
  let t0 = block_src[src] * qc0 + block_src[src + 1u] * qc1 + block_src[src + 2u] * qc2;
  let t1 = block_src[src + n] * qc0 + block_src[src + n + 1u] * qc1 + block_src[src + n + 2u] * qc2;
  let t2 = block_src[src + 2u * n] * qc0 + block_src[src + 2u * n + 1u] * qc1 + block_src[src + 2u * n + 2u] * qc2;
  let y0 = combineRows(vec3<f32>(blocks.l00, blocks.l01, blocks.l02), t0, t1, t2);
  let y1 = combineRows(vec3<f32>(blocks.l10, blocks.l11, blocks.l12), t0, t1, t2);
  let y2 = combineRows(vec3<f32>(blocks.l20, blocks.l21, blocks.l22), t0, t1, t2);
  block_dst[dst] = y0.x;
  block_dst[dst + 1u] = y0.y;
  block_dst[dst + 2u] = y0.z;
  block_dst[dst + n] = y1.x;
  block_dst[dst + n + 1u] = y1.y;
  block_dst[dst + n + 2u] = y1.z;
  block_dst[dst + 2u * n] = y2.x;
  block_dst[dst + 2u * n + 1u] = y2.y;
  block_dst[dst + 2u * n + 2u] = y2.z;
}
