// Task embeddings generated on the GPU (docs/math.md §1, §6), driven by src/task/taskGpu.ts.
//
// gaussian_embedding: an item-major [N, d] table, element k = i·d + c equal to normal k of the
// stream times 1/√d (the host passes the f32 scale) — N = 100,000 × d = 1024 never crosses the bus.
// column_mean: ē = mean row of a table (the noise target's ε·ē term).

//#import lib/philox.wgsl
//#import lib/linear_invocation.wgsl

struct GaussianParams {
  count: u32,
  seed: u32,
  stream: u32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read_write> table: array<f32>;
@group(0) @binding(1) var<uniform> gaussian: GaussianParams;

@compute @workgroup_size(64, 1, 1)
fn gaussian_embedding(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let k = linear_invocation(gid, groups);
  if (k >= gaussian.count) {
    return;
  }
  table[k] = philox_normal(gaussian.seed, gaussian.stream, k) * gaussian.scale;
}

struct MeanParams {
  rows: u32,
  cols: u32,
  offset: u32,
}

@group(0) @binding(2) var<storage, read> mean_src: array<f32>;
@group(0) @binding(3) var<storage, read_write> mean_out: array<f32>;
@group(0) @binding(4) var<uniform> column: MeanParams;

// One invocation per column: a sequential sum down the rows (error ≤ γ_rows·Σ|x|), then ÷ rows.
@compute @workgroup_size(64, 1, 1)
fn column_mean(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= column.cols) {
    return;
  }
  var s = 0.0;
  for (var r = 0u; r < column.rows; r++) {
    s += mean_src[column.offset + r * column.cols + c];
  }
  mean_out[c] = s / f32(column.rows);
}
