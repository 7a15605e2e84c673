// signgd update (src/optim/signgd.ts): W ← W − η·sign(G), sign(0) = 0. CHECK / APPLY passes as in
// shaders/optim_gd.wgsl (a non-finite candidate marks the run diverged; APPLY skips it).

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
@group(0) @binding(3) var<uniform> shape: UpdateShape;

fn finite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

@compute @workgroup_size(64, 1, 1)
fn signgd_update(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let b = gid.y;
  if (i >= shape.count || b >= shape.batch || runs[b].diverged != 0u) {
    return;
  }
  let p = runs[b];
  let iw = shape.offsetW + b * shape.batchStrideW + i;
  let grad = g[shape.offsetG + b * shape.batchStrideG + i];
  // A NaN gradient has no sign: make the candidate NaN so the run is marked diverged.
  var d = sign(grad);
  if (!finite(grad)) {
    d = grad;
  }
  let wNew = w[iw] - p.lr * d;
  if (CHECK) {
    if (!finite(wNew)) {
      runs[b].diverged = 1u;
      runs[b].divergedAtStep = p.step + 1u;
    }
    return;
  }
  w[iw] = wNew;
}
