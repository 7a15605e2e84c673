// Achievable-peak probes: how many f32 FLOP/s and bytes/s this adapter delivers to a WGSL kernel,
// so every kernel's GFLOP/s can be read as a fraction of what the device can do.
//
// fma_peak: each invocation runs 8 independent vec4 recurrences x ← fma(x, a, b) (32 scalar chains)
// for `iterations` trips. Independent chains hide the FMA latency (one chain would measure latency,
// not throughput); a and b come from a uniform, so the compiler cannot fold or shorten the loop,
// and the sum of the chains is written so it cannot drop them. FLOPs = invocations · iterations ·
// 32 chains · 2. The chain values are exact small dyadic numbers when a = b = 1 (x_n = x_0 + n),
// which lets a test check the trip count exactly; other a, b check the arithmetic against a CPU
// evaluation of the same recurrence (src/cpu/fmaPeak.ts).
//
// copy_bandwidth: dst[i] = src[i] over vec4s, one read and one write per element: bytes = 2·size.
// A grid-stride loop (a fixed number of invocations, each copying every `stride`-th vec4) keeps the
// per-invocation overhead — large on a CPU adapter — out of the figure; neighbouring invocations
// touch neighbouring vec4s at every trip (coalesced on a GPU).

struct FmaParams {
  iterations: u32,
  a: f32,
  b: f32,
}

struct CopyParams {
  count: u32,
  stride: u32,
}

@group(0) @binding(0) var<storage, read_write> fmaOut: array<f32>;
@group(0) @binding(1) var<uniform> fmaParams: FmaParams;

@compute @workgroup_size(64, 1, 1)
fn fma_peak(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let index = gid.x + gid.y * groups.x * 64u;
  // x_0 of chain c (0…31) of this invocation: (index mod 16)/4 + c/8, a multiple of 1/8.
  let base = vec4<f32>(f32(index % 16u) * 0.25);
  let offsets = vec4<f32>(0.0, 0.125, 0.25, 0.375);
  var x0 = base + offsets;
  var x1 = base + offsets + vec4<f32>(0.5);
  var x2 = base + offsets + vec4<f32>(1.0);
  var x3 = base + offsets + vec4<f32>(1.5);
  var x4 = base + offsets + vec4<f32>(2.0);
  var x5 = base + offsets + vec4<f32>(2.5);
  var x6 = base + offsets + vec4<f32>(3.0);
  var x7 = base + offsets + vec4<f32>(3.5);
  let a = vec4<f32>(fmaParams.a);
  let b = vec4<f32>(fmaParams.b);
  for (var i = 0u; i < fmaParams.iterations; i = i + 1u) {
    x0 = fma(x0, a, b);
    x1 = fma(x1, a, b);
    x2 = fma(x2, a, b);
    x3 = fma(x3, a, b);
    x4 = fma(x4, a, b);
    x5 = fma(x5, a, b);
    x6 = fma(x6, a, b);
    x7 = fma(x7, a, b);
  }
  // Fixed summation order (mirrored by the CPU twin): pairwise over the vectors, then the lanes.
  let s = ((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7));
  fmaOut[index] = (s.x + s.y) + (s.z + s.w);
}

@group(0) @binding(0) var<storage, read> copySrc: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> copyDst: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> copyParams: CopyParams;

@compute @workgroup_size(64, 1, 1)
fn copy_bandwidth(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  for (var i = gid.x + gid.y * groups.x * 64u; i < copyParams.count; i = i + copyParams.stride) {
    copyDst[i] = copySrc[i];
  }
}
