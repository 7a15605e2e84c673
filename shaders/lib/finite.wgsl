// Finite-or-not as a bit test, not a comparison: WGSL lets compilers assume floats are finite, so
// `x != x` or `abs(x) < inf` may fold to a constant. An all-ones exponent is ±Inf or NaN.

fn finite(value: f32) -> bool {
  return (bitcast<u32>(value) & 0x7f800000u) != 0x7f800000u;
}
