// The per-query softmax state and the numerics the softmax cross-entropy kernels share
// (shaders/softmaxGrad/*.wgsl): state slots, output columns (TypeScript's twin is
// SOFTMAX_OUTPUT_COLUMNS in src/kernels/softmaxGrad/softmaxGrad.ts; test/composeWgsl checks that the
// two agree), an accurate log1p and the stable true-class loss.

const NEG_HUGE: f32 = -3.0e38;
// State slots per query.
const ST_M: u32 = 0u;
const ST_STOT: u32 = 1u;
const ST_SEXCL: u32 = 2u;
const ST_MXEXCL: u32 = 3u;
const ST_ZSUM: u32 = 4u;
const ST_ZTRUE: u32 = 5u;
const ST_ZLABEL: u32 = 6u;
const STATE_STRIDE: u32 = 8u;
// Output columns per query.
const OUT_LSE: u32 = 0u;
const OUT_LOSS: u32 = 1u;
const OUT_ZTRUE: u32 = 2u;
const OUT_PTRUE: u32 = 3u;
const OUT_CORRECT: u32 = 4u;
const OUT_STRIDE: u32 = 5u;

// log(1 + x) for x ≥ 0 keeping relative accuracy when x is tiny: WGSL's log has only absolute
// accuracy 2^-21 near 1, so below 1/16 use the alternating series to x^7 (truncation ≤ x^7/8
// relative, < 5e-10); above it log(1 + x) is ≥ 0.06 and 2^-21 absolute is < 1e-5 relative.
fn log1p_accurate(x: f32) -> f32 {
  if (x < 0.0625) {
    return x * (1.0 - x * (0.5 - x * (0.33333334 - x * (0.25 - x * (0.2 - x * (0.16666667 - x * 0.14285715))))));
  }
  return log(1.0 + x);
}

// −log p̂_y = log1p(Σ_{j≠y} e^{z_j − z_y}) = log1p(s_excl·e^{m − z_y}) with m ≥ z_y; when z_y is far
// below the max the product could overflow, and there the loss is (m − z_y) + log(s_excl + e^{z_y−m}).
fn true_class_nll(m: f32, s_excl: f32, z_y: f32) -> f32 {
  let gap = m - z_y;
  if (gap <= 60.0) {
    return log1p_accurate(s_excl * exp(gap));
  }
  return gap + log(s_excl + exp(-gap));
}
