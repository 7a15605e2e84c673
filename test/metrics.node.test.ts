// docs/math.md §3 metrics: unit checks with hand-computed or closed-form expectations.
import { describe, expect, test } from 'vitest';
import { balanceRho } from '../src/metrics/balance';
import { fitExponentLaw, fitLine, fitPowerLaw } from '../src/metrics/fits';
import { isotropy, percentileLinear, singularValueThreshold, F32_EPSILON } from '../src/metrics/isotropy';
import { balanceGap, bucketStats, capacity, capacityPrefix, logRankBuckets } from '../src/metrics/recall';

describe('isotropy', () => {
  test('docs/math.md unit check: σ = (3, 2, 1) → H_norm 0.7559, eRank 2.2944, TopE_1 0.6429, Q75/25 2.6', () => {
    const r = isotropy([3, 2, 1]);
    // Printed to 4 decimals in docs/math.md: allow half a unit in the last place.
    expect(r.hNorm).toBeCloseTo(0.7559, 4);
    expect(r.eRank).toBeCloseTo(2.2944, 4);
    expect(r.topE[0]).toBeCloseTo(0.6429, 4);
    expect(r.q75over25).toBeCloseTo(2.6, 10);
    expect(r.n).toBe(3);
  });
  test('orthogonal matrix (all σ equal): perfectly isotropic', () => {
    const r = isotropy([1, 1, 1, 1]);
    expect(r.hNorm).toBeCloseTo(1, 12);
    expect(r.eRank).toBeCloseTo(4, 12);
    expect(r.q75over25).toBe(1);
  });
  test('one nonzero σ: H_norm undefined (null), eRank 1; zeros below the threshold are dropped', () => {
    const sigma = [5, 1e-9, 0];
    const thr = singularValueThreshold(sigma, 3, 3, F32_EPSILON); // 3·2^-23·5 ≈ 1.8e-6
    const r = isotropy(sigma, { threshold: thr });
    expect(r.n).toBe(1);
    expect(r.hNorm).toBeNull();
    expect(r.eRank).toBe(1);
  });
  test('percentile matches numpy linear interpolation', () => {
    // numpy.percentile([1, 2, 3, 4], [25, 50, 90]) = [1.75, 2.5, 3.7]
    expect(percentileLinear([1, 2, 3, 4], 25)).toBeCloseTo(1.75, 12);
    expect(percentileLinear([1, 2, 3, 4], 50)).toBeCloseTo(2.5, 12);
    expect(percentileLinear([1, 2, 3, 4], 90)).toBeCloseTo(3.7, 12);
  });
});

describe('recall', () => {
  test('capacity counts recovered items; capacityPrefix stops at the first miss by rank', () => {
    const correct = [1, 1, 0, 1, 1];
    expect(capacity(correct)).toBe(4);
    expect(capacityPrefix(correct)).toBe(2);
    // Rank order: item 3 most frequent, then 4, 0, 1, 2 → first miss at rank 4.
    expect(capacityPrefix(correct, [3, 4, 0, 1, 2])).toBe(4);
    expect(capacityPrefix([true, true])).toBe(2);
  });
  test('balance gap and buckets', () => {
    expect(balanceGap([0.9, 0.2, 0.5])).toEqual({ delta: 0.9 - 0.2, max: 0.9, min: 0.2 });
    const stats = bucketStats([0.9, 0.7, 0.1, 0.3], [1, 1, 0, 1], ['head', 'head', 'tail', 'tail']);
    expect(stats).toEqual([
      { bucket: 'head', items: 2, meanPCorrect: 0.8, accuracy: 1 },
      { bucket: 'tail', items: 2, meanPCorrect: 0.2, accuracy: 0.5 },
    ]);
  });
  test('log-spaced rank buckets: 1, 2–3, 4–7, …', () => {
    expect(logRankBuckets([0, 1, 2, 3, 4, 7, 8])).toEqual([
      'ranks 1-1',
      'ranks 2-3',
      'ranks 2-3',
      'ranks 4-7',
      'ranks 4-7',
      'ranks 8-15',
      'ranks 8-15',
    ]);
  });
});

