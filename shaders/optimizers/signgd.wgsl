// signgd update (src/optim/signgd.ts): W ← W − η·sign(G), sign(0) = 0.
// CHECK / APPLY passes: shaders/lib/update.wgsl.

//#import lib/update.wgsl

@group(0) @binding(3) var<storage, read> g: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn signgd_update(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let b = gid.y;
  if (skipUpdate(i, b)) {
    return;
  }
  let p = runs[b];
  let grad = g[indexG(i, b)];
  // A NaN gradient has no sign: make the candidate NaN so the run is marked diverged.
  var d = sign(grad);
  if (!finite(grad)) {
    d = grad;
  }
  let wNew = w[indexW(i, b)] - p.lr * d;
  if (CHECK) {
    markDivergedUnless(finite(wNew), b, p);
    return;
  }
  w[indexW(i, b)] = wNew;
}
