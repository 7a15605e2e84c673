// Muon's elementwise parts (src/optim/muon.ts); orth(·) in between is batched Newton–Schulz.
//   buffer:  B' = μ·B + G (sum form) or β·B + (1−β)·G (EMA form, RUN_FLAG_EMA_MOMENTUM)
//   NS input X = B', or with Nesterov G + μ·B' (sum) / (1−β)·G + β·B' (EMA)
//   update:  W ← W − η·scale·D with D = orth(X);  B ← B'
// muon_input writes X only (B is untouched until the update knows the run stays finite);
// muon_update runs as CHECK / APPLY passes (shaders/lib/update.wgsl) and recomputes B'.

//#import lib/update.wgsl

@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<storage, read_write> m: array<f32>;
@group(0) @binding(5) var<storage, read> d: array<f32>;

// muon_input's own bindings: it runs before the update and writes X alone.
@group(0) @binding(6) var<storage, read> inRuns: array<RunParams>;
@group(0) @binding(7) var<storage, read> inG: array<f32>;
@group(0) @binding(8) var<storage, read> inM: array<f32>;
@group(0) @binding(9) var<storage, read_write> x: array<f32>;
@group(0) @binding(10) var<uniform> inShape: UpdateShape;

fn bufferNext(p: RunParams, b0: f32, grad: f32) -> f32 {
  if (hasFlag(p, RUN_FLAG_EMA_MOMENTUM)) {
    return p.momentum * b0 + (1.0 - p.momentum) * grad;
  }
  return p.momentum * b0 + grad;
}

@compute @workgroup_size(64, 1, 1)
fn muon_input(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let b = gid.y;
  if (i >= inShape.count || b >= inShape.batch) {
    return;
  }
  let p = inRuns[b];
  let grad = inG[inShape.offsetG + b * inShape.batchStrideG + i];
  let bNew = bufferNext(p, inM[b * inShape.count + i], grad);
  var xv = bNew;
  if (hasFlag(p, RUN_FLAG_NESTEROV)) {
    if (hasFlag(p, RUN_FLAG_EMA_MOMENTUM)) {
      xv = (1.0 - p.momentum) * grad + p.momentum * bNew;
    } else {
      xv = grad + p.momentum * bNew;
    }
  }
  x[b * inShape.count + i] = xv;
}

@compute @workgroup_size(64, 1, 1)
fn muon_update(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let b = gid.y;
  if (skipUpdate(i, b)) {
    return;
  }
  let p = runs[b];
  let is = indexState(i, b);
  let bNew = bufferNext(p, m[is], g[indexG(i, b)]);
  let wNew = w[indexW(i, b)] - p.lr * p.scale * d[is];
  if (CHECK) {
    markDivergedUnless(finite(wNew) && finite(bNew), b, p);
    return;
  }
  w[indexW(i, b)] = wNew;
  m[is] = bNew;
}
