// W ← W − η·scale·D for a precomputed direction D (muon-reg, tra-signgd: src/optim/muonReg.ts,
// src/optim/traSignGd.ts). CHECK / APPLY passes as in shaders/optim_gd.wgsl.
// sign_inplace: S ← sign(S) elementwise over a batch (tra-signgd's sign(Ẽᵀ G E)).

struct UpdateShape {
  count: u32,
  batch: u32,
  offsetW: u32,
  batchStrideW: u32,
  offsetG: u32,
  batchStrideG: u32,
}

override CHECK: bool = true;

@group(0) @binding(0) var<storage, read_write> runs: array<RunParams>;
@group(0) @binding(1) var<storage, read_write> w: array<f32>;
@group(0) @binding(2) var<storage, read> d: array<f32>;
@group(0) @binding(3) var<uniform> shape: UpdateShape;

struct SignShape {
  count: u32,
  batch: u32,
}

@group(0) @binding(4) var<storage, read_write> s: array<f32>;
@group(0) @binding(5) var<uniform> signShape: SignShape;

fn finite(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u;
}

@compute @workgroup_size(64, 1, 1)
fn direction_update(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let b = gid.y;
  if (i >= shape.count || b >= shape.batch || runs[b].diverged != 0u) {
    return;
  }
  let p = runs[b];
  let iw = shape.offsetW + b * shape.batchStrideW + i;
  let wNew = w[iw] - p.lr * p.scale * d[shape.offsetG + b * shape.batchStrideG + i];
  if (CHECK) {
    if (!finite(wNew)) {
      runs[b].diverged = 1u;
      runs[b].divergedAtStep = p.step + 1u;
    }
    return;
  }
  w[iw] = wNew;
}

@compute @workgroup_size(64, 1, 1)
fn sign_inplace(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let b = gid.y;
  if (i >= signShape.count || b >= signShape.batch) {
    return;
  }
  let k = b * signShape.count + i;
  let v = s[k];
  // NaN stays NaN (sign() of NaN is not defined in WGSL): the update then marks the run diverged.
  if (finite(v)) {
    s[k] = sign(v);
  }
}
