// The MLP's activations and their derivatives (src/kernels/transformer/, twins in
// src/cpu/transformer.ts), one invocation per element:
//
//   act_forward / act_backward        ReLU² (max(x,0)², 2·max(x,0)) or GELU in its tanh form
//                                     (WGSL has no erf; the twin evaluates the same formula)
//   swiglu_forward / swiglu_backward  a = silu(g)·u; dg = da·u·σ(g)(1 + g(1 − σ(g))), du = da·silu(g)
//
// ACT_* codes: TypeScript's twin is ACTIVATION_CODES in src/kernels/transformer/kernels.ts (a test
// checks that the two agree).

//#import lib/linear_invocation.wgsl

const ACT_RELU2: u32 = 0u;
const ACT_GELU: u32 = 1u;
const GELU_C: f32 = 0.7978845608028654;   // √(2/π)
const GELU_A: f32 = 0.044715;

struct ActParams {
  count: u32,
  kind: u32,
}

fn act_value(kind: u32, x: f32) -> f32 {
  if (kind == ACT_RELU2) {
    let p = max(x, 0.0);
    return p * p;
  }
  return 0.5 * x * (1.0 + gelu_tanh(x));
}

// tanh of GELU's inner argument, clamped to ±15 (tanh(15) rounds to 1 in f32) so an implementation
// of tanh through exp cannot meet ∞/∞.
fn gelu_tanh(x: f32) -> f32 {
  return tanh(clamp(GELU_C * (x + GELU_A * x * x * x), -15.0, 15.0));
}

fn act_slope(kind: u32, x: f32) -> f32 {
  if (kind == ACT_RELU2) {
    return 2.0 * max(x, 0.0);
  }
  let t = gelu_tanh(x);
  return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * GELU_C * (1.0 + 3.0 * GELU_A * x * x);
}

@group(0) @binding(0) var<storage, read> af_pre: array<f32>;
@group(0) @binding(1) var<storage, read_write> af_out: array<f32>;
@group(0) @binding(2) var<uniform> af: ActParams;

@compute @workgroup_size(64, 1, 1)
fn act_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_invocation(gid, groups);
  if (i >= af.count) {
    return;
  }
  af_out[i] = act_value(af.kind, af_pre[i]);
}

@group(0) @binding(0) var<storage, read> ab_dact: array<f32>;
@group(0) @binding(1) var<storage, read> ab_pre: array<f32>;
@group(0) @binding(2) var<storage, read_write> ab_dpre: array<f32>;
@group(0) @binding(3) var<uniform> ab: ActParams;

@compute @workgroup_size(64, 1, 1)
fn act_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_invocation(gid, groups);
  if (i >= ab.count) {
    return;
  }
  ab_dpre[i] = ab_dact[i] * act_slope(ab.kind, ab_pre[i]);
}

// Clamped so exp never overflows (σ(±80) is 0 or 1 to f32 precision anyway).
fn sigmoid(x: f32) -> f32 {
  return 1.0 / (1.0 + exp(-clamp(x, -80.0, 80.0)));
}

@group(0) @binding(0) var<storage, read> sf_gate: array<f32>;
@group(0) @binding(1) var<storage, read> sf_up: array<f32>;
@group(0) @binding(2) var<storage, read_write> sf_out: array<f32>;
@group(0) @binding(3) var<uniform> sf: ActParams;

@compute @workgroup_size(64, 1, 1)
fn swiglu_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_invocation(gid, groups);
  if (i >= sf.count) {
    return;
  }
  let g = sf_gate[i];
  sf_out[i] = g * sigmoid(g) * sf_up[i];
}

@group(0) @binding(0) var<storage, read> sb_da: array<f32>;
@group(0) @binding(1) var<storage, read> sb_gate: array<f32>;
@group(0) @binding(2) var<storage, read> sb_up: array<f32>;
@group(0) @binding(3) var<storage, read_write> sb_dgate: array<f32>;
@group(0) @binding(4) var<storage, read_write> sb_dup: array<f32>;
@group(0) @binding(5) var<uniform> sb: ActParams;

@compute @workgroup_size(64, 1, 1)
fn swiglu_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_invocation(gid, groups);
  if (i >= sb.count) {
    return;
  }
  let g = sb_gate[i];
  let s = sigmoid(g);
  let da = sb_da[i];
  sb_dgate[i] = da * sb_up[i] * s * (1.0 + g * (1.0 - s));
  sb_dup[i] = da * g * s;
}
