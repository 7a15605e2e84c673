// Philox-4x32-10 (Salmon et al., SC'11): the one counter-based RNG of SPEC §6. TypeScript twin:
// src/cpu/philox.ts — same 16-bit-half multiply, so u32 outputs are bit-identical on both sides.
// A draw is keyed by (seed, stream): key = (seed, stream id), counter = (index, step, 0, 0).
//
// Everything above the PHILOX-LIBRARY-END marker is a library: other shaders (embeddings, sampling)
// are compiled with it prepended (src/kernels/philox.ts cuts the file at the marker, so the test
// kernel's bindings below never collide with theirs).

const PHILOX_M0: u32 = 0xd2511f53u;
const PHILOX_M1: u32 = 0xcd9e8d57u;
const PHILOX_W0: u32 = 0x9e3779b9u;
const PHILOX_W1: u32 = 0xbb67ae85u;
const PHILOX_PI: f32 = 3.14159265358979;

// High 32 bits of a·b (WGSL has no 64-bit integers): four 16×16 partial products.
fn philox_mulhi(a: u32, b: u32) -> u32 {
  let al = a & 0xffffu;
  let ah = a >> 16u;
  let bl = b & 0xffffu;
  let bh = b >> 16u;
  let ll = al * bl;
  let lh = al * bh;
  let hl = ah * bl;
  let hh = ah * bh;
  let cross = (ll >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  return hh + (lh >> 16u) + (hl >> 16u) + (cross >> 16u);
}

fn philox4x32(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = counter;
  var k = key;
  for (var round = 0u; round < 10u; round++) {
    if (round > 0u) {
      k = k + vec2<u32>(PHILOX_W0, PHILOX_W1);
    }
    let hi0 = philox_mulhi(PHILOX_M0, c.x);
    let lo0 = PHILOX_M0 * c.x;
    let hi1 = philox_mulhi(PHILOX_M1, c.z);
    let lo1 = PHILOX_M1 * c.z;
    c = vec4<u32>(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
  }
  return c;
}

fn philox_draw(seed: u32, stream: u32, index: u32, step: u32) -> vec4<u32> {
  return philox4x32(vec4<u32>(index, step, 0u, 0u), vec2<u32>(seed, stream));
}

// [0, 1): top 24 bits × 2^-24, exact in f32 (bit-identical to the CPU).
fn philox_uniform(x: u32) -> f32 {
  return f32(x >> 8u) * 5.9604644775390625e-8;
}

// (0, 1]: for the logarithm of Box–Muller.
fn philox_uniform_open(x: u32) -> f32 {
  return f32((x >> 8u) + 1u) * 5.9604644775390625e-8;
}

// Box–Muller; θ ∈ [−π, π), where WGSL states cos/sin accuracy (absolute 2^-11).
fn philox_box_muller(x0: u32, x1: u32) -> vec2<f32> {
  let r = sqrt(-2.0 * log(philox_uniform_open(x0)));
  let theta = PHILOX_PI * (2.0 * philox_uniform(x1) - 1.0);
  return vec2<f32>(r * cos(theta), r * sin(theta));
}

// Element k of a stream's normal sequence: draw k/4, lanes (0,1) and (2,3) are Box–Muller pairs.
fn philox_normal(seed: u32, stream: u32, k: u32) -> f32 {
  let x = philox_draw(seed, stream, k >> 2u, 0u);
  let lane = k & 3u;
  var pair: vec2<f32>;
  if (lane < 2u) {
    pair = philox_box_muller(x.x, x.y);
  } else {
    pair = philox_box_muller(x.z, x.w);
  }
  if ((lane & 1u) == 0u) {
    return pair.x;
  }
  return pair.y;
}

// Invocation index of a 1-D job laid out over a 2-D grid (more than 65535 workgroups along x).
fn linear_invocation(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
  return gid.x + gid.y * groups.x * 64u;
}

// PHILOX-LIBRARY-END

// Test / fill kernel: element k of a stream as raw u32 (mode 0), f32 uniform bits (mode 1), normal
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
