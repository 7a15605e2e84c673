// Softmax cross-entropy gradient (SPEC §1, DESIGN "contracts"), the non-matmul parts. The host side
// (src/kernels/softmaxGrad.ts) streams over the N outputs in chunks:
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
// `identity_softmax_grad` is the structural path (SPEC §1): with E = Ẽ = I the logits are W itself
// (z_ij = W_ji) and G = (P − T)·diag(w), O(N²) per step. `block3_transform` rotates 3×3 blocks:
// coupled-rotation embeddings run as M = ẼᵀWE → identity path → G = Ẽ Γ Eᵀ.
//
// Staged form (src/kernels/softmaxGradDense.ts, when a buffer would exceed the binding limit): the
// same kernels on block-local buffers (itemBase, stagedTargets/targetRunStride select that), plus
// `gather_rows_in_chunk` (a query's E or Ẽ row, picked out of the copied chunk that holds it) and
// `accumulate_column_mean` (ē summed chunk by chunk).

const NEG_HUGE: f32 = -3.0e38;
// State slots per query.
const ST_M: u32 = 0u;
const ST_STOT: u32 = 1u;
const ST_SEXCL: u32 = 2u;
const ST_MXEXCL: u32 = 3u;
const ST_ZSUM: u32 = 4u;
const ST_ZTRUE: u32 = 5u;
const ST_ZLABEL: u32 = 6u;
const STATE_STRIDE: u32 = 8u;
// Output columns per query.
const OUT_LSE: u32 = 0u;
const OUT_LOSS: u32 = 1u;
const OUT_ZTRUE: u32 = 2u;
const OUT_PTRUE: u32 = 3u;
const OUT_CORRECT: u32 = 4u;
const OUT_STRIDE: u32 = 5u;

fn flat_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
  return gid.x + gid.y * groups.x * 64u;
}

// log(1 + x) for x ≥ 0 keeping relative accuracy when x is tiny: WGSL's log has only absolute
// accuracy 2^-21 near 1, so below 1/16 use the alternating series to x^7 (truncation ≤ x^7/8
// relative, < 5e-10); above it log(1 + x) is ≥ 0.06 and 2^-21 absolute is < 1e-5 relative.
fn log1p_accurate(x: f32) -> f32 {
  if (x < 0.0625) {
    return x * (1.0 - x * (0.5 - x * (0.33333334 - x * (0.25 - x * (0.2 - x * (0.16666667 - x * 0.14285715))))));
  }
  return log(1.0 + x);
}

// −log p̂_y = log1p(Σ_{j≠y} e^{z_j − z_y}) = log1p(s_excl·e^{m − z_y}) with m ≥ z_y; when z_y is far
// below the max the product could overflow, and there the loss is (m − z_y) + log(s_excl + e^{z_y−m}).
fn true_class_nll(m: f32, s_excl: f32, z_y: f32) -> f32 {
  let gap = m - z_y;
  if (gap <= 60.0) {
    return log1p_accurate(s_excl * exp(gap));
  }
  return gap + log(s_excl + exp(-gap));
}

// ---------------------------------------------------------------------------------------------
// softmax_chunk_update: one invocation per (run, query of the block).

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
  let row = flat_index(gid, groups);
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
  let group = flat_index(gid, groups);
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

// ---------------------------------------------------------------------------------------------
// softmax_finalize: one invocation per (run, query).

struct FinalizeParams {
  rows: u32,
  queries: u32,
  dOut: u32,
  N: u32,
  population: u32,
  sampled: u32,
  indexBatchStride: u32,
  useItemWeights: u32,
  noise: f32,
  constWeight: f32,
  // 1: fin_et holds each query's own target row (staged path), row = run·targetRunStride + q;
  // 0: fin_et is the whole item-major Ẽ, indexed by the query's item or label.
  stagedTargets: u32,
  targetRunStride: u32,
}

