// [A]'s noiseless dynamics at `ci` scale (issue 5 acceptance): identity embeddings, N = 256 items in
// M = 4 hierarchical groups (C = 64, C/M = 16), b = 1, population gradients from W₀ = 0. Pass/fail
// is recomputed here from the measured curves with the thresholds (not the preset's
// `agrees`):
// - Muon (`exact`, no momentum, η = 1): loss within 10% of N·e^{−ηt} at every step with
//   1e-4 ≤ L ≤ 0.1, and the groups' fitted decay rates within 10% of each other;
// - GD with η = 0.5/p_max: L·ηt/N within 10% of 1 at its last step (t = 1000);
// - TRA-SignGD with η/2 decays at Muon's rate within 10%.
import { expect, test } from 'vitest';
import { aNoiseless, NOISELESS_SETTINGS, type NoiselessMeasurements } from '../src/experiments/presets/aNoiseless';
import { fitLine } from '../src/metrics/fits';
import { gpuOrSkip } from './gpuFixture';

test('a-noiseless ci: Muon ≈ N·e^{−ηt} in every group at one rate; GD ≈ N/(ηt); TRA-SignGD(η/2) ≈ Muon(η)', async (ctx) => {
  const gpu = await gpuOrSkip(ctx);
  if (!gpu) return;
  const report = await aNoiseless.run(gpu, 'ci', () => {});
  const s = NOISELESS_SETTINGS.ci;
  const { N, groups: M } = s;
  expect(N).toBeGreaterThanOrEqual(256);
  expect(N / M / M).toBeGreaterThanOrEqual(16);
  const curves: (NoiselessMeasurements['curves'][number] & { kind: string })[] = report.measurements;
  const curve = (label: string) => curves.find((c) => c.label === label)!;

  const muon = curve('Muon');
  const eta = muon.lr;
  const window = muon.steps.map((_t, k) => muon.loss[k] >= 1e-4 && muon.loss[k] <= 0.1);
  const windowSteps = muon.steps.filter((_t, k) => window[k]);
  // At least a few points inside the window, or the rate fits mean nothing.
  expect(windowSteps.length).toBeGreaterThanOrEqual(4);
  for (const [k, t] of muon.steps.entries()) {
    if (!window[k]) continue;
    const predicted = N * Math.exp(-eta * t);
    expect(Math.abs(muon.loss[k] / predicted - 1), `Muon t = ${t}: ${muon.loss[k]} vs N·e^{−ηt} = ${predicted}`).toBeLessThanOrEqual(0.1);
  }
  const rates = Array.from({ length: M }, (_, g) => {
    const ts = windowSteps;
    const ys = muon.steps.flatMap((_t, k) => (window[k] ? [Math.log(muon.groupLoss[k][g])] : []));
    return -fitLine(ts, ys).slope;
  });
  console.log(
    `[a-noiseless ci] Muon window t = ${windowSteps.join(',')}; group rates ${rates.map((r) => r.toFixed(4)).join(', ')} (η = ${eta})`,
  );
  for (const r of rates) expect(r).toBeGreaterThan(0);
  expect(Math.max(...rates) / Math.min(...rates) - 1).toBeLessThanOrEqual(0.1);

  const gd = curve('GD');
  const last = gd.steps.length - 1;
  const T = gd.steps[last];
  expect(T).toBe(s.gdSteps);
  const pMax = (report.settings as { pMax: number }).pMax;
  expect(gd.lr * pMax).toBeCloseTo(0.5, 12);
  const scaled = (gd.loss[last] * gd.lr * T) / N;
  console.log(
    `[a-noiseless ci] GD L·ηt/N at t = ${T}: ${scaled.toFixed(4)}; tail/head group loss ${(gd.groupLoss[last][M - 1] / gd.groupLoss[last][0]).toFixed(3)}`,
  );
  expect(Math.abs(scaled - 1)).toBeLessThanOrEqual(0.1);
  // The tail lags: the last group's loss is above the first group's.
  expect(gd.groupLoss[last][M - 1]).toBeGreaterThan(gd.groupLoss[last][0]);

  const tra = curve('TRA-SignGD');
  expect(tra.lr).toBeCloseTo(eta / 2, 12);
  const traWindow = tra.steps.map((_t, k) => tra.loss[k] >= 1e-4 && tra.loss[k] <= 0.1);
  const traSteps = tra.steps.filter((_t, k) => traWindow[k]);
  expect(traSteps.length).toBeGreaterThanOrEqual(3);
  const traRate = -fitLine(
    traSteps,
    tra.steps.flatMap((_t, k) => (traWindow[k] ? [Math.log(tra.loss[k])] : [])),
  ).slope;
  const muonRate = -fitLine(
    windowSteps,
    muon.steps.flatMap((_t, k) => (window[k] ? [Math.log(muon.loss[k])] : [])),
  ).slope;
  console.log(`[a-noiseless ci] TRA-SignGD rate ${traRate.toFixed(4)} vs Muon ${muonRate.toFixed(4)}`);
  expect(Math.abs(traRate / muonRate - 1)).toBeLessThanOrEqual(0.1);

  expect(report.plots.map((p) => p.name)).toEqual(['muon-groups', 'gd-groups']);
  expect(report.markdown).toContain('## Predictions');
  console.log(`[a-noiseless ci] ${(report.elapsedMs / 1000).toFixed(1)} s`);
}, 300_000);
