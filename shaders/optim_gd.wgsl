// gd / sgd update for a batch of runs (compiled with RunParams prepended, src/optim/gd.ts):
// m ← μm + G;  D = G + μ·m (Nesterov, flags bit 0) or m;  W ← W − η·D.  μ = 0 is plain GD.
//
// Two passes per step, the same code under the CHECK override: CHECK computes the candidate and,
// when any element of W or m would be non-finite, marks the run diverged (every such invocation
// writes the same values, so the race is benign); APPLY writes W and m for runs that are not
// diverged. A run is therefore never left half-updated: it freezes at its last finite state.

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
@group(0) @binding(4) var<uniform> shape: UpdateShape;

fn finite(x: f32) -> bool {
  // Bit test, not a comparison: WGSL lets compilers assume comparisons never see NaN or Inf.
  return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

@compute @workgroup_size(64, 1, 1)
fn gd_update(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let b = gid.y;
  if (i >= shape.count || b >= shape.batch || runs[b].diverged != 0u) {
    return;
  }
  let p = runs[b];
  let iw = shape.offsetW + b * shape.batchStrideW + i;
  let ig = shape.offsetG + b * shape.batchStrideG + i;
  let im = b * shape.count + i;
  let grad = g[ig];
  let mNew = p.momentum * m[im] + grad;
  var d = mNew;
  if ((p.flags & 1u) != 0u) {
    d = grad + p.momentum * mNew;
  }
  let wNew = w[iw] - p.lr * d;
  if (CHECK) {
    if (!(finite(wNew) && finite(mNew))) {
      runs[b].diverged = 1u;
      runs[b].divergedAtStep = p.step + 1u;
    }
    return;
  }
  w[iw] = wNew;
  m[im] = mNew;
}
