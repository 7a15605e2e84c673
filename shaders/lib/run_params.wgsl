// Per-run scalars of a batch of training runs: one RunParams per run in one storage buffer, read by
// every update kernel (index = the run's batch index). This struct is the single definition:
// src/gpu/runParams.ts reflects it for the host-side packing, and kernels that need it import this
// file (`//#import lib/run_params.wgsl`). Fields are never reordered, only appended (the layout is a
// contract).
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
  flags: u32,         // RUN_FLAG_* bits below
  seed: u32,          // runSeed (low 32 bits) for in-kernel sampling
  reserved: u32,
}

// Bits of RunParams.flags. TypeScript's twins are FLAG_* in src/cpu/optim.ts (test/composeWgsl
// checks that the two agree).
const RUN_FLAG_NESTEROV: u32 = 1u;         // Nesterov momentum (gd, muon)
const RUN_FLAG_EMA_MOMENTUM: u32 = 2u;     // Muon's EMA buffer B ← βB + (1−β)G instead of μB + G
const RUN_FLAG_DECOUPLED_DECAY: u32 = 4u;  // AdamW's decoupled weight decay

fn hasFlag(p: RunParams, flag: u32) -> bool {
  return (p.flags & flag) != 0u;
}
