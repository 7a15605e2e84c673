// Softmax cross-entropy gradient (docs/math.md §1, docs/architecture.md §3), the non-matmul parts; this file and
// its siblings in shaders/softmaxGrad/. The host side (src/kernels/softmaxGrad/) streams over the N
// outputs in chunks:
//
//   Sᵀ = Ẽ_chunk · H_blkᵀ                (matmul: logits of an output chunk × a query block)
//   softmax_chunk_update[_vec4]          (online softmax: merge the chunk into the running state,
//                                         S ← exp(S − m_new), O ← α·O with α = e^{m_old − m_new};
//                                         the vec4 form does 4 queries per invocation)
//   O_blk += (Sᵀ)ᵀ · Ẽ_chunk             (matmul, β = 1)
//   softmax_finalize                     (lse, stable loss, z_y, p_y, strict recovered flag,
//                                         o = O/s, residual w·(o − ẽ*) into H's buffer)
//   G = Rsdᵀ · E_q                       (matmul)
//
// so no buffer ever holds N×N or Nq×N logits: the scratch is one block × one chunk. The running state
// per query is (m, s_total, s_excl, max_excl, Σz, z_y, z_label): max, sums rescaled by e^{m_old−m_new}
// and partial o merge exactly (up to rounding) in any chunk order — the flash-attention recurrence.
//
// `identity_softmax_grad` (identity.wgsl) is the structural path (docs/math.md §1): with E = Ẽ = I the
// logits are W itself (z_ij = W_ji) and G = (P − T)·diag(w), O(N²) per step. `block3_transform`
// (block3_transform.wgsl) rotates 3×3 blocks: coupled-rotation embeddings run as M = ẼᵀWE →
// identity path → G = Ẽ Γ Eᵀ.
//
// Staged form (src/kernels/softmaxGrad/dense.ts, when a buffer would exceed the binding limit): the
// same kernels on block-local buffers (itemBase, stagedTargets/targetRunStride select that), plus
// staged.wgsl's `gather_rows_in_chunk` (a query's E or Ẽ row, picked out of the copied chunk that
// holds it) and `accumulate_column_mean` (ē summed chunk by chunk).
//
// softmax_chunk_update: one invocation per (run, query of the block).

//#import lib/softmax_state.wgsl
//#import lib/linear_invocation.wgsl

struct ChunkParams {
  rows: u32,
  blockRows: u32,
  queries: u32,
  queryBase: u32,
  chunkCols: u32,
  scratchStride: u32,
  scratchBatch: u32,
  chunkBase: u32,
  dOut: u32,
  first: u32,
  population: u32,
  indexBatchStride: u32,
  // Item of local query 0 in a population (0 when the state covers every query; q0 when a staged
  // block's state is block-local).
  itemBase: u32,
}

@group(0) @binding(0) var<storage, read_write> scratch: array<f32>;
@group(0) @binding(1) var<storage, read_write> o_acc: array<f32>;
@group(0) @binding(2) var<storage, read_write> state: array<f32>;
@group(0) @binding(3) var<storage, read> items: array<u32>;
@group(0) @binding(4) var<storage, read> labels: array<u32>;
@group(0) @binding(5) var<uniform> chunk: ChunkParams;

