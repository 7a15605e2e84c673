/**
 * A small seeded generator for test inputs and benchmark operands (mulberry32). Not the experiment
 * RNG: runs draw from Philox (docs/math.md §6); this only makes kernel-check data reproducible.
 */
export function seededUniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` values uniform in [lo, hi), rounded to f32 so CPU and GPU see the same inputs. */
export function randomF32(n: number, seed: number, lo = -1, hi = 1): Float32Array<ArrayBuffer> {
  const next = seededUniform(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * next();
  return out;
}