@group(0) @binding(0) var<storage, read> fin_state: array<f32>;
@group(0) @binding(1) var<storage, read_write> fin_o: array<f32>;
@group(0) @binding(2) var<storage, read_write> fin_residual: array<f32>;
@group(0) @binding(3) var<storage, read> fin_et: array<f32>;
@group(0) @binding(4) var<storage, read> fin_ebar: array<f32>;
@group(0) @binding(5) var<storage, read> fin_weights: array<f32>;
@group(0) @binding(6) var<storage, read> fin_items: array<u32>;
@group(0) @binding(7) var<storage, read> fin_labels: array<u32>;
@group(0) @binding(8) var<storage, read_write> fin_out: array<f32>;
@group(0) @binding(9) var<uniform> fin: FinalizeParams;

@compute @workgroup_size(64, 1, 1)
fn softmax_finalize(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let row = flat_index(gid, groups);
  if (row >= fin.rows) {
    return;
  }
  let run = row / fin.queries;
  let q = row - run * fin.queries;
  var y = q;
  var lab = q;
  if (fin.population == 0u) {
    y = fin_items[run * fin.indexBatchStride + q];
    lab = fin_labels[run * fin.indexBatchStride + q];
  }
  let sb = row * STATE_STRIDE;
  let m = fin_state[sb + ST_M];
  let s_tot = fin_state[sb + ST_STOT];
  let s_excl = fin_state[sb + ST_SEXCL];
  let mx = fin_state[sb + ST_MXEXCL];
  let zsum = fin_state[sb + ST_ZSUM];
  let zy = fin_state[sb + ST_ZTRUE];
  let zl = fin_state[sb + ST_ZLABEL];
  let lse = m + log(s_tot);
  let nll_y = true_class_nll(m, s_excl, zy);
  var loss: f32;
  if (fin.sampled != 0u) {
    if (lab == y) {
      loss = nll_y;
    } else {
      loss = lse - zl;
    }
  } else if (fin.noise > 0.0) {
    loss = (1.0 - fin.noise) * nll_y + fin.noise * (lse - zsum / f32(fin.N));
  } else {
    loss = nll_y;
  }
  let ob = row * OUT_STRIDE;
  fin_out[ob + OUT_LSE] = lse;
  fin_out[ob + OUT_LOSS] = loss;
  fin_out[ob + OUT_ZTRUE] = zy;
  fin_out[ob + OUT_PTRUE] = exp(-nll_y);
  fin_out[ob + OUT_CORRECT] = select(0.0, 1.0, zy > mx);
  var w = fin.constWeight;
  if (fin.useItemWeights != 0u) {
    w = fin_weights[y];
  }
  let inv = 1.0 / s_tot;
  let base = row * fin.dOut;
  for (var k = 0u; k < fin.dOut; k++) {
    let o = fin_o[base + k] * inv;
    fin_o[base + k] = o;
    var wanted: f32;
    if (fin.stagedTargets != 0u) {
      let own = fin_et[(run * fin.targetRunStride + q) * fin.dOut + k];
      if (fin.sampled != 0u) {
        wanted = own;
      } else {
        wanted = (1.0 - fin.noise) * own + fin.noise * fin_ebar[k];
      }
    } else if (fin.sampled != 0u) {
      wanted = fin_et[lab * fin.dOut + k];
    } else {
      wanted = (1.0 - fin.noise) * fin_et[y * fin.dOut + k] + fin.noise * fin_ebar[k];
    }
    fin_residual[base + k] = w * (o - wanted);
  }
}

// ---------------------------------------------------------------------------------------------
// identity_softmax_grad: one invocation per (run, item column). logits[r, j, i] = z_ij, read at
// logitsOffset + r·logitsStride (W may be a view); the gradient likewise at gradOffset + r·gradStride.
// With writeO = 1 it also writes o_i = p̂(·|i) (for E = Ẽ = I, o_i is the softmax column itself)
// as row i of id_o ([R, N, N], query-major: id_o[(r·N + i)·N + j] = p̂(j|i)).
// mode 0: population (query = item i, weight weights[i]); 1: minibatch, expected targets;
// 2: minibatch, sampled labels. A minibatch column sums every draw of its item, so one invocation
// owns the column and no two invocations write the same G entry.

struct IdentityParams {
  N: u32,
  runs: u32,
  mode: u32,
  batchSize: u32,
  indexBatchStride: u32,
  noise: f32,
  logitsOffset: u32,
  logitsStride: u32,
  gradOffset: u32,
  gradStride: u32,
  writeO: u32,
}

