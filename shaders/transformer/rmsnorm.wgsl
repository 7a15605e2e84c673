// RMSNorm without a gain and the residual add (src/kernels/transformer/, twins in
// src/cpu/transformer.ts). Activations are contiguous rows of width d; R replicas are just more rows.
//
//   rmsnorm_forward   r = 1/√(mean(x²) + ε), y = x·r       one invocation per row (loops over d:
//                                                        barrier-free, the fast form on a CPU adapter)
//   rmsnorm_backward  dx = r·(dy − y·mean(dy ⊙ y))       one invocation per row, from y and r
//   residual_add      x ← x + α·y                        one invocation per element

//#import lib/linear_invocation.wgsl

struct NormParams {
  rows: u32,
  width: u32,
  eps: f32,
}

@group(0) @binding(0) var<storage, read> nf_x: array<f32>;
@group(0) @binding(1) var<storage, read_write> nf_y: array<f32>;
@group(0) @binding(2) var<storage, read_write> nf_rstd: array<f32>;
@group(0) @binding(3) var<uniform> nf: NormParams;

@compute @workgroup_size(64, 1, 1)
fn rmsnorm_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let row = linear_invocation(gid, groups);
  if (row >= nf.rows) {
    return;
  }
  let base = row * nf.width;
  var ss = 0.0;
  for (var k = 0u; k < nf.width; k++) {
    let v = nf_x[base + k];
    ss += v * v;
  }
  let r = inverseSqrt(ss / f32(nf.width) + nf.eps);
  nf_rstd[row] = r;
  for (var k = 0u; k < nf.width; k++) {
    nf_y[base + k] = nf_x[base + k] * r;
  }
}

@group(0) @binding(0) var<storage, read> nb_dy: array<f32>;
@group(0) @binding(1) var<storage, read> nb_y: array<f32>;
@group(0) @binding(2) var<storage, read> nb_rstd: array<f32>;
@group(0) @binding(3) var<storage, read_write> nb_dx: array<f32>;
@group(0) @binding(4) var<uniform> nb: NormParams;

@compute @workgroup_size(64, 1, 1)
fn rmsnorm_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let row = linear_invocation(gid, groups);
  if (row >= nb.rows) {
    return;
  }
  let base = row * nb.width;
  var dot = 0.0;
  for (var k = 0u; k < nb.width; k++) {
    dot += nb_dy[base + k] * nb_y[base + k];
  }
  let mean = dot / f32(nb.width);
  let r = nb_rstd[row];
  for (var k = 0u; k < nb.width; k++) {
    nb_dx[base + k] = r * (nb_dy[base + k] - nb_y[base + k] * mean);
  }
}

struct AddParams {
  count: u32,
  alpha: f32,
}

@group(0) @binding(0) var<storage, read_write> add_x: array<f32>;
@group(0) @binding(1) var<storage, read> add_y: array<f32>;
@group(0) @binding(2) var<uniform> add: AddParams;

@compute @workgroup_size(64, 1, 1)
fn residual_add(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_invocation(gid, groups);
  if (i >= add.count) {
    return;
  }
  add_x[i] = add_x[i] + add.alpha * add_y[i];
}
