// Newton–Schulz schedules and the Float64 twins (src/cpu/newtonSchulz.ts, src/cpu/polar.ts),
// checked against independent facts rather than the code under test:
// - the coefficient values are docs/math.md §2's numbers with the safety factor written out here;
// - on X = U·diag(σ)·Vᵀ every odd polynomial step acts on the singular values alone, so the output's
//   singular values must equal the scalar iteration σ ← aσ + bσ³ + cσ⁵ from σ/(s‖σ‖₂ + 1e-7), and
//   its singular vectors must stay U, V (checked through ‖out − U·diag(p(σ))·Vᵀ‖);
// - the polar factor of U·diag(σ)·Vᵀ is U·Vᵀ (and U_r·V_rᵀ over the nonzero σ for rank r).
// Tolerances: everything is Float64 on matrices ≤ 24, so rounding is ≲ 1e-13 per step; the SVD
// (ml-matrix) is backward stable to ~1e-14·σ_max. 1e-9 absolute leaves room for five polynomial
// steps whose slopes are ≤ 8.3 each, yet any wrong coefficient moves outputs by ≥ 1e-3.
import { describe, expect, test } from 'vitest';
import {
  exactStopStep, newtonSchulzCpu, nsSchedule, polarExpressExactCpu, POLAR_EXPRESS_TAIL, type NsTriple,
} from '../src/cpu/newtonSchulz';
import { polarFactor, singularValues, spectralNorm } from '../src/cpu/polar';
import { seededUniform } from '../src/cpu/random';

function randomOrthogonal(n: number, k: number, seed: number): Float64Array {
  // Gram–Schmidt on Gaussian-ish columns: n×k with orthonormal columns.
  const rnd = seededUniform(seed);
  const q = new Float64Array(n * k);
  for (let j = 0; j < k; j++) {
    const v = Array.from({ length: n }, () => rnd() - 0.5);
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < j; p++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += q[i * k + p] * v[i];
        for (let i = 0; i < n; i++) v[i] -= dot * q[i * k + p];
      }
    }
    const norm = Math.hypot(...v);
    for (let i = 0; i < n; i++) q[i * k + j] = v[i] / norm;
  }
  return q;
}

/** U·diag(s)·Vᵀ with U rows×k, V cols×k. */
function compose(u: Float64Array, s: number[], v: Float64Array, rows: number, cols: number): Float64Array {
  const k = s.length;
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) {
    let acc = 0;
    for (let p = 0; p < k; p++) acc += u[i * k + p] * s[p] * v[j * k + p];
    out[i * cols + j] = acc;
  }
  return out;
}

function scalarIteration(sigma: number[], triples: readonly NsTriple[], normScale: number): number[] {
  const norm = Math.hypot(...sigma);
  return sigma.map((s0) => {
    let s = s0 / (normScale * norm + 1e-7);
    for (const [a, b, c] of triples) s = a * s + b * s ** 3 + c * s ** 5;
    return s;
  });
}

const maxAbsDiff = (x: ArrayLike<number>, y: ArrayLike<number>) => Math.max(...Array.from(x, (v, i) => Math.abs(v - y[i])));

describe('coefficient schedules', () => {
  test('polar-express: the safety factor 1.01 divides a, b·1.01⁻³, c·1.01⁻⁵ on the seven listed triples only', () => {
    const c = nsSchedule({ name: 'polar-express', steps: 9 }).coefficients;
    expect(c[0][0]).toBeCloseTo(8.28721201814563 / 1.01, 13);
    expect(c[0][1]).toBeCloseTo(-23.595886519098837 / 1.030301, 12);
    expect(c[0][2]).toBeCloseTo(17.300387312530933 / 1.0510100501, 12);
    expect(c[6][0]).toBeCloseTo(1.8750014808534479 / 1.01, 13);
    expect(c[7]).toEqual([1.875, -1.25, 0.375]);
    expect(c[8]).toEqual(POLAR_EXPRESS_TAIL);
    expect(nsSchedule('polar-express').normScale).toBe(1.01);
  });

  test('ns5 and cubic: constant triples, 5 steps by default, normalization ‖X‖_F + 1e-7', () => {
    expect(nsSchedule('ns5').coefficients).toEqual(Array(5).fill([3.4445, -4.775, 2.0315]));
    expect(nsSchedule({ name: 'cubic', steps: 3 }).coefficients).toEqual(Array(3).fill([1.5, -0.5, 0]));
    expect(nsSchedule('ns5').normScale).toBe(1);
    expect(nsSchedule('ns5').eps).toBe(1e-7);
  });

  test('a user list is used as given, one step per triple', () => {
    const s = nsSchedule({ coefficients: [[2, -1, 0], [1.5, -0.5, 0]] });
    expect(s.coefficients).toEqual([[2, -1, 0], [1.5, -0.5, 0]]);
  });

  test.each([
    ['unknown schedule', 'ns7', /unknown coefficient schedule "ns7"; allowed: ns5, polar-express, cubic/],
    ['zero steps', { name: 'ns5', steps: 0 }, /orth.steps: must be an integer/],
    ['a triple with two numbers', { coefficients: [[1, 2]] }, /orth.coefficients\[0\]: expected three finite numbers/],
    ['an empty list', { coefficients: [] }, /at least one/],
  ])('rejects %s', (_n, spec, message) => {
    expect(() => nsSchedule(spec as never)).toThrow(message);
  });
});

