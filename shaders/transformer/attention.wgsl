// Causal multi-head attention for T ≤ 512 with the T×T probabilities per head materialised
// (src/kernels/transformer/, twins in src/cpu/transformer.ts). q, k, v and the output are contiguous
// [R, rows·T, d]; head h owns columns [h·dh, (h+1)·dh). P and dS are [R, rows, H, T, T]; row i of a
// head holds j ≤ i (the rest is written 0 by the forward pass and never read).
//
//   attn_forward        per (r, b, h, i): s_j = q_i·k_j/√dh (j ≤ i), MaxLogit m = max_j s_j, p = softmax(s),
//                       out_i = Σ_j p_j v_j — scores, masked softmax and weighted sum in one invocation
//   attn_backward_scores per (r, b, h, i): dP_j = dOut_i·v_j, D = Σ_j p_j dP_j, dS_ij = p_j(dP_j − D)/√dh
//   attn_backward_q     per (r, b, i, c): dq_ic = Σ_{j ≤ i} dS_ij k_jc
//   attn_backward_kv    per (r, b, j, c): dk_jc = Σ_{i ≥ j} dS_ij q_ic, dv_jc = Σ_{i ≥ j} p_ij dOut_ic
//
// Every sum runs in a fixed order and no invocation writes another's output: deterministic, and
// barrier-free (each workgroupBarrier is a coroutine switch on a CPU adapter).

//#import lib/linear_invocation.wgsl

struct AttnParams {
  replicas: u32,
  rows: u32,
  seqLen: u32,
  dModel: u32,
  heads: u32,
  scale: f32,
}

// Index helpers take the uniform by value under names no binding uses (wgsl_reflect would count a
// parameter named like a binding as a use of that binding).
fn tokenBase(p: AttnParams, rb: u32, t: u32) -> u32 {
  return (rb * p.seqLen + t) * p.dModel;
}

@group(0) @binding(0) var<storage, read> af_q: array<f32>;
@group(0) @binding(1) var<storage, read> af_k: array<f32>;
@group(0) @binding(2) var<storage, read> af_v: array<f32>;
@group(0) @binding(3) var<storage, read_write> af_p: array<f32>;
@group(0) @binding(4) var<storage, read_write> af_out: array<f32>;
@group(0) @binding(5) var<storage, read_write> af_rowmax: array<f32>;
@group(0) @binding(6) var<uniform> af: AttnParams;

@compute @workgroup_size(64, 1, 1)
fn attn_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let row = linear_invocation(gid, groups);
  let T = af.seqLen;
  let H = af.heads;
  if (row >= af.replicas * af.rows * H * T) {
    return;
  }
  let i = row % T;
  let h = (row / T) % H;
  let rb = row / (T * H);
  let dh = af.dModel / H;
  let qb = tokenBase(af, rb, i) + h * dh;
  let pb = row * T;
  var m = -3.0e38;
  for (var j = 0u; j <= i; j++) {
    let kb = tokenBase(af, rb, j) + h * dh;
    var dot = 0.0;
    for (var c = 0u; c < dh; c++) {
      dot += af_q[qb + c] * af_k[kb + c];
    }
    let s = dot * af.scale;
    af_p[pb + j] = s;
    m = max(m, s);
  }
  af_rowmax[row] = m;
  var sum = 0.0;
  for (var j = 0u; j <= i; j++) {
    let e = exp(af_p[pb + j] - m);
    af_p[pb + j] = e;
    sum += e;
  }
  let inv = 1.0 / sum;
  for (var j = 0u; j <= i; j++) {
    af_p[pb + j] = af_p[pb + j] * inv;
  }
  for (var j = i + 1u; j < T; j++) {
    af_p[pb + j] = 0.0;
  }
  for (var c = 0u; c < dh; c++) {
    var acc = 0.0;
    for (var j = 0u; j <= i; j++) {
      acc += af_p[pb + j] * af_v[tokenBase(af, rb, j) + h * dh + c];
    }
    af_out[qb + c] = acc;
  }
}