describe('fits', () => {
  test('OLS on a textbook data set: slope 0.6, intercept 2.2, R² 0.6, 95% CI 0.6 ± 3.182·√0.08', () => {
    // x = 1..5, y = (2, 4, 5, 4, 5): Sxx = 10, Sxy = 6, SSE = 2.4, s² = 0.8, se = √(0.8/10);
    // t_{0.975, 3} = 3.182446 (table value).
    const f = fitLine([1, 2, 3, 4, 5], [2, 4, 5, 4, 5]);
    expect(f.slope).toBeCloseTo(0.6, 12);
    expect(f.intercept).toBeCloseTo(2.2, 12);
    expect(f.r2).toBeCloseTo(0.6, 12);
    expect(f.slopeStdErr).toBeCloseTo(Math.sqrt(0.08), 12);
    expect(f.slopeCI[0]).toBeCloseTo(0.6 - 3.182446 * Math.sqrt(0.08), 5);
    expect(f.slopeCI[1]).toBeCloseTo(0.6 + 3.182446 * Math.sqrt(0.08), 5);
  });
  test('power law y = 3·x^1.5 is recovered exactly; non-positive points are rejected', () => {
    const x = [64, 128, 256, 512];
    const f = fitPowerLaw(
      x,
      x.map((v) => 3 * v ** 1.5),
    );
    expect(f.slope).toBeCloseTo(1.5, 10);
    expect(Math.exp(f.intercept)).toBeCloseTo(3, 8);
    expect(() => fitPowerLaw([1, 2], [1, 0])).toThrow(/point 1/);
  });
  test('C_a = c1 + c2/a: exponents 1 + 1/(2a) give (1, 0.5)', () => {
    const a = [1.25, 1.5, 2, 3];
    const { c1, c2 } = fitExponentLaw(
      a,
      a.map((v) => 1 + 1 / (2 * v)),
    );
    expect(c1).toBeCloseTo(1, 10);
    expect(c2).toBeCloseTo(0.5, 10);
  });
});

describe('balance ϱ_τ by bisection', () => {
  // One population GD step from W = 0 on identity embeddings gives item k the logit margin η·p_k
  // over every other output, so p̂_k = e^{ηp_k}/(e^{ηp_k} + N − 1) — docs/math.md §4's closed form, used
  // here as the oracle for the search itself: ϱ_τ = x/(x + N − 1), x = ((1−τ)(N−1)/τ)^r.
  const N = 300;
  const pHead = 0.8 / 60;
  const pTail = 0.2 / 240;
  const pOf = (eta: number, p: number) => Math.exp(eta * p) / (Math.exp(eta * p) + N - 1);
  const gd = async (eta: number) => ({ max: pOf(eta, pHead), min: pOf(eta, pTail) });

  test.each([0.1, 0.01])('GD two-class N=300, τ=%s: ϱ and η_τ match the closed form', async (tau) => {
    const r = await balanceRho(gd, { tau });
    const x = (((1 - tau) * (N - 1)) / tau) ** (pTail / pHead);
    const rhoExact = x / (x + N - 1);
    const etaExact = Math.log(((1 - tau) * (N - 1)) / tau) / pHead;
    expect(Math.abs(r.maxAtEta - (1 - tau))).toBeLessThanOrEqual(1e-5);
    expect(r.rho / rhoExact - 1).toBeLessThan(1e-3);
    expect(Math.abs(r.etaTau / etaExact - 1)).toBeLessThan(1e-4);
    if (tau === 0.1) expect(r.rho).toBeCloseTo(0.00545, 5); // docs/math.md §5's figure
  });

  test('infimum differs from the first crossing when min p̂ falls after it', async () => {
    // max rises through 0.9 at η = 1; min peaks at η = 1 (0.5) and decays to 0.2 at large η.
    const f = async (eta: number) => ({ max: 1 - 0.1 / eta, min: 0.2 + 0.3 * Math.exp(-(Math.log(eta) ** 2)) });
    const r = await balanceRho(f, { tau: 0.1, initialEta: 0.25 });
    expect(r.etaTau).toBeCloseTo(1, 4);
    expect(r.rho).toBeCloseTo(0.5, 4);
    expect(r.rhoInfimum).toBeLessThan(0.21);
    expect(r.etaInfimum).toBeGreaterThan(100);
  });

  test('tau outside (0, 1) is rejected', async () => {
    await expect(balanceRho(gd, { tau: 1 })).rejects.toThrow(/tau must be in \(0, 1\)/);
  });
});
