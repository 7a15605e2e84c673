// Per-run scalars of a batch of training runs: one RunParams per run in one storage buffer, read by
// every update kernel (index = the run's batch index). This struct is the single definition:
// src/gpu/runParams.ts reflects it for the host-side packing, and kernels that need it are compiled
// with this file prepended. Fields are never reordered, only appended (the layout is a contract).
//
// A diverged run (non-finite update or loss) has `diverged != 0`: update kernels leave its state
// untouched from then on, so it stays frozen at its last finite state while the batch goes on.

struct RunParams {
  lr: f32,            // η_t of the current step (host or schedule kernel writes it)
  lrBase: f32,        // η_1 of the schedule
  lrGrowth: f32,      // geometric schedule factor g (η_t = η_1·g^{t−1}); 1 for constant
  momentum: f32,      // μ (heavy ball / Muon buffer) or β for the EMA form
  beta1: f32,
  beta2: f32,
  eps: f32,
  weightDecay: f32,
  lambda: f32,        // muon-reg's λ
  scale: f32,         // extra update scale (e.g. sqrt(max(1, rows/cols)))
  step: u32,          // steps taken so far (t − 1 during step t)
  diverged: u32,      // 0 = running, 1 = frozen
  divergedAtStep: u32,
  flags: u32,         // bit 0: nesterov; bit 1: EMA momentum (Muon); bit 2: decoupled weight decay (AdamW)
  seed: u32,          // runSeed (low 32 bits) for in-kernel sampling
  reserved: u32,
}

@group(0) @binding(0) var<storage, read_write> runs: array<RunParams>;
@group(0) @binding(1) var<uniform> advance: AdvanceParams;

struct AdvanceParams {
  count: u32,
}

// End of a step: every running run advances its step and its geometric schedule's η; frozen runs
// keep theirs (so `step` of a diverged run reads the step at which it froze).
@compute @workgroup_size(64, 1, 1)
fn advance_runs(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = gid.x;
  if (r >= advance.count || runs[r].diverged != 0u) {
    return;
  }
  runs[r].step = runs[r].step + 1u;
  runs[r].lr = runs[r].lr * runs[r].lrGrowth;
}
