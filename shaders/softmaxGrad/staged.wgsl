// gather_rows_in_chunk (staged path): rows of an item-major table arrive one chunk at a time
// (rows [chunkBase, chunkBase + chunkRows) copied into gather_src); every query whose index falls in
// the chunk copies its row. One invocation per (run, query of the block); after all chunks every
// query has its row. gather_out[(run·blockRows + q)·cols + k].

//#import lib/linear_invocation.wgsl

struct GatherChunkParams {
  rows: u32,
  blockRows: u32,
  cols: u32,
  chunkBase: u32,
  chunkRows: u32,
  indexRunStride: u32,
}

@group(0) @binding(0) var<storage, read> gather_src: array<f32>;
@group(0) @binding(1) var<storage, read> gather_index: array<u32>;
@group(0) @binding(2) var<storage, read_write> gather_out: array<f32>;
@group(0) @binding(3) var<uniform> gchunk: GatherChunkParams;

@compute @workgroup_size(64, 1, 1)
fn gather_rows_in_chunk(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let row = linear_invocation(gid, groups);
  if (row >= gchunk.rows) {
    return;
  }
  let run = row / gchunk.blockRows;
  let q = row - run * gchunk.blockRows;
  let idx = gather_index[run * gchunk.indexRunStride + q];
  // Unsigned wrap-around makes indices below the chunk large, so one comparison suffices.
  let local = idx - gchunk.chunkBase;
  if (local >= gchunk.chunkRows) {
    return;
  }
  for (var k = 0u; k < gchunk.cols; k++) {
    gather_out[row * gchunk.cols + k] = gather_src[local * gchunk.cols + k];
  }
}

// ---------------------------------------------------------------------------------------------
// accumulate_column_mean (staged path): ē += scale · Σ_rows chunk[row, ·] for one chunk of an
// item-major table (first = 1 starts from 0). One invocation per column.

struct ColumnChunkParams {
  rows: u32,
  cols: u32,
  first: u32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read> colmean_src: array<f32>;
@group(0) @binding(1) var<storage, read_write> colmean_out: array<f32>;
@group(0) @binding(2) var<uniform> colchunk: ColumnChunkParams;

@compute @workgroup_size(64, 1, 1)
fn accumulate_column_mean(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let k = linear_invocation(gid, groups);
  if (k >= colchunk.cols) {
    return;
  }
  var sum = 0.0;
  for (var r = 0u; r < colchunk.rows; r++) {
    sum += colmean_src[r * colchunk.cols + k];
  }
  var acc = 0.0;
  if (colchunk.first == 0u) {
    acc = colmean_out[k];
  }
  colmean_out[k] = acc + colchunk.scale * sum;
}
