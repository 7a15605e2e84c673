// identity_softmax_grad: one invocation per (run, item column). logits[r, j, i] = z_ij, read at
// logitsOffset + r·logitsStride (W may be a view); the gradient likewise at gradOffset + r·gradStride.
// With writeO = 1 it also writes o_i = p̂(·|i) (for E = Ẽ = I, o_i is the softmax column itself)
// as row i of id_o ([R, N, N], query-major: id_o[(r·N + i)·N + j] = p̂(j|i)).
// mode 0: population (query = item i, weight weights[i]); 1: minibatch, expected targets;
// 2: minibatch, sampled labels. A minibatch column sums every draw of its item, so one invocation
// owns the column and no two invocations write the same G entry.

//#import lib/softmax_state.wgsl
//#import lib/linear_invocation.wgsl

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
  let flat = linear_invocation(gid, groups);
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
