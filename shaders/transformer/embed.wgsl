// Token + position embeddings and their gradients (src/kernels/transformer/, CPU twins in
// src/cpu/transformer.ts), batched over R replicas:
//
//   embed_forward   x[r, n, :] = E_r[tokens[r, n], :] + P_r[n mod T, :]   (a token ≥ V writes NaN,
//                                                                         as gather_rows does)
//   token_csr       per (r, v): the positions holding token v, ascending — a counting sort done by
//                   one invocation per vocabulary row (count the tokens < v, then list those = v), so
//                   the scatter-add below needs no atomics and sums in a fixed order
//   embed_backward  dE_r[v, :] = Σ over token v's positions (ascending) of dx[r, n, :]
//   pos_backward    dP_r[t, :] = Σ_b dx[r, b·T + t, :] (b ascending); rows t ≥ T are 0
//
// E, P, dE and dP are views into parameter or gradient slots (offset + r·stride); activations are
// contiguous [R, tokens, d]. One invocation per output element unless stated.

//#import lib/linear_invocation.wgsl

struct EmbedParams {
  replicas: u32,
  tokens: u32,
  seqLen: u32,
  dModel: u32,
  vocab: u32,
  maxSeqLen: u32,
  offsetTable: u32,
  strideTable: u32,
  offsetPos: u32,
  stridePos: u32,
}

@group(0) @binding(0) var<storage, read> emb_table: array<f32>;
@group(0) @binding(1) var<storage, read> emb_pos: array<f32>;
@group(0) @binding(2) var<storage, read> emb_tokens: array<u32>;
@group(0) @binding(3) var<storage, read_write> emb_out: array<f32>;
@group(0) @binding(4) var<uniform> emb: EmbedParams;

@compute @workgroup_size(64, 1, 1)
fn embed_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_invocation(gid, groups);
  let d = emb.dModel;
  if (i >= emb.replicas * emb.tokens * d) {
    return;
  }
  let k = i % d;
  let rn = i / d;
  let r = rn / emb.tokens;
  let n = rn - r * emb.tokens;
  let tok = emb_tokens[rn];
  if (tok >= emb.vocab) {
    let quietNan = 0x7fc00000u;
    emb_out[i] = bitcast<f32>(quietNan);
    return;
  }
  let t = n % emb.seqLen;
  emb_out[i] = emb_table[emb.offsetTable + r * emb.strideTable + tok * d + k] + emb_pos[emb.offsetPos + r * emb.stridePos + t * d + k];
}

struct CsrParams {
  replicas: u32,
  tokens: u32,
  vocab: u32,
}

@group(0) @binding(0) var<storage, read> csr_tokens: array<u32>;
@group(0) @binding(1) var<storage, read_write> csr_start: array<u32>;
@group(0) @binding(2) var<storage, read_write> csr_count: array<u32>;
@group(0) @binding(3) var<storage, read_write> csr_positions: array<u32>;
@group(0) @binding(4) var<uniform> csr: CsrParams;

// One invocation per (replica, token value): O(tokens) each, O(V·tokens) in all — small next to the
// model's matmuls at the sizes here, and deterministic.
@compute @workgroup_size(64, 1, 1)
fn token_csr(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_invocation(gid, groups);
  if (i >= csr.replicas * csr.vocab) {
    return;
  }
  let r = i / csr.vocab;
  let v = i - r * csr.vocab;
  let base = r * csr.tokens;
  var before = 0u;
  for (var n = 0u; n < csr.tokens; n++) {
    before += select(0u, 1u, csr_tokens[base + n] < v);
  }
  var count = 0u;
  for (var n = 0u; n < csr.tokens; n++) {
    if (csr_tokens[base + n] == v) {
      csr_positions[base + before + count] = n;
      count++;
    }
  }
  csr_start[i] = before;
  csr_count[i] = count;
}

struct EmbedGradParams {
  replicas: u32,
  tokens: u32,
  seqLen: u32,
  dModel: u32,
  vocab: u32,
  maxSeqLen: u32,
  offsetGrad: u32,
  strideGrad: u32,
}

@group(0) @binding(0) var<storage, read> eg_dx: array<f32>;
@group(0) @binding(1) var<storage, read> eg_start: array<u32>;
@group(0) @binding(2) var<storage, read> eg_count: array<u32>;
@group(0) @binding(3) var<storage, read> eg_positions: array<u32>;
@group(0) @binding(4) var<storage, read_write> eg_grad: array<f32>;
@group(0) @binding(5) var<uniform> eg: EmbedGradParams;

@compute @workgroup_size(64, 1, 1)
fn embed_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_invocation(gid, groups);
  let d = eg.dModel;
  if (i >= eg.replicas * eg.vocab * d) {
    return;
  }
  let k = i % d;
  let rv = i / d;
  let r = rv / eg.vocab;
  let v = rv - r * eg.vocab;
  let first = eg_start[rv];
  let count = eg_count[rv];
  var acc = 0.0;
  for (var c = 0u; c < count; c++) {
    let n = eg_positions[r * eg.tokens + first + c];
    acc += eg_dx[(r * eg.tokens + n) * d + k];
  }
  eg_grad[eg.offsetGrad + r * eg.strideGrad + v * d + k] = acc;
}

@group(0) @binding(0) var<storage, read> pg_dx: array<f32>;
@group(0) @binding(1) var<storage, read_write> pg_grad: array<f32>;
@group(0) @binding(2) var<uniform> pg: EmbedGradParams;

@compute @workgroup_size(64, 1, 1)
fn pos_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_invocation(gid, groups);
  let d = pg.dModel;
  if (i >= pg.replicas * pg.maxSeqLen * d) {
    return;
  }
  let k = i % d;
  let rt = i / d;
  let r = rt / pg.maxSeqLen;
  let t = rt - r * pg.maxSeqLen;
  var acc = 0.0;
  if (t < pg.seqLen) {
    let rows = pg.tokens / pg.seqLen;
    for (var b = 0u; b < rows; b++) {
      acc += pg_dx[(r * pg.tokens + b * pg.seqLen + t) * d + k];
    }
  }
  pg_grad[pg.offsetGrad + r * pg.strideGrad + t * d + k] = acc;
}
