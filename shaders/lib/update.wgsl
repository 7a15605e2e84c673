// The frame every elementwise update kernel shares (shaders/optimizers/*.wgsl): the run parameters,
// the weights being updated, the element shape, and the CHECK / APPLY protocol.
//
// Two passes per step run the same code under the CHECK override. CHECK computes the candidate and,
// when any new value (weight or optimizer state) would be non-finite, marks the run diverged (every
// such invocation writes the same values, so the race is benign); APPLY writes the new values for
// runs that are not diverged. A run is therefore never left half-updated: it freezes at its last
// finite state while the rest of the batch goes on.

//#import lib/run_params.wgsl
//#import lib/finite.wgsl

// Element count of one run's matrix, runs in the batch, and where W and G of run b start.
struct UpdateShape {
  count: u32,
  batch: u32,
  offsetW: u32,
  batchStrideW: u32,
  offsetG: u32,
  batchStrideG: u32,
}

override CHECK: bool = true;

@group(0) @binding(0) var<storage, read_write> runs: array<RunParams>;
@group(0) @binding(1) var<storage, read_write> w: array<f32>;
@group(0) @binding(2) var<uniform> shape: UpdateShape;

// Invocation (element i, run b) has nothing to do: past the end, or its run is frozen.
fn skipUpdate(i: u32, b: u32) -> bool {
  return i >= shape.count || b >= shape.batch || runs[b].diverged != 0u;
}

fn indexW(i: u32, b: u32) -> u32 {
  return shape.offsetW + b * shape.batchStrideW + i;
}

fn indexG(i: u32, b: u32) -> u32 {
  return shape.offsetG + b * shape.batchStrideG + i;
}

// Optimizer state (momentum, Adam moments) is dense: one matrix per run, no views.
fn indexState(i: u32, b: u32) -> u32 {
  return b * shape.count + i;
}

// The CHECK pass's verdict on one element's candidate values.
fn markDivergedUnless(allFinite: bool, b: u32, p: RunParams) {
  if (!allFinite) {
    runs[b].diverged = 1u;
    runs[b].divergedAtStep = p.step + 1u;
  }
}
