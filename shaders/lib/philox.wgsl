// Philox-4x32-10 (Salmon et al., SC'11): the one counter-based RNG of docs/math.md §6. TypeScript twin:
// src/cpu/philox.ts — same 16-bit-half multiply, so u32 outputs are bit-identical on both sides.
// A draw is keyed by (seed, stream): key = (seed, stream id), counter = (index, step, 0, 0).
// Functions and constants only (no bindings): shaders that draw random numbers import it.

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
