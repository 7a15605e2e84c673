/**
 * Float64 twin of shaders/fmaPeak/fma_peak.wgsl: the 32 chains x ← x·a + b of one invocation, their starting
 * values and their sum in the shader's order. Used to check that the peak kernel really computes
 * what its FLOP count claims (src/kernels/fmaPeak/check.ts, test/fmaPeak.browser.test.ts).
 */

/** Scalar chains per invocation in the shader (8 vec4 recurrences). */
export const FMA_CHAINS = 32;

/** x_0 of chain `chain` (0…31) in invocation `index`: (index mod 16)/4 + chain/8, as the shader. */
export function fmaChainStart(index: number, chain: number): number {
  return (index % 16) * 0.25 + chain * 0.125;
}

/** The 32 chain values after `iterations` trips of x ← x·a + b, in Float64. */
export function fmaChainValues(index: number, iterations: number, a: number, b: number): Float64Array {
  const x = new Float64Array(FMA_CHAINS);
  for (let c = 0; c < FMA_CHAINS; c++) {
    let v = fmaChainStart(index, c);
    for (let i = 0; i < iterations; i++) v = v * a + b;
    x[c] = v;
  }
  return x;
}

/**
 * What invocation `index` writes: the sum of its chains in the shader's order (pairwise over the
 * eight vectors, then the lanes as (x + y) + (z + w)).
 */
export function fmaPeakOutput(index: number, iterations: number, a: number, b: number): number {
  const x = fmaChainValues(index, iterations, a, b);
  const lane = (v: number, l: number) => x[4 * v + l];
  const s = [0, 1, 2, 3].map(
    (l) => lane(0, l) + lane(1, l) + (lane(2, l) + lane(3, l)) + (lane(4, l) + lane(5, l) + (lane(6, l) + lane(7, l))),
  );
  return s[0] + s[1] + (s[2] + s[3]);
}
