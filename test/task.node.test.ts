// The task on the CPU (src/task/): config schema errors name the field; frequencies against values
// worked out by hand; sampling thresholds and the integer sampler; a χ² goodness-of-fit test of
// sampled item counts against the frequencies (fixed seed); label noise rates; the coupled-rotation
// unit check of docs/math.md §1; orthonormal embeddings orthonormal.
//
// χ² test: k − 1 degrees of freedom; the critical values used are the 0.999 quantiles of χ²
// (df 19: 43.82, df 9: 27.88), so a correct sampler fails with probability 1e-3 for a random seed —
// and never for the fixed seed used here. A deliberately wrong sampler (uniform draws judged
// against power-law frequencies) must exceed the same critical value: the test can fail.
import { describe, expect, test } from 'vitest';
import { frequencies, validateFrequencies } from '../src/task/frequencies';
import { itemFromThresholds, sampleMinibatchCpu, samplingThresholds } from '../src/task/sampling';
import { noiseThreshold, uniformItem, validateNoise } from '../src/task/noise';
import { parseTaskConfig } from '../src/task/task';
import {
  blockDiagonalItemMajor,
  COUPLED_ROTATION_IN,
  COUPLED_ROTATION_OUT,
  denseEmbedding,
  orthonormalEmbeddingHost,
  rotation3,
} from '../src/task/embeddings';

describe('task config', () => {
  const base = { N: 6, dIn: 6, dOut: 6, embedding: 'identity' } as const;
  test('defaults', () => {
    const t = parseTaskConfig(base);
    expect(t).toMatchObject({ noise: 0, noiseTarget: 'sampled', taskSeed: 0, frequency: { kind: 'uniform' } });
  });
  const bad: [string, object, RegExp][] = [
    ['N = 0', { ...base, N: 0 }, /task\.N/],
    ['noise = 1', { ...base, noise: 1 }, /task\.noise/],
    ['noise < 0', { ...base, noise: -0.1 }, /task\.noise/],
    ['identity with dIn ≠ N', { ...base, dIn: 5 }, /task\.dIn: identity embeddings need dIn = N/],
    [
      'coupled-rotation with N = 7',
      { N: 7, dIn: 7, dOut: 7, embedding: 'coupled-rotation' },
      /task\.N: coupled-rotation .* divisible by 3/,
    ],
    ['orthonormal with d < N', { N: 10, dIn: 8, dOut: 12, embedding: 'orthonormal' }, /task\.dIn: orthonormal/],
    [
      'hierarchical groups not dividing N',
      { ...base, frequency: { kind: 'hierarchical', groups: 4, groupExponent: 1 } },
      /task\.frequency\.groups/,
    ],
    ['negative power exponent', { ...base, frequency: { kind: 'power', powerExponent: -1 } }, /task\.frequency\.powerExponent/],
    ['head mass above 1', { ...base, frequency: { kind: 'two-class', headCount: 2, headMass: 1.5 } }, /task\.frequency\.headMass/],
    ['unknown embedding', { ...base, embedding: 'sparse' }, /task\.embedding/],
  ];
  for (const [name, config, message] of bad) {
    test(`rejects ${name}`, () => expect(() => parseTaskConfig(config)).toThrow(message));
  }
});

