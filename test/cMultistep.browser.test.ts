// [C] Fig. 4 at `ci` scale: population Muon (exact polar factor of the GPU's gradient), η = 2√d,
// N = 2048, a = 1.5, d ∈ {32, 64, 128}, t = 1 … 4, and one long run (d = 32) under the stop rule.
// Pass/fail is recomputed from the raw capacities with thresholds written here.
import { expect, test } from 'vitest';
import { cMultistep, multistepExponent, type MultistepPoint } from '../src/experiments/presets/cMultistep';
import { fitPowerLaw } from '../src/metrics/fits';
import { gpuOrSkip } from './gpuFixture';

test('multistepExponent: 2 − (1 − 1/(2a))^t', () => {
  expect(multistepExponent(1.5, 1)).toBeCloseTo(4 / 3, 12);
  expect(multistepExponent(1.5, 2)).toBeCloseTo(2 - 4 / 9, 12);
  expect(multistepExponent(2, 3)).toBeCloseTo(2 - 27 / 64, 12);
});

test('c-multistep ci: capacity grows with t and with d; long run stops under the rule', async (ctx) => {
  const gpu = await gpuOrSkip(ctx);
  if (!gpu) return;
  const report = await cMultistep.run(gpu, 'ci', () => {});
  const points: MultistepPoint[] = report.measurements.filter((p) => p.series.startsWith('Muon (exact'));
  const ds = [32, 64, 128];
  const cap = (d: number, t: number) => points.find((p) => p.d === d && p.step === t)!.capacity;
  const slopes = [1, 2, 3, 4].map(
    (t) =>
      fitPowerLaw(
        ds,
        ds.map((d) => cap(d, t)),
      ).slope,
  );
  const long = points.filter((p) => p.d === 32 && p.long);
  console.log(
    `[c-multistep ci] capacity per d (t = 0…4): ${ds.map((d) => `d=${d}: ${[0, 1, 2, 3, 4].map((t) => cap(d, t)).join('/')}`).join('; ')}; ` +
      `slopes ${slopes.map((s) => s.toFixed(3)).join(', ')} (predicted ${[1, 2, 3, 4].map((t) => multistepExponent(1.5, t).toFixed(3)).join(', ')}); ` +
      `long run d=32: ${long.map((p) => p.capacity).join(' ')}; ${(report.elapsedMs / 1000).toFixed(1)} s`,
  );
  // More steps recover more items at every d (measured t = 1 → 2: 18→23, 63→98, 154→316).
  for (const d of ds) {
    expect(cap(d, 2), `d = ${d}`).toBeGreaterThan(cap(d, 1));
    expect(cap(d, 4), `d = ${d}`).toBeGreaterThanOrEqual(cap(d, 2));
  }
  // The count exponent rises with t, as 2 − (2/3)^t does. Small d fit above the prediction (docs/math.md:
  // one-step slopes over small d sit high), so t = 1 gets a one-sided band and t = 4 a ±0.3 band.
  expect(slopes[0]).toBeGreaterThanOrEqual(1.2);
  expect(slopes[0]).toBeLessThanOrEqual(1.9);
  expect(slopes[3]).toBeGreaterThan(slopes[0]);
  expect(Math.abs(slopes[3] - multistepExponent(1.5, 4))).toBeLessThanOrEqual(0.3);
  // The long run ends under [C]'s rule (< 0.5% gain over 10 steps) before the cap, above its t = 4 count.
  const last = long[long.length - 1];
  expect(last.step).toBeGreaterThanOrEqual(10);
  expect(last.step).toBeLessThan(40);
  expect(Math.max(...long.map((p) => p.capacity))).toBeGreaterThanOrEqual(cap(32, 4));
}, 1_200_000);