@group(0) @binding(0) var<storage, read> as_dout: array<f32>;
@group(0) @binding(1) var<storage, read> as_v: array<f32>;
@group(0) @binding(2) var<storage, read> as_p: array<f32>;
@group(0) @binding(3) var<storage, read_write> as_ds: array<f32>;
@group(0) @binding(4) var<uniform> asp: AttnParams;

@compute @workgroup_size(64, 1, 1)
fn attn_backward_scores(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let row = linear_invocation(gid, groups);
  let T = asp.seqLen;
  let H = asp.heads;
  if (row >= asp.replicas * asp.rows * H * T) {
    return;
  }
  let i = row % T;
  let h = (row / T) % H;
  let rb = row / (T * H);
  let dh = asp.dModel / H;
  let ob = tokenBase(asp, rb, i) + h * dh;
  let pb = row * T;
  var D = 0.0;
  for (var j = 0u; j <= i; j++) {
    let vb = tokenBase(asp, rb, j) + h * dh;
    var dp = 0.0;
    for (var c = 0u; c < dh; c++) {
      dp += as_dout[ob + c] * as_v[vb + c];
    }
    as_ds[pb + j] = dp;
    D += as_p[pb + j] * dp;
  }
  for (var j = 0u; j <= i; j++) {
    as_ds[pb + j] = as_p[pb + j] * (as_ds[pb + j] - D) * asp.scale;
  }
}

@group(0) @binding(0) var<storage, read> aq_ds: array<f32>;
@group(0) @binding(1) var<storage, read> aq_k: array<f32>;
@group(0) @binding(2) var<storage, read_write> aq_dq: array<f32>;
@group(0) @binding(3) var<uniform> aq: AttnParams;

@compute @workgroup_size(64, 1, 1)
fn attn_backward_q(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let e = linear_invocation(gid, groups);
  let T = aq.seqLen;
  let d = aq.dModel;
  if (e >= aq.replicas * aq.rows * T * d) {
    return;
  }
  let c = e % d;
  let i = (e / d) % T;
  let rb = e / (d * T);
  let dh = d / aq.heads;
  let h = c / dh;
  let pb = ((rb * aq.heads + h) * T + i) * T;
  var acc = 0.0;
  for (var j = 0u; j <= i; j++) {
    acc += aq_ds[pb + j] * aq_k[tokenBase(aq, rb, j) + c];
  }
  aq_dq[e] = acc;
}

@group(0) @binding(0) var<storage, read> akv_ds: array<f32>;
@group(0) @binding(1) var<storage, read> akv_p: array<f32>;
@group(0) @binding(2) var<storage, read> akv_q: array<f32>;
@group(0) @binding(3) var<storage, read> akv_dout: array<f32>;
@group(0) @binding(4) var<storage, read_write> akv_dk: array<f32>;
@group(0) @binding(5) var<storage, read_write> akv_dv: array<f32>;
@group(0) @binding(6) var<uniform> akv: AttnParams;

@compute @workgroup_size(64, 1, 1)
fn attn_backward_kv(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let e = linear_invocation(gid, groups);
  let T = akv.seqLen;
  let d = akv.dModel;
  if (e >= akv.replicas * akv.rows * T * d) {
    return;
  }
  let c = e % d;
  let j = (e / d) % T;
  let rb = e / (d * T);
  let dh = d / akv.heads;
  let h = c / dh;
  let headBase = (rb * akv.heads + h) * T;
  var dk = 0.0;
  var dv = 0.0;
  for (var i = j; i < T; i++) {
    let at = (headBase + i) * T + j;
    let tb = tokenBase(akv, rb, i) + c;
    dk += akv_ds[at] * akv_q[tb];
    dv += akv_p[at] * akv_dout[tb];
  }
  akv_dk[e] = dk;
  akv_dv[e] = dv;
}
