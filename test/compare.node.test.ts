// compareToReference (src/cpu/compare.ts): element i passes when |got − want| ≤ atol_i + rtol·|want|,
// a non-finite value passes only against the same non-finite value (NaN against NaN, +Inf against
// +Inf). Each case sits just inside or just outside its bound so an off-by-one in the rule fails.
// The margins (±1e-9 around a bound of order 1e-3…1) are far above Float64 rounding (~1e-16).
import { describe, expect, test } from 'vitest';
import { compareToReference } from '../src/cpu/compare';

describe('compareToReference: absolute tolerance', () => {
  test('scalar atol: error equal to atol passes (inclusive bound)', () => {
    // |1.5 − 1.25| = 0.25 exactly in binary
    const r = compareToReference([1.5], [1.25], { atol: 0.25, rtol: 0 });
    expect(r.pass).toBe(true);
    expect(r.maxAbsError).toBe(0.25);
    expect(r.worstRatio).toBe(1);
  });

  test('scalar atol: error just above atol fails and is located', () => {
    const r = compareToReference([0, 1 + 1e-3 + 1e-9, 2], [0, 1, 2], { atol: 1e-3, rtol: 0 });
    expect(r.pass).toBe(false);
    expect(r.worstIndex).toBe(1);
    expect(r.worstWant).toBe(1);
    expect(r.worstRatio).toBeGreaterThan(1);
    expect(r.maxAbsError).toBeCloseTo(1e-3, 8);
  });

  test('per-element atol: each element has its own bound', () => {
    const want = [10, 20, 30];
    // errors 0.5, 0.05, 0.005 against bounds 1, 0.1, 0.01: every ratio is exactly 1/2
    const got = [10.5, 20.05, 30.005];
    const r = compareToReference(got, want, { atol: [1, 0.1, 0.01], rtol: 0 });
    expect(r.pass).toBe(true);
    expect(r.worstRatio).toBeCloseTo(0.5, 6);
  });

  test('per-element atol: a bound tight on one element fails that element only', () => {
    // same errors, but element 2 allows only 0.004 < 0.005
    const r = compareToReference([10.5, 20.05, 30.005], [10, 20, 30], { atol: [1, 0.1, 0.004], rtol: 0 });
    expect(r.pass).toBe(false);
    expect(r.worstIndex).toBe(2);
    expect(r.worstRatio).toBeCloseTo(0.005 / 0.004, 6);
  });

  test('zero tolerance: exact equality passes, any difference fails with an infinite ratio', () => {
    expect(compareToReference([1, -2, 0], [1, -2, 0], { atol: 0, rtol: 0 }).pass).toBe(true);
    const r = compareToReference([1, -2, 1e-300], [1, -2, 0], { atol: 0, rtol: 0 });
    expect(r.pass).toBe(false);
    expect(r.worstRatio).toBe(Infinity);
    expect(r.worstIndex).toBe(2);
  });
});

describe('compareToReference: relative tolerance', () => {
  test('rtol scales with |want|', () => {
    // rtol 1e-3: want 1000 allows 1, want −1000 allows 1 (uses |want|)
    expect(compareToReference([1000.999, -1000.999], [1000, -1000], { atol: 0, rtol: 1e-3 }).pass).toBe(true);
    expect(compareToReference([1001.001], [1000], { atol: 0, rtol: 1e-3 }).pass).toBe(false);
  });

  test('rtol scales with want, not with got', () => {
    // |got| = 2000 would allow 2; |want| = 1000 allows only 1: an error of 1000 must fail
    expect(compareToReference([2000], [1000], { atol: 0, rtol: 1e-3 }).pass).toBe(false);
  });

  test('atol and rtol add', () => {
    // allowed = 0.5 + 0.01·100 = 1.5
    expect(compareToReference([101.5 - 1e-9], [100], { atol: 0.5, rtol: 0.01 }).pass).toBe(true);
    expect(compareToReference([101.5 + 1e-9], [100], { atol: 0.5, rtol: 0.01 }).pass).toBe(false);
  });
});

describe('compareToReference: non-finite values', () => {
  const tol = { atol: 1, rtol: 1 };

  test('NaN against a finite reference counts as nonFinite and fails', () => {
    const r = compareToReference([1, NaN, 3], [1, 2, 3], tol);
    expect(r.pass).toBe(false);
    expect(r.nonFinite).toBe(1);
    expect(r.worstIndex).toBe(1);
    expect(Number.isNaN(r.worstGot)).toBe(true);
  });

  test('a finite value against a NaN reference also counts', () => {
    const r = compareToReference([2], [NaN], tol);
    expect(r.pass).toBe(false);
    expect(r.nonFinite).toBe(1);
  });

  test('NaN against NaN passes (an expected NaN row, e.g. a bad gather index)', () => {
    const r = compareToReference([NaN, 1], [NaN, 1], { atol: 0, rtol: 0 });
    expect(r.pass).toBe(true);
    expect(r.nonFinite).toBe(0);
  });

  test('Inf against the same Inf passes; against the other sign or a finite value fails', () => {
    expect(compareToReference([Infinity, -Infinity], [Infinity, -Infinity], tol).pass).toBe(true);
    const r = compareToReference([Infinity, Infinity, 1e300], [-Infinity, 1e300, Infinity], tol);
    expect(r.pass).toBe(false);
    expect(r.nonFinite).toBe(3);
  });

  test('huge tolerances never let a NaN through', () => {
    expect(compareToReference([NaN], [0], { atol: Infinity, rtol: Infinity }).pass).toBe(false);
  });
});

describe('compareToReference: shapes', () => {
  test('length mismatch throws', () => {
    expect(() => compareToReference([1, 2], [1, 2, 3], { atol: 0, rtol: 0 })).toThrow(/2 values against a reference of 3/);
  });

  test('typed arrays of different kinds compare by value', () => {
    const r = compareToReference(new Float32Array([0.5, 0.25]), new Float64Array([0.5, 0.25]), { atol: 0, rtol: 0 });
    expect(r.pass).toBe(true);
    expect(r.count).toBe(2);
  });

  test('empty arrays pass', () => {
    const r = compareToReference([], [], { atol: 0, rtol: 0 });
    expect(r.pass).toBe(true);
    expect(r.count).toBe(0);
  });
});
