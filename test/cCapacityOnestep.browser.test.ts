// [C]'s one-step capacity scaling at `ci` scale (issue 5 acceptance): N = 4096, d ∈ {64, 128, 256},
// a = 1.5, 4 task seeds, every item evaluated on the GPU. Pass/fail is recomputed here from the raw
// counts (not read from the preset's `agrees`): Muon's fitted count exponent must be within ±0.25 of
// 1 + 1/(2a) = 4/3, and Muon must recover more items than GD at every d.
import { expect, test } from 'vitest';
import { cCapacityOnestep, type CapacityPoint } from '../src/experiments/presets/cCapacityOnestep';
import { fitPowerLaw } from '../src/metrics/fits';
import { gpuOrSkip } from './gpuFixture';

test('c-capacity-onestep ci: Muon ≈ d^{1+1/(2a)}, Muon > GD at every d', async (ctx) => {
  const gpu = await gpuOrSkip(ctx);
  if (!gpu) return;
  const report = await cCapacityOnestep.run(gpu, 'ci', () => {});
  const points: CapacityPoint[] = report.measurements;
  const a = 1.5;
  const muon = points.filter((p) => p.optimizer === 'Muon');
  const gd = points.filter((p) => p.optimizer === 'GD');
  expect(new Set(muon.map((p) => p.d))).toEqual(new Set([64, 128, 256]));
  expect(new Set(muon.map((p) => p.seed)).size).toBeGreaterThanOrEqual(4);
  const fit = fitPowerLaw(
    muon.map((p) => p.d),
    muon.map((p) => p.capacity),
  );
  const predicted = 1 + 1 / (2 * a);
  const gdPositive = gd.filter((p) => p.capacity > 0);
  const gdFit =
    new Set(gdPositive.map((p) => p.d)).size >= 2
      ? fitPowerLaw(
          gdPositive.map((p) => p.d),
          gdPositive.map((p) => p.capacity),
        )
      : undefined;
  const mean = (list: CapacityPoint[], d: number) => {
    const sel = list.filter((p) => p.d === d);
    return sel.reduce((s, p) => s + p.capacity, 0) / sel.length;
  };
  console.log(
    `[c-capacity-onestep ci] Muon exponent ${fit.slope.toFixed(3)} [${fit.slopeCI.map((v) => v.toFixed(3)).join(', ')}] (predicted ${predicted.toFixed(3)}); ` +
      `GD exponent ${gdFit ? gdFit.slope.toFixed(3) : 'n/a'} (predicted ${(1 / (2 * a)).toFixed(3)}); mean items GD/Muon: ` +
      [64, 128, 256].map((d) => `d=${d}: ${mean(gd, d)}/${mean(muon, d)}`).join(', '),
  );
  expect(Math.abs(fit.slope - predicted)).toBeLessThanOrEqual(0.25);
  for (const d of [64, 128, 256]) expect(mean(muon, d), `d = ${d}`).toBeGreaterThan(mean(gd, d));
}, 1_800_000);