describe('frequencies', () => {
  const close = (got: Float64Array, want: number[]) => {
    expect(got.length).toBe(want.length);
    got.forEach((g, i) => expect(g).toBeCloseTo(want[i], 14));
  };
  test('uniform', () => close(frequencies(4, { kind: 'uniform' }), [0.25, 0.25, 0.25, 0.25]));
  test('power a=1, N=3: [6, 3, 2]/11', () => close(frequencies(3, { kind: 'power', powerExponent: 1 }), [6 / 11, 3 / 11, 2 / 11]));
  test('hierarchical M=2, b=1, N=4: groups 2/3, 1/3', () =>
    close(frequencies(4, { kind: 'hierarchical', groups: 2, groupExponent: 1 }), [1 / 3, 1 / 3, 1 / 6, 1 / 6]));
  test('two-class headCount 1, headMass 0.7', () =>
    close(frequencies(4, { kind: 'two-class', headCount: 1, headMass: 0.7 }), [0.7, 0.1, 0.1, 0.1]));
  test('[B]: N = 999, 201 head items with mass 0.8: p_tail/p_head = 0.062970', () => {
    const p = frequencies(999, { kind: 'two-class', headCount: 201, headMass: 0.8 });
    expect(p[998] / p[0]).toBeCloseTo(0.06297, 5);
  });
  test('bad frequencies name the field', () => {
    expect(() => validateFrequencies([0.5, 0.6], 'weights')).toThrow(/weights: must sum to 1, got 1\.1/);
    expect(() => validateFrequencies([1.5, -0.5], 'weights')).toThrow(/weights\[1\] is -0\.5: .*non-negative/);
    expect(() => validateFrequencies([NaN, 1], 'weights')).toThrow(/weights\[0\] is NaN/);
    expect(() => validateFrequencies([], 'weights')).toThrow(/N = 0/);
    expect(() => validateNoise(1)).toThrow(/task\.noise: must be in \[0, 1\)/);
  });
});

describe('sampling', () => {
  test('thresholds are ⌊cumulative·2^32⌋ and items count thresholds ≤ x', () => {
    const t = samplingThresholds([0.5, 0.25, 0.25]);
    expect(Array.from(t)).toEqual([2 ** 31, 3 * 2 ** 30]);
    expect(itemFromThresholds(0, t)).toBe(0);
    expect(itemFromThresholds(2 ** 31 - 1, t)).toBe(0);
    expect(itemFromThresholds(2 ** 31, t)).toBe(1);
    expect(itemFromThresholds(3 * 2 ** 30, t)).toBe(2);
    expect(itemFromThresholds(0xffffffff, t)).toBe(2);
    expect(samplingThresholds([1]).length).toBe(0);
    expect(itemFromThresholds(12345, new Uint32Array(0))).toBe(0);
  });
  test('a zero-mass item is never drawn', () => {
    const t = samplingThresholds([0.5, 0, 0.5]);
    expect(t[0]).toBe(t[1]);
  });

  function chiSquare(counts: number[], p: Float64Array, total: number): number {
    return counts.reduce((s, c, i) => s + (c - total * p[i]) ** 2 / (total * p[i]), 0);
  }
  function drawCounts(p: Float64Array, seed: number, B: number): number[] {
    const { items } = sampleMinibatchCpu({
      seeds: [seed],
      step: 0,
      batchSize: B,
      thresholds: samplingThresholds(p),
      N: p.length,
      noise: 0,
    });
    const counts = new Array(p.length).fill(0);
    for (const i of items) counts[i]++;
    return counts;
  }
  test('χ²: power-law counts match the frequencies (df 19, critical 43.82)', () => {
    const p = frequencies(20, { kind: 'power', powerExponent: 1.2 });
    const B = 50_000;
    expect(chiSquare(drawCounts(p, 42, B), p, B)).toBeLessThan(43.82);
  });
  test('χ²: hierarchical counts match (df 9, critical 27.88)', () => {
    const p = frequencies(10, { kind: 'hierarchical', groups: 5, groupExponent: 1.5 });
    const B = 30_000;
    expect(chiSquare(drawCounts(p, 7, B), p, B)).toBeLessThan(27.88);
  });
  test('χ² detects a wrong sampler (uniform draws against power-law frequencies)', () => {
    const p = frequencies(20, { kind: 'power', powerExponent: 1.2 });
    const B = 50_000;
    expect(chiSquare(drawCounts(frequencies(20, { kind: 'uniform' }), 42, B), p, B)).toBeGreaterThan(43.82);
  });
  test('noise: flag rate ε and noisy labels uniform (5 standard errors)', () => {
    const N = 10;
    const noise = 0.3;
    const B = 40_000;
    const { items, labels } = sampleMinibatchCpu({
      seeds: [3],
      step: 1,
      batchSize: B,
      thresholds: samplingThresholds(new Float64Array(N).fill(0.1)),
      N,
      noise,
    });
    let changed = 0;
    for (let b = 0; b < B; b++) if (items[b] !== labels[b]) changed++;
    // A noisy label differs from the item with probability (N−1)/N.
    const rate = (noise * (N - 1)) / N;
    expect(Math.abs(changed / B - rate)).toBeLessThan(5 * Math.sqrt((rate * (1 - rate)) / B));
    expect(noiseThreshold(0)).toBe(0);
    expect(noiseThreshold(0.5)).toBe(2 ** 31);
    expect(uniformItem(0xffffffff, 7)).toBe(6);
    expect(uniformItem(0, 7)).toBe(0);
  });
  test('runs with different seeds draw differently; the same seed and step reproduce', () => {
    const args = { step: 0, batchSize: 64, thresholds: samplingThresholds(new Float64Array(8).fill(1 / 8)), N: 8, noise: 0.2 };
    const a = sampleMinibatchCpu({ ...args, seeds: [1, 2] });
    const b = sampleMinibatchCpu({ ...args, seeds: [1, 2] });
    expect(a).toEqual(b);
    expect(Array.from(a.items.slice(0, 64))).not.toEqual(Array.from(a.items.slice(64)));
  });
});

