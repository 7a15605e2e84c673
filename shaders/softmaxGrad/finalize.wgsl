// softmax_finalize: one invocation per (run, query).

//#import lib/softmax_state.wgsl
//#import lib/linear_invocation.wgsl

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
  let row = linear_invocation(gid, groups);
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
