// [C] Fig. 5 at `ci` scale: N = 2048, d = 64, a = 1.5; population GD (η_t = 0.01√d·2^{t−1}) vs
// population Muon (η = √d), and minibatch Muon with fresh draws, B ∈ {4, 16, 64}, 20 steps.
// Pass/fail is recomputed from the raw records with thresholds written here.
import { expect, test } from 'vitest';
import { cMinibatch, type MinibatchPoint } from '../src/experiments/presets/cMinibatch';
import { fitPowerLaw } from '../src/metrics/fits';
import { gpuOrSkip } from './gpuFixture';

test('c-minibatch ci: the sample limit caps minibatch Muon; population Muon beats rising-η GD', async (ctx) => {
  const gpu = await gpuOrSkip(ctx);
  if (!gpu) return;
  const report = await cMinibatch.run(gpu, 'ci', () => {});
  const points: MinibatchPoint[] = report.measurements;
  const series = (name: string) => points.filter((p) => p.series === name).sort((p, q) => p.step - q.step);
  const mini = points.filter((p) => p.batchSize !== null && p.step >= 1);
  console.log(
    `[c-minibatch ci] GD ${series('GD (rising η)')
      .map((p) => p.capacity)
      .join(' ')} | Muon ${series('Muon')
      .map((p) => p.capacity)
      .join(' ')} | ` +
      [4, 16, 64]
        .map(
          (B) =>
            `B=${B}: ${series(`Muon B=${B}`)
              .map((p) => `${p.capacity}/${p.distinctSeenEvaluated}/${p.distinctSeen}`)
              .join(' ')}`,
        )
        .join(' | ') +
      `; ${(report.elapsedMs / 1000).toFixed(1)} s`,
  );
  // Distinct items among B·t draws from p_i ∝ i^{-1.5}: ≈ (B·t)^{1/a}, a pure sampling law (measured 0.685).
  const seen = fitPowerLaw(
    mini.map((p) => p.samplesSeen!),
    mini.map((p) => p.distinctSeen!),
  );
  expect(Math.abs(seen.slope - 2 / 3)).toBeLessThanOrEqual(0.1);
  // The sample limit: an item never drawn has no signal in W (its output enters only through ē/N), so
  // among the evaluated top 512 it is recovered only by chance (≈ 1/N each: ≤ 0.25 expected per
  // evaluation, Poisson); recovered items exceed the drawn ones among them by at most 2.
  for (const p of mini) expect(p.capacity - p.distinctSeenEvaluated!, `B = ${p.batchSize}, t = ${p.step}`).toBeLessThanOrEqual(2);
  // With B = 4 the run stays sample-limited: it recovers most of what it saw, growing as (B·t)^{1/a}.
  const b4 = mini.filter((p) => p.batchSize === 4);
  expect(b4.reduce((s, p) => s + p.capacity, 0) / b4.reduce((s, p) => s + p.distinctSeenEvaluated!, 0)).toBeGreaterThanOrEqual(0.8);
  const b4Fit = fitPowerLaw(
    b4.map((p) => p.samplesSeen!),
    b4.map((p) => Math.max(p.capacity, 0.5)),
  );
  expect(Math.abs(b4Fit.slope - 2 / 3)).toBeLessThanOrEqual(0.2);
  // Population Muon (η = √d) recovers more than GD rising from 0.01√d at every step, and the largest
  // minibatch stays at or below the population run at the same step.
  const gd = series('GD (rising η)');
  const muon = series('Muon');
  for (const p of muon.filter((q) => q.step >= 1))
    expect(p.capacity, `t = ${p.step}`).toBeGreaterThan(gd.find((q) => q.step === p.step)!.capacity);
  const t = muon[muon.length - 1].step;
  expect(series('Muon B=64').find((p) => p.step === t)!.capacity).toBeLessThanOrEqual(muon[muon.length - 1].capacity);
}, 1_200_000);
