// muon-reg's coupled Newton–Schulz inverse square root (src/optim/muonReg.ts): for the s×s SPD
// matrix M = Gram(G) + λ²I of each run (s = the short side of G),
//   Y0 = M/c, Z0 = I (c = ‖M‖_F ≥ λ_max, so the spectrum of Y0 lies in (0, 1]);
//   T = 1.5·I − 0.5·Z·Y;  Y ← Y·T;  Z ← T·Z     →  Y → (M/c)^{1/2}, Z → (M/c)^{−1/2}
// and D = Z·G/√c (or G·Z/√c for a tall G). The products are the batched matmul; the kernels here,
// one workgroup per run, set up Y0 and Z0, decide per iteration whether a run goes on, and scale Z.
//
// Stop rule, per run (muon_reg_check): the residual r = ‖I − Z·Y‖_F = 2·‖T − I‖_F. A run stops when
// r ≤ tolerance or when r did not decrease (the f32 floor, which grows with κ(M): forming the Gram
// squares the condition number, so the achievable residual is κ-dependent and found, not guessed).
// A stopped run gets T = I, which leaves Y and Z bit-identical (products with I are exact), so all
// runs share every dispatch and no readback is needed; the cap is the number of iterations recorded.
// state per run (4 floats): c, previous residual, running (1/0), iterations taken.

//#import lib/run_params.wgsl
//#import lib/workgroup_sum.wgsl

struct RegShape {
  size: u32,        // s
  batch: u32,
  tolerance: f32,
}

@group(0) @binding(0) var<storage, read> runs: array<RunParams>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> z: array<f32>;
@group(0) @binding(3) var<storage, read_write> state: array<f32>;
@group(0) @binding(4) var<uniform> shape: RegShape;

@group(0) @binding(5) var<storage, read_write> t: array<f32>;
@group(0) @binding(6) var<storage, read_write> checkState: array<f32>;
@group(0) @binding(7) var<uniform> checkShape: RegShape;

@group(0) @binding(8) var<storage, read_write> zFinal: array<f32>;
@group(0) @binding(9) var<storage, read> finalState: array<f32>;
@group(0) @binding(10) var<uniform> finalShape: RegShape;

@compute @workgroup_size(64, 1, 1)
fn muon_reg_init(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = wg.x;
  let s = shape.size;
  let n = s * s;
  let base = b * n;
  let lambda2 = runs[b].lambda * runs[b].lambda;
  var acc = 0.0;
  for (var i = lid; i < n; i = i + 64u) {
    var v = y[base + i];
    if (i % (s + 1u) == 0u) {
      v = v + lambda2;
    }
    acc = acc + v * v;
  }
  let c = sqrt(workgroupSum(lid, acc));
  for (var i = lid; i < n; i = i + 64u) {
    let diagonal = i % (s + 1u) == 0u;
    var v = y[base + i];
    if (diagonal) {
      v = v + lambda2;
    }
    y[base + i] = v / c;
    z[base + i] = select(0.0, 1.0, diagonal);
  }
  if (lid == 0u) {
    state[4u * b] = c;
    state[4u * b + 1u] = 3.4e38;
    state[4u * b + 2u] = 1.0;
    state[4u * b + 3u] = 0.0;
  }
}

@compute @workgroup_size(64, 1, 1)
fn muon_reg_check(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = wg.x;
  let s = checkShape.size;
  let n = s * s;
  let base = b * n;
  // Read the run's state before the reduction's barriers: lane 0 rewrites it at the end.
  let running = checkState[4u * b + 2u] > 0.5;
  let previous = checkState[4u * b + 1u];
  var acc = 0.0;
  for (var i = lid; i < n; i = i + 64u) {
    let v = t[base + i] - select(0.0, 1.0, i % (s + 1u) == 0u);
    acc = acc + v * v;
  }
  let residual = 2.0 * sqrt(workgroupSum(lid, acc));
  // `!(residual < previous)` also stops on a NaN residual.
  let stop = !running || residual <= checkShape.tolerance || !(residual < previous);
  if (stop) {
    for (var i = lid; i < n; i = i + 64u) {
      t[base + i] = select(0.0, 1.0, i % (s + 1u) == 0u);
    }
  }
  if (lid == 0u) {
    if (running && !stop) {
      checkState[4u * b + 1u] = residual;
      checkState[4u * b + 3u] = checkState[4u * b + 3u] + 1.0;
    }
    if (running && stop) {
      checkState[4u * b + 2u] = 0.0;
      // Keep the residual the iteration ended with (the achieved accuracy).
      checkState[4u * b + 1u] = select(previous, residual, residual <= checkShape.tolerance);
    }
  }
}

@compute @workgroup_size(64, 1, 1)
fn muon_reg_finish(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = wg.x;
  let n = finalShape.size * finalShape.size;
  let scale = 1.0 / sqrt(finalState[4u * b]);
  for (var i = lid; i < n; i = i + 64u) {
    zFinal[b * n + i] = zFinal[b * n + i] * scale;
  }
}
