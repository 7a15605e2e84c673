// W ← W − η·scale·D for a precomputed direction D (muon-reg, tra-signgd: src/optim/muonReg.ts,
// src/optim/traSignGd.ts), D read where G would be (offsetG, batchStrideG). CHECK / APPLY passes:
// shaders/lib/update.wgsl.
// sign_inplace: S ← sign(S) elementwise over a batch (tra-signgd's sign(Ẽᵀ G E)).

//#import lib/update.wgsl

@group(0) @binding(3) var<storage, read> d: array<f32>;

struct SignShape {
  count: u32,
  batch: u32,
}

@group(0) @binding(4) var<storage, read_write> s: array<f32>;
@group(0) @binding(5) var<uniform> signShape: SignShape;

@compute @workgroup_size(64, 1, 1)
fn direction_update(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let b = gid.y;
  if (skipUpdate(i, b)) {
    return;
  }
  let p = runs[b];
  let wNew = w[indexW(i, b)] - p.lr * p.scale * d[indexG(i, b)];
  if (CHECK) {
    markDivergedUnless(finite(wNew), b, p);
    return;
  }
  w[indexW(i, b)] = wNew;
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
