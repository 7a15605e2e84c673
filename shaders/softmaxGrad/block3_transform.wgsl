// block3_transform: Y = (I ⊗ L) · X · (I ⊗ Q)ᵀ for n×n matrices (n divisible by 3), batched over
// runs: Y[3p+a, 3s+b] = Σ_{a',b'} L[a][a'] · X[3p+a', 3s+b'] · Q[b][b']. One invocation per entry.
// X of run r starts at srcOffset + r·srcStride, Y at dstOffset + r·dstStride (views of W or G).

//#import lib/linear_invocation.wgsl

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

@compute @workgroup_size(64, 1, 1)
fn block3_transform(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let flat = linear_invocation(gid, groups);
  let n = blocks.n;
  if (flat >= n * n * blocks.runs) {
    return;
  }
  let run = flat / (n * n);
  let rc = flat - run * n * n;
  let row = rc / n;
  let col = rc - row * n;
  let a = row % 3u;
  let b = col % 3u;
  let r0 = row - a;
  let c0 = col - b;
  let L = mat3x3<f32>(
    vec3<f32>(blocks.l00, blocks.l10, blocks.l20),
    vec3<f32>(blocks.l01, blocks.l11, blocks.l21),
    vec3<f32>(blocks.l02, blocks.l12, blocks.l22));
  let Q = mat3x3<f32>(
    vec3<f32>(blocks.q00, blocks.q10, blocks.q20),
    vec3<f32>(blocks.q01, blocks.q11, blocks.q21),
    vec3<f32>(blocks.q02, blocks.q12, blocks.q22));
  let base = blocks.srcOffset + run * blocks.srcStride;
  var y = 0.0;
  for (var a2 = 0u; a2 < 3u; a2++) {
    var inner = 0.0;
    for (var b2 = 0u; b2 < 3u; b2++) {
      inner += block_src[base + (r0 + a2) * n + c0 + b2] * Q[b2][b];
    }
    y += L[a2][a] * inner;
  }
  block_dst[blocks.dstOffset + run * blocks.dstStride + rc] = y;
}
