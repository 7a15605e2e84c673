// Minibatch draws on the GPU (docs/math.md §1, §6). CPU twin:
// sampleMinibatchCpu in src/task/sampling.ts — integer-only, so items and labels are bit-identical.
//
// Draw b of run r at step t: x = philox((b, t, 0, 0), (seed_r, STREAM_MINIBATCH)).
//   item  = #{k : thresholds[k] ≤ x.x}   (binary search over the cumulative u32 thresholds)
//   label = x.y < noiseThreshold ? ⌊x.z·N / 2^32⌋ : item

//#import lib/philox.wgsl
//#import lib/linear_invocation.wgsl

struct SampleParams {
  batchSize: u32,
  runs: u32,
  N: u32,
  thresholdCount: u32,
  noiseThreshold: u32,
  step: u32,
  stream: u32,
}

@group(0) @binding(0) var<storage, read> seeds: array<u32>;
@group(0) @binding(1) var<storage, read> thresholds: array<u32>;
@group(0) @binding(2) var<storage, read_write> items: array<u32>;
@group(0) @binding(3) var<storage, read_write> labels: array<u32>;
@group(0) @binding(4) var<uniform> sampling: SampleParams;

@compute @workgroup_size(64, 1, 1)
fn sample_minibatch(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_invocation(gid, groups);
  if (i >= sampling.batchSize * sampling.runs) {
    return;
  }
  let r = i / sampling.batchSize;
  let b = i - r * sampling.batchSize;
  let x = philox_draw(seeds[r], sampling.stream, b, sampling.step);
  var lo = 0u;
  var hi = sampling.thresholdCount;
  while (lo < hi) {
    let mid = (lo + hi) >> 1u;
    if (thresholds[mid] <= x.x) {
      lo = mid + 1u;
    } else {
      hi = mid;
    }
  }
  items[i] = lo;
  if (x.y < sampling.noiseThreshold) {
    labels[i] = philox_mulhi(x.z, sampling.N);
  } else {
    labels[i] = lo;
  }
}
