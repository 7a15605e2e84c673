// b-balance-onestep's sweep over the number of classes K (= N = d), at small K: one step from W₀ = 0
// on coupled-rotation embeddings with K/5 head items of mass 0.8 (so r = p_tail/p_head = 1/16 at every K).
// Checked against formulas written here (SPEC §4): GD's ϱ_τ = x/(x + K − 1), x = ((1−τ)(K−1)/τ)^r, to 1 %
// (the bisection stops at |max p̂ − (1−τ)| ≤ 1e-5, far inside); its fitted exponent in K within 0.05 of
// the closed form's own slope over the same K; Muon's ϱ_τ ≥ 1 − τ(1 + 2 ln K/K); SignGD below Muon
// (its 3×3 blocks have σ_min/σ_max ≈ 0.247). SignGD's exponent is printed beside [B]'s −0.3.
import { expect, test } from 'vitest';
import { fitPowerLaw } from '../src/metrics/fits';
import { balanceAtK, sweepPredictions, SWEEP_TAU } from '../src/experiments/presets/bBalanceOnestep';
import { gpuOrSkip, withErrorScopes } from './gpuFixture';

test('balance against K: GD follows its closed form and K^{r−1}, Muon stays above its bound, SignGD below Muon', async (ctx) => {
  const gpu = await gpuOrSkip(ctx);
  if (!gpu) return;
  const Ks = [30, 60, 120];
  const tau = SWEEP_TAU;
  const r = 0.2 / 0.8 / (0.8 / 0.2);
  const closed = (K: number) => {
    const x = (((1 - tau) * (K - 1)) / tau) ** r;
    return x / (x + K - 1);
  };
  const points: Awaited<ReturnType<typeof balanceAtK>> = [];
  for (const K of Ks) points.push(...(await withErrorScopes(gpu, () => balanceAtK(gpu, K))));
  const rho = (label: string, K: number) => points.find((p) => p.optimizer === label && p.K === K)!.rho;
  for (const K of Ks) {
    expect(Math.abs(rho('GD', K) / closed(K) - 1), `GD at K = ${K}: ${rho('GD', K)} vs ${closed(K)}`).toBeLessThanOrEqual(0.01);
    expect(rho('Muon exact', K), `Muon at K = ${K}`).toBeGreaterThanOrEqual(1 - tau * (1 + (2 * Math.log(K)) / K));
    expect(rho('SignGD', K), `SignGD at K = ${K}`).toBeLessThan(rho('Muon exact', K));
  }
  const gdSlope = fitPowerLaw(
    Ks,
    Ks.map((K) => rho('GD', K)),
  ).slope;
  const closedSlope = fitPowerLaw(Ks, Ks.map(closed)).slope;
  expect(Math.abs(gdSlope - closedSlope)).toBeLessThanOrEqual(0.05);
  const { predictions } = sweepPredictions(points);
  console.log(
    `[balance vs K] ${Ks.map((K) => `K=${K}: GD ${rho('GD', K).toPrecision(4)}, SignGD ${rho('SignGD', K).toPrecision(4)}, Muon ${rho('Muon exact', K).toPrecision(4)}`).join('; ')}; ` +
      predictions
        .filter((p) => p.name.includes('exponent'))
        .map((p) => `${p.name}: ${p.measured.toFixed(3)} (predicted ${p.predicted})`)
        .join('; '),
  );
  expect(predictions.filter((p) => p.name.includes('exponent'))).toHaveLength(3);
}, 600_000);