describe('Newton–Schulz CPU iteration acts on singular values as the scalar polynomial', () => {
  const shapes: [number, number][] = [[6, 6], [5, 9], [11, 4], [1, 7], [7, 1], [1, 1]];
  const schedules = [
    ['ns5', nsSchedule('ns5')],
    ['polar-express', nsSchedule('polar-express')],
    ['cubic 8 steps', nsSchedule({ name: 'cubic', steps: 8 })],
    ['user list', nsSchedule({ coefficients: [[3, -3.2, 1.2], [1.875, -1.25, 0.375]], normScale: 1.2 })],
  ] as const;
  for (const [rows, cols] of shapes) {
    for (const [name, schedule] of schedules) {
      test(`${name} ${rows}×${cols}`, () => {
        const k = Math.min(rows, cols);
        const u = randomOrthogonal(rows, k, rows * 31 + cols);
        const v = randomOrthogonal(cols, k, rows + cols * 17);
        const sigma = Array.from({ length: k }, (_, i) => 2 * 0.5 ** i); // ratios down to 1/32
        const x = compose(u, sigma, v, rows, cols);
        const want = compose(u, scalarIteration(sigma, schedule.coefficients, schedule.normScale), v, rows, cols);
        const got = newtonSchulzCpu(x, rows, cols, schedule).x;
        expect(maxAbsDiff(got, want)).toBeLessThan(1e-9);
      });
    }
  }

  test('ns5 maps σ/‖X‖_F ≥ 0.01 into about [0.68, 1.13] (docs/math.md) and does not converge to 1', () => {
    // The scalar map on normalized singular values s ∈ [0.01, 1] (the normalization divides by ‖X‖_F).
    const s = Array.from({ length: 400 }, (_, i) => 10 ** (-2 * i / 399));
    const out = s.map((v) => nsSchedule('ns5').coefficients.reduce((x, [a, b, c]) => a * x + b * x ** 3 + c * x ** 5, v));
    expect(Math.min(...out)).toBeGreaterThan(0.67);
    expect(Math.max(...out)).toBeLessThan(1.14);
    expect(Math.max(...out.map((v) => Math.abs(v - 1)))).toBeGreaterThan(0.05);
  });
});

describe('exact polar factor (SVD, ml-matrix)', () => {
  test.each([[6, 6], [4, 9], [9, 4], [1, 5]])('U·diag(σ)·Vᵀ → U·Vᵀ, %i×%i', (rows, cols) => {
    const k = Math.min(rows, cols);
    const u = randomOrthogonal(rows, k, 5 + rows);
    const v = randomOrthogonal(cols, k, 9 + cols);
    const sigma = Array.from({ length: k }, (_, i) => 3 / (i + 1));
    const got = polarFactor(compose(u, sigma, v, rows, cols), rows, cols);
    expect(maxAbsDiff(got, compose(u, Array(k).fill(1), v, rows, cols))).toBeLessThan(1e-12);
  });

  test('rank-deficient input keeps its null space: σ below max(m,n)·ε·σ_max count as zero', () => {
    const u = randomOrthogonal(8, 3, 1);
    const v = randomOrthogonal(10, 3, 2);
    const got = polarFactor(compose(u, [2, 1, 0], v, 8, 10), 8, 10);
    expect(maxAbsDiff(got, compose(u, [1, 1, 0], v, 8, 10))).toBeLessThan(1e-12);
    const s = singularValues(got, 8, 10);
    expect(s[2]).toBeLessThan(1e-12);
    // Just above the threshold (1e-10·σ_max ≫ 10·ε) a singular value is kept: it becomes 1.
    const small = polarFactor(compose(u, [2, 1, 2e-10], v, 8, 10), 8, 10);
    expect(singularValues(small, 8, 10)[2]).toBeCloseTo(1, 8);
  });
});

describe('GPU exact stop rule and its CPU twin', () => {
  test('stops at the first checked step whose change is not smaller and keeps the iterate before it', () => {
    expect(exactStopStep([5, 4, 3, 2, 1, 0.5, 0.1, 1e-3, 2e-3, 1e-4, 1e-5, 1e-6])).toBe(8);
    // Growth before step 8 is the schedule's design (small σ being lifted), not a stop.
    expect(exactStopStep([0.1, 0.3, 0.7, 0.2, 0.1, 0.05, 0.02, 0.01, 1e-3, 1e-4, 1e-5, 1e-6])).toBe(12);
    expect(exactStopStep([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1])).toBe(7);
    expect(exactStopStep([Number.NaN, ...Array(11).fill(Number.NaN)])).toBe(12);
  });

  test('Float64 Polar Express with the stop rule reaches the SVD polar factor (κ = 100)', () => {
    const u = randomOrthogonal(12, 12, 3);
    const v = randomOrthogonal(20, 12, 4);
    const sigma = Array.from({ length: 12 }, (_, i) => 100 ** (-i / 11));
    const x = compose(u, sigma, v, 12, 20);
    const { x: got, steps } = polarExpressExactCpu(x, 12, 20);
    expect(steps).toBeGreaterThanOrEqual(7);
    expect(spectralNorm(got.map((g, i) => g - polarFactor(x, 12, 20)[i]), 12, 20)).toBeLessThan(1e-6);
  });
});
