// adam / adamw update (src/optim/adam.ts), t = step + 1:
//   g' = G + λ_wd·W (adam: coupled L2)  or  G (adamw: RUN_FLAG_DECOUPLED_DECAY)
//   m ← β1·m + (1−β1)·g';  v ← β2·v + (1−β2)·g'²;  D = (m/(1−β1^t)) / (sqrt(v/(1−β2^t)) + ε)
//   W ← W − η·D  (adam)   or   W ← W − η·(D + λ_wd·W)  (adamw, decoupled)
// CHECK / APPLY passes: shaders/lib/update.wgsl.

//#import lib/update.wgsl

@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<storage, read_write> m: array<f32>;
@group(0) @binding(5) var<storage, read_write> v: array<f32>;

// 1 − β^t without pow(0, t) (pow is exp2(t·log2 β): log2 0 is outside WGSL's finite-math domain).
fn biasCorrection(beta: f32, t: f32) -> f32 {
  if (beta <= 0.0) {
    return 1.0;
  }
  return 1.0 - pow(beta, t);
}

@compute @workgroup_size(64, 1, 1)
fn adam_update(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let b = gid.y;
  if (skipUpdate(i, b)) {
    return;
  }
  let p = runs[b];
  let iw = indexW(i, b);
  let is = indexState(i, b);
  let decoupled = hasFlag(p, RUN_FLAG_DECOUPLED_DECAY);
  let w0 = w[iw];
  var grad = g[indexG(i, b)];
  if (!decoupled) {
    grad = grad + p.weightDecay * w0;
  }
  let t = f32(p.step + 1u);
  let mNew = p.beta1 * m[is] + (1.0 - p.beta1) * grad;
  let vNew = p.beta2 * v[is] + (1.0 - p.beta2) * grad * grad;
  let d = (mNew / biasCorrection(p.beta1, t)) / (sqrt(vNew / biasCorrection(p.beta2, t)) + p.eps);
  var wNew = w0 - p.lr * d;
  if (decoupled) {
    wNew = wNew - p.lr * p.weightDecay * w0;
  }
  if (CHECK) {
    markDivergedUnless(finite(wNew) && finite(mNew) && finite(vNew), b, p);
    return;
  }
  w[iw] = wNew;
  m[is] = mNew;
  v[is] = vNew;
}
