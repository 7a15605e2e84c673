// The scheduler's loss guard (src/train/freezeNonFinite.ts): a run whose population loss is not
// finite is frozen on the GPU, in the same command buffer as the step that evaluated it, so the
// freeze never waits for a readback (the update kernels only see non-finite *updates*; a loss can
// overflow while every W stays finite).
//
// One workgroup per run scans the per-item losses of the evaluation (column `lossColumn` of the
// softmax-gradient outputs [R, N, columns]); an item counts when its weight p_i ≠ 0 — the same items
// the host's Σ p_i·loss_i sums, so "this sum is not finite" ⇔ "some counted loss is not finite".

//#import lib/run_params.wgsl
//#import lib/finite.wgsl

struct GuardParams {
  runCount: u32,
  items: u32,
  columns: u32,
  lossColumn: u32,
  step: u32,
}

@group(0) @binding(0) var<storage, read_write> runs: array<RunParams>;
@group(0) @binding(1) var<storage, read> outputs: array<f32>;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<uniform> guard: GuardParams;

var<workgroup> nonFinite: atomic<u32>;

@compute @workgroup_size(64, 1, 1)
fn freeze_nonfinite_loss(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = wg.x;
  if (r < guard.runCount) {
    for (var i = lid; i < guard.items; i = i + 64u) {
      let loss = outputs[(r * guard.items + i) * guard.columns + guard.lossColumn];
      if (weights[i] != 0.0 && !finite(loss)) {
        atomicOr(&nonFinite, 1u);
      }
    }
  }
  workgroupBarrier();
  if (lid == 0u && r < guard.runCount && atomicLoad(&nonFinite) != 0u && runs[r].diverged == 0u) {
    runs[r].diverged = 1u;
    runs[r].divergedAtStep = guard.step;
  }
}
