// advance_runs (src/gpu/runParams.ts): the end of a step for a batch of runs.

//#import lib/run_params.wgsl

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