describe('embeddings', () => {
  test('coupled-rotation unit check of docs/math.md §1: R̃ᵀ(A+B)R', () => {
    const A = [2, 0, 0, 2, 0, 2, -2, -2, -2];
    const B = [-1, -1, -1, -1, -1, -1, 1, 1, 1];
    const S = A.map((a, i) => a + B[i]);
    const Rt = COUPLED_ROTATION_OUT;
    const R = COUPLED_ROTATION_IN;
    const want = [1.4655, 1.0133, -0.1118, -0.0733, 1.0071, -1.2694, 0.0544, 0.8961, 1.5415];
    for (let a = 0; a < 3; a++) {
      for (let b = 0; b < 3; b++) {
        let v = 0;
        for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) v += Rt[3 * i + a] * S[3 * i + j] * R[3 * j + b];
        // docs/math.md gives 4 decimals: half a unit of the last digit.
        expect(Math.abs(v - want[3 * a + b]), `(${a},${b}) = ${v}`).toBeLessThanOrEqual(5e-5);
      }
    }
  });
  test('rotation3 is orthogonal with determinant 1', () => {
    const R = rotation3(0.3, 1.1, -2);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        let dot = 0;
        for (let k = 0; k < 3; k++) dot += R[3 * k + i] * R[3 * k + j];
        expect(dot).toBeCloseTo(i === j ? 1 : 0, 14);
      }
    }
  });
  test('coupled-rotation item-major rows are the block matrix columns', () => {
    const e = blockDiagonalItemMajor(6, COUPLED_ROTATION_IN);
    // item 4 = column 4 = block 1, column 1 of R: entries R[a][1] at rows 3 + a.
    expect(Array.from(e.slice(24, 30))).toEqual([0, 0, 0, COUPLED_ROTATION_IN[1], COUPLED_ROTATION_IN[4], COUPLED_ROTATION_IN[7]]);
  });
  test('orthonormal rows: E Eᵀ = I to 1e-12', () => {
    const N = 20;
    const d = 24;
    const e = orthonormalEmbeddingHost(5, 1, N, d);
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) {
        let dot = 0;
        for (let c = 0; c < d; c++) dot += e[i * d + c] * e[j * d + c];
        expect(Math.abs(dot - (i === j ? 1 : 0))).toBeLessThan(1e-12);
      }
    }
  });
  test('identity dense form and gaussian scale', () => {
    expect(Array.from(denseEmbedding('identity', 'in', 2, 2, 0))).toEqual([1, 0, 0, 1]);
    const g = denseEmbedding('gaussian', 'in', 2000, 50, 9);
    const variance = g.reduce((s, x) => s + x * x, 0) / g.length;
    // Entries N(0, 1/d): variance 1/50, 5 standard errors of √(2/n)/d.
    expect(Math.abs(variance - 1 / 50)).toBeLessThan((5 * Math.sqrt(2 / g.length)) / 50);
  });
});
