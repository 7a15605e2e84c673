// Gradient clipping by global norm, per replica (src/model/clip.ts). Gradients live in slots
// [n·R, rows, cols] whose matrix b belongs to replica b mod R (name-major, replica-minor), and the
// slots' squared norms are written to one buffer at offsets that are multiples of R, so entry e of
// that buffer belongs to replica e mod R as well.
//
//   grad_sumsq   one 64-wide workgroup per matrix: Σ g² (strided partial sums, then a tree)
//   clip_scale   one invocation per replica: norm = √Σ of its entries (in entry order),
//                scale = min(1, maxNorm / (norm + 1e-6)); writes scale[r] and norm[R + r]
//   grad_scale   g ← scale[b mod R]·g, one invocation per element

//#import lib/workgroup_sum.wgsl
//#import lib/linear_invocation.wgsl

struct SumsqParams {
  count: u32,
  batch: u32,
  offsetG: u32,
  batchStrideG: u32,
  outOffset: u32,
}

@group(0) @binding(0) var<storage, read> ss_g: array<f32>;
@group(0) @binding(1) var<storage, read_write> ss_out: array<f32>;
@group(0) @binding(2) var<uniform> ss: SumsqParams;

@compute @workgroup_size(64, 1, 1)
fn grad_sumsq(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let b = wid.x + wid.y * 65535u;
  // Every invocation of the workgroup reaches workgroupSum (it has barriers): b is uniform per group.
  var acc = 0.0;
  if (b < ss.batch) {
    let base = ss.offsetG + b * ss.batchStrideG;
    for (var i = lid.x; i < ss.count; i += 64u) {
      let v = ss_g[base + i];
      acc += v * v;
    }
  }
  let total = workgroupSum(lid.x, acc);
  if (lid.x == 0u && b < ss.batch) {
    ss_out[ss.outOffset + b] = total;
  }
}

struct ClipParams {
  replicas: u32,
  entries: u32,
  maxNorm: f32,
}

@group(0) @binding(0) var<storage, read> cs_sumsq: array<f32>;
@group(0) @binding(1) var<storage, read_write> cs_clip: array<f32>;
@group(0) @binding(2) var<uniform> cs: ClipParams;

@compute @workgroup_size(64, 1, 1)
fn clip_scale(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = gid.x;
  if (r >= cs.replicas) {
    return;
  }
  var total = 0.0;
  for (var e = r; e < cs.entries; e += cs.replicas) {
    total += cs_sumsq[e];
  }
  let norm = sqrt(total);
  cs_clip[r] = min(1.0, cs.maxNorm / (norm + 1e-6));
  cs_clip[cs.replicas + r] = norm;
}

struct ScaleParams {
  count: u32,
  batch: u32,
  replicas: u32,
  offsetG: u32,
  batchStrideG: u32,
}

@group(0) @binding(0) var<storage, read_write> gs_g: array<f32>;
@group(0) @binding(1) var<storage, read> gs_clip: array<f32>;
@group(0) @binding(2) var<uniform> gs: ScaleParams;

@compute @workgroup_size(64, 1, 1)
fn grad_scale(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let e = linear_invocation(gid, groups);
  if (e >= gs.count * gs.batch) {
    return;
  }
  let b = e / gs.count;
  let i = e - b * gs.count;
  let at = gs.offsetG + b * gs.batchStrideG + i;
  gs_g[at] = gs_g[at] * gs_clip[b % gs.replicas];
}
