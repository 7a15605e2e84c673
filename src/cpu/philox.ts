/**
 * Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11), the one
 * counter-based generator of docs/math.md §6, and its derived streams. The WGSL twin is shaders/lib/philox.wgsl;
 * both compute the 32×32→64-bit product from 16-bit halves so the u32 outputs are bit-identical.
 *
 * A draw is keyed by (seed, stream, counter): key = (seed, stream id), counter = (index, step, 0, 0).
 * The stream ids below are a fixed table — never renumber an entry, only append — so results stay
 * reproducible across versions.
 */

/** One stream id per purpose (docs/math.md §6). Appending is fine; renumbering breaks reproducibility. */
export const PHILOX_STREAMS = {
  /** Input embeddings E (gaussian entries; orthonormal's Gram–Schmidt input). Seed: taskSeed. */
  embeddingIn: 1,
  /** Output embeddings Ẽ. Seed: taskSeed. */
  embeddingOut: 2,
  /** Reserved: a frequency permutation (none of the current frequency kinds permutes). */
  frequencyPermutation: 3,
  /** Minibatch draws, counter (draw, step): lane 0 item, lane 1 noise flag, lane 2 noise label. */
  minibatch: 16,
  /** Synthetic token sequences of the transformer lab (src/model/data.ts). Seed: data.seed (+ replica). */
  tokenData: 32,
  /** Transition table of the synthetic Markov token source. Seed: data.seed. */
  tokenTable: 33,
  /** Knowledge corpus (src/model/knowledge.ts): the individuals' two-token names. Seed: data.seed. */
  knowledgeNames: 34,
  /** Knowledge corpus: every individual's attribute values. Seed: data.seed. */
  knowledgeFacts: 35,
  /** Knowledge corpus training sequences, counter (row·T + statement, step). Seed: data.seed (+ replica + 1 unshared). */
  knowledgeData: 36,
  /** Knowledge corpus validation sequences (held-out statement orders), counter (row·T + statement, batch). */
  knowledgeValidation: 37,
  /** In-context regression (src/model/regression.ts): the task vectors w_j. Seed: data.seed. */
  regressionTasks: 38,
  /** In-context regression: the fixed linear read-in of the inputs into the model width. Seed: data.seed. */
  regressionReadIn: 39,
  /** In-context regression training sequences, counter (row, step). Seed: data.seed (+ replica + 1 unshared). */
  regressionData: 40,
  /** In-context regression evaluation sequences (held-out inputs), counter (row, batch). */
  regressionValidation: 41,
  /**
   * Transformer initial weights: stream transformerInit + 256·kind + layer, kind the index in
   * MATRIX_KINDS (src/layout/transformerShape.ts), layer 0 for embed/pos/head. Seed: the replica's seed.
   */
  transformerInit: 0x1000,
  /** Free for tests and kernel checks. */
  test: 0xffff,
} as const;

export type PhiloxStream = keyof typeof PHILOX_STREAMS;

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of a·b for u32 a, b, from 16-bit halves (the same arithmetic as the WGSL). */
export function mulhi32(a: number, b: number): number {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const ll = al * bl;
  const lh = al * bh;
  const hl = ah * bl;
  const hh = ah * bh;
  const cross = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (hh + (lh >>> 16) + (hl >>> 16) + Math.floor(cross / 65536)) >>> 0;
}

/**
 * Philox-4x32-10 of one counter under one key: four u32.
 *
 * @example
 * philox4x32([0, 0, 0, 0], [0, 0]); // → [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
 */
export function philox4x32(counter: readonly number[], key: readonly number[]): [number, number, number, number] {
  let c0 = counter[0] >>> 0;
  let c1 = counter[1] >>> 0;
  let c2 = counter[2] >>> 0;
  let c3 = counter[3] >>> 0;
  let k0 = key[0] >>> 0;
  let k1 = key[1] >>> 0;
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    const hi0 = mulhi32(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi32(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    const n0 = (hi1 ^ c1 ^ k0) >>> 0;
    const n2 = (hi0 ^ c3 ^ k1) >>> 0;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
  }
  return [c0, c1, c2, c3];
}

/** The four u32 of draw `index` (and `step`) of a stream under a seed. */
export function philoxDraw(seed: number, stream: number, index: number, step = 0): [number, number, number, number] {
  return philox4x32([index >>> 0, step >>> 0, 0, 0], [seed >>> 0, stream >>> 0]);
}

/**
 * u32 → uniform in [0, 1): the top 24 bits times 2^-24. Exact in f32, so the GPU's value is
 * bit-identical (docs/math.md §6 policy).
 */
export function u32ToUniform(x: number): number {
  return (x >>> 8) * 2 ** -24;
}

/** u32 → uniform in (0, 1], for a logarithm: (top 24 bits + 1)·2^-24, exact in f32. */
export function u32ToUniformOpen(x: number): number {
  return ((x >>> 8) + 1) * 2 ** -24;
}

/**
 * Box–Muller on a pair of u32: r = √(−2 ln u1), θ = π·(2·u2 − 1) ∈ [−π, π) (kept inside the range
 * where WGSL states cos/sin accuracy), normals (r·cos θ, r·sin θ). Float64 here; the GPU's f32
 * result differs by at most what WGSL's log/sqrt/cos/sin accuracy allows (see the tests).
 */
export function boxMuller(x0: number, x1: number): [number, number] {
  const u1 = u32ToUniformOpen(x0);
  const v = 2 * u32ToUniform(x1) - 1;
  const r = Math.sqrt(-2 * Math.log(u1));
  const theta = Math.PI * v;
  return [r * Math.cos(theta), r * Math.sin(theta)];
}

/**
 * Element k of a stream's normal sequence: draw ⌊k/4⌋ gives four normals, lanes (0,1) and (2,3)
 * each a Box–Muller pair. The same indexing as `philox_normal` in shaders/lib/philox.wgsl.
 */
export function philoxNormal(seed: number, stream: number, k: number): number {
  const x = philoxDraw(seed, stream, Math.floor(k / 4));
  const lane = k % 4;
  const pair = lane < 2 ? boxMuller(x[0], x[1]) : boxMuller(x[2], x[3]);
  return pair[lane % 2];
}

/** `count` normals of a stream (elements 0..count−1), Float64. */
export function philoxNormals(seed: number, stream: number, count: number, scale = 1): Float64Array {
  const out = new Float64Array(count);
  for (let g = 0; g * 4 < count; g++) {
    const x = philoxDraw(seed, stream, g);
    const [a, b] = boxMuller(x[0], x[1]);
    const [c, d] = boxMuller(x[2], x[3]);
    const vals = [a, b, c, d];
    for (let l = 0; l < 4 && g * 4 + l < count; l++) out[g * 4 + l] = vals[l] * scale;
  }
  return out;
}

/** `count` raw u32 of a stream (element k = lane k%4 of draw ⌊k/4⌋). */
export function philoxU32(seed: number, stream: number, count: number): Uint32Array {
  const out = new Uint32Array(count);
  for (let g = 0; g * 4 < count; g++) {
    const x = philoxDraw(seed, stream, g);
    for (let l = 0; l < 4 && g * 4 + l < count; l++) out[g * 4 + l] = x[l];
  }
  return out;
}
