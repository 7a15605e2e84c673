// Row gather: out[b, r, :] = src[b, index[b, r], :] — how a minibatch picks its items' embedding
// rows (item-major tables) without a CPU copy. An index outside [0, srcRows) writes NaN, so a bad
// index poisons the result visibly instead of reading another item's row.

struct GatherParams {
  rows: u32,
  cols: u32,
  srcRows: u32,
  batch: u32,
  offsetSrc: u32,
  batchStrideSrc: u32,
  offsetIndex: u32,
  batchStrideIndex: u32,
  offsetOut: u32,
  batchStrideOut: u32,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read> index: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: GatherParams;

@compute @workgroup_size(64, 1, 1)
fn gather_rows(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col = gid.x;
  let row = gid.y;
  let batch = gid.z;
  if (col >= params.cols || row >= params.rows || batch >= params.batch) {
    return;
  }
  let item = index[params.offsetIndex + batch * params.batchStrideIndex + row];
  let dst = params.offsetOut + batch * params.batchStrideOut + row * params.cols + col;
  if (item >= params.srcRows) {
    // Through a runtime value: a constant-expression bitcast to NaN is a compile error in WGSL.
    let quietNan = 0x7fc00000u;
    out[dst] = bitcast<f32>(quietNan);
    return;
  }
  out[dst] = src[params.offsetSrc + batch * params.batchStrideSrc + item * params.cols + col];
}