@compute @workgroup_size(64, 1, 1)
fn softmax_chunk_update(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let row = linear_invocation(gid, groups);
  if (row >= chunk.rows) {
    return;
  }
  let run = row / chunk.blockRows;
  let qi = row - run * chunk.blockRows;
  let q = chunk.queryBase + qi;
  var y = chunk.itemBase + q;
  var lab = y;
  if (chunk.population == 0u) {
    y = items[run * chunk.indexBatchStride + q];
    lab = labels[run * chunk.indexBatchStride + q];
  }
  let sb = (run * chunk.queries + q) * STATE_STRIDE;
  var m = NEG_HUGE;
  var s_tot = 0.0;
  var s_excl = 0.0;
  var mx = NEG_HUGE;
  var zsum = 0.0;
  var zy = 0.0;
  var zl = 0.0;
  if (chunk.first == 0u) {
    m = state[sb + ST_M];
    s_tot = state[sb + ST_STOT];
    s_excl = state[sb + ST_SEXCL];
    mx = state[sb + ST_MXEXCL];
    zsum = state[sb + ST_ZSUM];
    zy = state[sb + ST_ZTRUE];
    zl = state[sb + ST_ZLABEL];
  }
  // The scratch is the chunk's logits transposed, [chunk, block] per run: neighbouring invocations
  // (queries) read neighbouring addresses, so the SIMD lanes of a CPU adapter load contiguously.
  let base = run * chunk.scratchBatch + qi;
  let stride = chunk.scratchStride;
  var cm = NEG_HUGE;
  // Branch-free (select) bodies: on a CPU adapter the lanes of a SIMD group would otherwise run
  // both sides of every per-element branch under masks.
  for (var c = 0u; c < chunk.chunkCols; c++) {
    let v = scratch[base + c * stride];
    let j = chunk.chunkBase + c;
    cm = max(cm, v);
    zsum += v;
    zy = select(zy, v, j == y);
    mx = max(mx, select(v, NEG_HUGE, j == y));
    zl = select(zl, v, j == lab);
  }
  let m_new = max(m, cm);
  let alpha = exp(m - m_new);
  var st = 0.0;
  var se = 0.0;
  for (var c = 0u; c < chunk.chunkCols; c++) {
    let e = exp(scratch[base + c * stride] - m_new);
    scratch[base + c * stride] = e;
    st += e;
    se += select(e, 0.0, chunk.chunkBase + c == y);
  }
  state[sb + ST_M] = m_new;
  state[sb + ST_STOT] = s_tot * alpha + st;
  state[sb + ST_SEXCL] = s_excl * alpha + se;
  state[sb + ST_MXEXCL] = mx;
  state[sb + ST_ZSUM] = zsum;
  state[sb + ST_ZTRUE] = zy;
  state[sb + ST_ZLABEL] = zl;
  let ob = (run * chunk.queries + q) * chunk.dOut;
  if (chunk.first != 0u) {
    for (var k = 0u; k < chunk.dOut; k++) {
      o_acc[ob + k] = 0.0;
    }
  } else if (alpha != 1.0) {
    for (var k = 0u; k < chunk.dOut; k++) {
      o_acc[ob + k] = o_acc[ob + k] * alpha;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// softmax_chunk_update_vec4: the same update for 4 neighbouring queries per invocation (vec4 loads
// and exps along the query axis of the transposed scratch), used when the block's query count is a
// multiple of 4. Same uniforms; `rows` counts groups of 4 queries here.

@group(0) @binding(0) var<storage, read_write> scratch4: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> o_acc4: array<f32>;
@group(0) @binding(2) var<storage, read_write> state4: array<f32>;
@group(0) @binding(3) var<storage, read> items4: array<u32>;
@group(0) @binding(4) var<storage, read> labels4: array<u32>;
@group(0) @binding(5) var<uniform> chunk4: ChunkParams;

@compute @workgroup_size(64, 1, 1)
fn softmax_chunk_update_vec4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let group = linear_invocation(gid, groups);
  if (group >= chunk4.rows) {
    return;
  }
  let groupsPerRun = chunk4.blockRows / 4u;
  let run = group / groupsPerRun;
  let qi = (group - run * groupsPerRun) * 4u;
  let q0 = chunk4.queryBase + qi;
  let item0 = chunk4.itemBase + q0;
  var y = vec4<u32>(item0, item0 + 1u, item0 + 2u, item0 + 3u);
  var lab = y;
  if (chunk4.population == 0u) {
    let ib = run * chunk4.indexBatchStride + q0;
    y = vec4<u32>(items4[ib], items4[ib + 1u], items4[ib + 2u], items4[ib + 3u]);
    lab = vec4<u32>(labels4[ib], labels4[ib + 1u], labels4[ib + 2u], labels4[ib + 3u]);
  }
  let neg = vec4<f32>(NEG_HUGE);
  var m = neg;
  var s_tot = vec4<f32>(0.0);
  var s_excl = vec4<f32>(0.0);
  var mx = neg;
  var zsum = vec4<f32>(0.0);
  var zy = vec4<f32>(0.0);
  var zl = vec4<f32>(0.0);
  let sb = (run * chunk4.queries + q0) * STATE_STRIDE;
  if (chunk4.first == 0u) {
    for (var l = 0u; l < 4u; l++) {
      let at = sb + l * STATE_STRIDE;
      m[l] = state4[at + ST_M];
      s_tot[l] = state4[at + ST_STOT];
      s_excl[l] = state4[at + ST_SEXCL];
      mx[l] = state4[at + ST_MXEXCL];
      zsum[l] = state4[at + ST_ZSUM];
      zy[l] = state4[at + ST_ZTRUE];
      zl[l] = state4[at + ST_ZLABEL];
    }
  }
  let base = (run * chunk4.scratchBatch + qi) / 4u;
  let stride = chunk4.scratchStride / 4u;
  var cm = neg;
  for (var c = 0u; c < chunk4.chunkCols; c++) {
    let v = scratch4[base + c * stride];
    let j = vec4<u32>(chunk4.chunkBase + c);
    let is_y = j == y;
    cm = max(cm, v);
    zsum += v;
    zy = select(zy, v, is_y);
    mx = max(mx, select(v, neg, is_y));
    zl = select(zl, v, j == lab);
  }
  let m_new = max(m, cm);
  let alpha = exp(m - m_new);
  var st = vec4<f32>(0.0);
  var se = vec4<f32>(0.0);
  for (var c = 0u; c < chunk4.chunkCols; c++) {
    let at = base + c * stride;
    let e = exp(scratch4[at] - m_new);
    scratch4[at] = e;
    st += e;
    se += select(e, vec4<f32>(0.0), vec4<u32>(chunk4.chunkBase + c) == y);
  }
  let new_tot = s_tot * alpha + st;
  let new_excl = s_excl * alpha + se;
  for (var l = 0u; l < 4u; l++) {
    let at = sb + l * STATE_STRIDE;
    state4[at + ST_M] = m_new[l];
    state4[at + ST_STOT] = new_tot[l];
    state4[at + ST_SEXCL] = new_excl[l];
    state4[at + ST_MXEXCL] = mx[l];
    state4[at + ST_ZSUM] = zsum[l];
    state4[at + ST_ZTRUE] = zy[l];
    state4[at + ST_ZLABEL] = zl[l];
    let ob = (run * chunk4.queries + q0 + l) * chunk4.dOut;
    let a = alpha[l];
    if (chunk4.first != 0u) {
      for (var k = 0u; k < chunk4.dOut; k++) {
        o_acc4[ob + k] = 0.0;
      }
    } else if (a != 1.0) {
      for (var k = 0u; k < chunk4.dOut; k++) {
        o_acc4[ob + k] = o_acc4[ob + k] * a;
      }
    }
  }
}
