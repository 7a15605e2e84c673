// The 8×8 accumulator block of the GPU-shaped matmul variants (shaders/matmul/matmul_tiled_vec4.wgsl,
// shaders/matmul/matmul_subgroup.wgsl): eight rows of C, each as two vec4 halves of four columns.
// Named members accessed by constants only, so every accumulator stays a register.

// rRhH: block row R (0..7), column half H (0, 1). Which rows and columns of C those are is the
// kernel's choice (stated where it stores the block).
struct Block8x8 {
  r0h0: vec4<f32>, r0h1: vec4<f32>, r1h0: vec4<f32>, r1h1: vec4<f32>,
  r2h0: vec4<f32>, r2h1: vec4<f32>, r3h0: vec4<f32>, r3h1: vec4<f32>,
  r4h0: vec4<f32>, r4h1: vec4<f32>, r5h0: vec4<f32>, r5h1: vec4<f32>,
  r6h0: vec4<f32>, r6h1: vec4<f32>, r7h0: vec4<f32>, r7h1: vec4<f32>,
}

// One k: block += (a_lo, a_hi) ⊗ (b_lo, b_hi) — column of 8 A values (rows 0..3, 4..7) times row of
// 8 B values (halves 0, 1), one fma (one rounding) per multiply-add.
fn rank1Block8x8(acc: Block8x8, aLo: vec4<f32>, aHi: vec4<f32>, bLo: vec4<f32>, bHi: vec4<f32>) -> Block8x8 {
  return Block8x8(
    fma(vec4(aLo.x), bLo, acc.r0h0), fma(vec4(aLo.x), bHi, acc.r0h1),
    fma(vec4(aLo.y), bLo, acc.r1h0), fma(vec4(aLo.y), bHi, acc.r1h1),
    fma(vec4(aLo.z), bLo, acc.r2h0), fma(vec4(aLo.z), bHi, acc.r2h1),
    fma(vec4(aLo.w), bLo, acc.r3h0), fma(vec4(aLo.w), bHi, acc.r3h1),
    fma(vec4(aHi.x), bLo, acc.r4h0), fma(vec4(aHi.x), bHi, acc.r4h1),
    fma(vec4(aHi.y), bLo, acc.r5h0), fma(vec4(aHi.y), bHi, acc.r5h1),
    fma(vec4(aHi.z), bLo, acc.r6h0), fma(vec4(aHi.z), bHi, acc.r6h1),
    fma(vec4(aHi.w), bLo, acc.r7h0), fma(vec4(aHi.w), bHi, acc.r7h1),
  );
}
