// Philox test / fill kernel (src/kernels/philox/): what the tests compare with the CPU twin
// (src/cpu/philox.ts).

//#import lib/philox.wgsl
//#import lib/linear_invocation.wgsl

// Element k of a stream as raw u32 (mode 0), f32 uniform bits (mode 1), normal
// times `scale` (mode 2), or raw Philox of an arbitrary counter and key (mode 3: element k = lane
// k%4 of philox4x32((c0 + k/4, c1, c2, c3), (seed, stream)) — the known-answer vectors).
struct PhiloxFillParams {
  count: u32,
  seed: u32,
  stream: u32,
  mode: u32,
  scale: f32,
  step: u32,
  c0: u32,
  c1: u32,
  c2: u32,
  c3: u32,
}

@group(0) @binding(0) var<storage, read_write> philox_out: array<u32>;
@group(0) @binding(1) var<uniform> fill: PhiloxFillParams;

@compute @workgroup_size(64, 1, 1)
fn philox_fill(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let k = linear_invocation(gid, groups);
  if (k >= fill.count) {
    return;
  }
  if (fill.mode == 2u) {
    philox_out[k] = bitcast<u32>(philox_normal(fill.seed, fill.stream, k) * fill.scale);
    return;
  }
  var x: vec4<u32>;
  if (fill.mode == 3u) {
    x = philox4x32(vec4<u32>(fill.c0 + (k >> 2u), fill.c1, fill.c2, fill.c3), vec2<u32>(fill.seed, fill.stream));
  } else {
    x = philox_draw(fill.seed, fill.stream, k >> 2u, fill.step);
  }
  let v = x[k & 3u];
  if (fill.mode == 1u) {
    philox_out[k] = bitcast<u32>(philox_uniform(v));
  } else {
    philox_out[k] = v;
  }
}