@group(0) @binding(0) var<storage, read> id_logits: array<f32>;
@group(0) @binding(1) var<storage, read> id_weights: array<f32>;
@group(0) @binding(2) var<storage, read> id_items: array<u32>;
@group(0) @binding(3) var<storage, read> id_labels: array<u32>;
@group(0) @binding(4) var<storage, read_write> id_grad: array<f32>;
@group(0) @binding(5) var<storage, read_write> id_out: array<f32>;
@group(0) @binding(6) var<uniform> ident: IdentityParams;
@group(0) @binding(7) var<storage, read_write> id_o: array<f32>;

fn write_outputs(row: u32, lse: f32, loss: f32, zy: f32, nll_y: f32, correct: bool) {
  let ob = row * OUT_STRIDE;
  id_out[ob + OUT_LSE] = lse;
  id_out[ob + OUT_LOSS] = loss;
  id_out[ob + OUT_ZTRUE] = zy;
  id_out[ob + OUT_PTRUE] = exp(-nll_y);
  id_out[ob + OUT_CORRECT] = select(0.0, 1.0, correct);
}

@compute @workgroup_size(64, 1, 1)
fn identity_softmax_grad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let flat = flat_index(gid, groups);
  let N = ident.N;
  if (flat >= N * ident.runs) {
    return;
  }
  let run = flat / N;
  let i = flat - run * N;
  let zb = ident.logitsOffset + run * ident.logitsStride;
  let gb = ident.gradOffset + run * ident.gradStride;
  var m = NEG_HUGE;
  var mx = NEG_HUGE;
  var zsum = 0.0;
  for (var j = 0u; j < N; j++) {
    let v = id_logits[zb + j * N + i];
    m = max(m, v);
    zsum += v;
    if (j != i) {
      mx = max(mx, v);
    }
  }
  let zy = id_logits[zb + i * N + i];
  var s_tot = 0.0;
  var s_excl = 0.0;
  for (var j = 0u; j < N; j++) {
    let e = exp(id_logits[zb + j * N + i] - m);
    s_tot += e;
    if (j != i) {
      s_excl += e;
    }
  }
  let lse = m + log(s_tot);
  let nll_y = true_class_nll(m, s_excl, zy);
  let noise = ident.noise;
  var expected_loss = nll_y;
  if (noise > 0.0) {
    expected_loss = (1.0 - noise) * nll_y + noise * (lse - zsum / f32(N));
  }
  let correct = zy > mx;
  // Weight of the column's softmax row and of its (expected) target.
  var w = 0.0;
  if (ident.mode == 0u) {
    w = id_weights[i];
    write_outputs(run * N + i, lse, expected_loss, zy, nll_y, correct);
  } else {
    let ib = run * ident.indexBatchStride;
    var count = 0u;
    for (var b = 0u; b < ident.batchSize; b++) {
      if (id_items[ib + b] == i) {
        count++;
        var loss = expected_loss;
        if (ident.mode == 2u) {
          let lab = id_labels[ib + b];
          if (lab == i) {
            loss = nll_y;
          } else {
            loss = lse - id_logits[zb + lab * N + i];
          }
        }
        write_outputs(run * ident.batchSize + b, lse, loss, zy, nll_y, correct);
      }
    }
    w = f32(count) / f32(ident.batchSize);
  }
  let inv = 1.0 / s_tot;
  let uniform_target = noise / f32(N);
  for (var j = 0u; j < N; j++) {
    let p = exp(id_logits[zb + j * N + i] - m) * inv;
    var t = 0.0;
    if (ident.mode != 2u) {
      t = uniform_target;
      if (j == i) {
        t += 1.0 - noise;
      }
    }
    id_grad[gb + j * N + i] = w * (p - t);
    if (ident.writeO != 0u) {
      id_o[(run * N + i) * N + j] = p;
    }
  }
  if (ident.mode == 2u) {
    let ib = run * ident.indexBatchStride;
    let step = 1.0 / f32(ident.batchSize);
    for (var b = 0u; b < ident.batchSize; b++) {
      if (id_items[ib + b] == i) {
        let at = gb + id_labels[ib + b] * N + i;
        id_grad[at] = id_grad[at] - step;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// block3_transform: Y = (I ⊗ L) · X · (I ⊗ Q)ᵀ for n×n matrices (n divisible by 3), batched over
// runs: Y[3p+a, 3s+b] = Σ_{a',b'} L[a][a'] · X[3p+a', 3s+b'] · Q[b][b']. One invocation per entry.
// X of run r starts at srcOffset + r·srcStride, Y at dstOffset + r·dstStride (views of W or G).

struct Block3Params {
  n: u32,
  runs: u32,
  l00: f32, l01: f32, l02: f32,
  l10: f32, l11: f32, l12: f32,
  l20: f32, l21: f32, l22: f32,
  q00: f32, q01: f32, q02: f32,
  q10: f32, q11: f32, q12: f32,
  q20: f32, q21: f32, q22: f32,
  srcOffset: u32,
  srcStride: u32,
  dstOffset: u32,
  dstStride: u32,
}

@group(0) @binding(0) var<storage, read> block_src: array<f32>;
@group(0) @binding(1) var<storage, read_write> block_dst: array<f32>;
@group(0) @binding(2) var<uniform> blocks: Block3Params;

@compute @workgroup_size(64, 1, 1)
fn block3_transform(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let flat = flat_index(gid, groups);
  let n = blocks.n;
  if (flat >= n * n * blocks.runs) {
    return;
  }
  let run = flat / (n * n);
  let rc = flat - run * n * n;
  let row = rc / n;
  let col = rc - row * n;
  let a = row % 3u;
  let b = col % 3u;
  let r0 = row - a;
  let c0 = col - b;
  let L = mat3x3<f32>(
    vec3<f32>(blocks.l00, blocks.l10, blocks.l20),
    vec3<f32>(blocks.l01, blocks.l11, blocks.l21),
    vec3<f32>(blocks.l02, blocks.l12, blocks.l22));
  let Q = mat3x3<f32>(
    vec3<f32>(blocks.q00, blocks.q10, blocks.q20),
    vec3<f32>(blocks.q01, blocks.q11, blocks.q21),
    vec3<f32>(blocks.q02, blocks.q12, blocks.q22));
  let base = blocks.srcOffset + run * blocks.srcStride;
  var y = 0.0;
  for (var a2 = 0u; a2 < 3u; a2++) {
    var inner = 0.0;
    for (var b2 = 0u; b2 < 3u; b2++) {
      inner += block_src[base + (r0 + a2) * n + c0 + b2] * Q[b2][b];
    }
    y += L[a2][a] * inner;
  }
  block_dst[blocks.dstOffset + run * blocks.dstStride + rc] = y;
}

// ---------------------------------------------------------------------------------------------
// count_nonfinite: how many of `count` f32 values (read as bits: WGSL lets a compiler assume floats
// are finite, so `x != x` cannot be trusted) have an all-ones exponent, i.e. are NaN or ±Inf.

struct FiniteParams {
  count: u32,
  offset: u32,
}

@group(0) @binding(0) var<storage, read> finite_bits: array<u32>;
@group(0) @binding(1) var<storage, read_write> finite_counter: array<atomic<u32>>;
@group(0) @binding(2) var<uniform> finite: FiniteParams;

@compute @workgroup_size(64, 1, 1)
fn count_nonfinite(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let k = flat_index(gid, groups);
  if (k >= finite.count) {
    return;
  }
  if ((finite_bits[finite.offset + k] & 0x7f800000u) == 0x7f800000u) {
    atomicAdd(&finite_counter[0], 1u);
  }
}

// ---------------------------------------------------------------------------------------------
// gather_rows_in_chunk (staged path): rows of an item-major table arrive one chunk at a time
// (rows [chunkBase, chunkBase + chunkRows) copied into gather_src); every query whose index falls in
// the chunk copies its row. One invocation per (run, query of the block); after all chunks every
// query has its row. gather_out[(run·blockRows + q)·cols + k].

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
  let row = flat_index(gid, groups);
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
  let k = flat_index(gid, groups);
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
