// Muon's elementwise parts (src/optim/muon.ts); orth(·) in between is batched Newton–Schulz.
//   buffer:  B' = μ·B + G (sum form) or β·B + (1−β)·G (EMA form, flags bit 1)
//   NS input X = B', or with Nesterov (flags bit 0) G + μ·B' (sum) / (1−β)·G + β·B' (EMA)
//   update:  W ← W − η·scale·D with D = orth(X);  B ← B'
// muon_input writes X only (B is untouched until the update knows the run stays finite);
// muon_update runs as CHECK / APPLY passes as in shaders/optim_gd.wgsl and recomputes B'.

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
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read> d: array<f32>;
@group(0) @binding(5) var<uniform> shape: UpdateShape;

@group(0) @binding(6) var<storage, read> inRuns: array<RunParams>;
@group(0) @binding(7) var<storage, read> inG: array<f32>;
@group(0) @binding(8) var<storage, read> inM: array<f32>;
@group(0) @binding(9) var<storage, read_write> x: array<f32>;
@group(0) @binding(10) var<uniform> inShape: UpdateShape;

fn finite(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u;
}

fn bufferNext(p: RunParams, b0: f32, grad: f32) -> f32 {
  if ((p.flags & 2u) != 0u) {
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
  if ((p.flags & 1u) != 0u) {
    if ((p.flags & 2u) != 0u) {
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
  if (i >= shape.count || b >= shape.batch || runs[b].diverged != 0u) {
    return;
  }
  let p = runs[b];
  let iw = shape.offsetW + b * shape.batchStrideW + i;
  let is = b * shape.count + i;
  let bNew = bufferNext(p, m[is], g[shape.offsetG + b * shape.batchStrideG + i]);
  let wNew = w[iw] - p.lr * p.scale * d[is];
  if (CHECK) {
    if (!(finite(wNew) && finite(bNew))) {
      runs[b].diverged = 1u;
      runs[b].divergedAtStep = p.step + 1u;
    }
    return;
  }
  w[iw] = wNew;
  m[is] = bNew;
}
