// gd / sgd update for a batch of runs (src/optim/gd.ts):
// m ← μm + G;  D = G + μ·m (Nesterov) or m;  W ← W − η·D.  μ = 0 is plain GD.
// CHECK / APPLY passes: shaders/lib/update.wgsl.

//#import lib/update.wgsl

@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<storage, read_write> m: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn gd_update(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let b = gid.y;
  if (skipUpdate(i, b)) {
    return;
  }
  let p = runs[b];
  let grad = g[indexG(i, b)];
  let mNew = p.momentum * m[indexState(i, b)] + grad;
  var d = mNew;
  if (hasFlag(p, RUN_FLAG_NESTEROV)) {
    d = grad + p.momentum * mNew;
  }
  let wNew = w[indexW(i, b)] - p.lr * d;
  if (CHECK) {
    markDivergedUnless(finite(wNew) && finite(mNew), b, p);
    return;
  }
  w[indexW(i, b)] = wNew;
  m[indexState(i, b)] = mNew;
}
