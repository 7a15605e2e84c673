// [B]'s multi-step balance at `ci` scale: N = d = 150, 30 head items with mass 0.8, 13 population
// steps from W₀ = 0 on identity and coupled-rotation embeddings. Checked here from the measured
// per-step extremes (thresholds written here, not the preset's `agrees`):
// - Muon (exact): ϱ_τ along training ≥ 1 − τ(1 + 2 ln N/N) for τ = 0.1 and 0.01, both embeddings,
//   and the same on both (orthogonal equivariance of the polar factor) within 1e-3;
// - GD: on orthonormal embeddings each margin follows m ← m + η·p·(1 − p̂)·N/(N−1) (written out
//   again below in Float64); its crossing step and ϱ_0.1 must match that within 1%, on both;
// - SignGD: Δ = 0 at every step on identity (margins grow by exactly 2η); on coupled-rotation its
//   ϱ_0.1 is below Muon's.
import { expect, test } from 'vitest';
import { bBalanceMultistep, MULTISTEP_SETTINGS, type MultistepRun } from '../src/experiments/presets/bBalanceMultistep';
import { gpuOrSkip } from './gpuFixture';

test('b-balance-multistep ci: Muon stays balanced on both embeddings; GD follows its recurrence; SignGD balanced only on identity', async (ctx) => {
  const gpu = await gpuOrSkip(ctx);
  if (!gpu) return;
  const report = await bBalanceMultistep.run(gpu, 'ci', () => {});
  const runs: MultistepRun[] = report.measurements;
  const { N, headCount, steps } = MULTISTEP_SETTINGS.ci;
  const get = (o: string, e: string) => runs.find((r) => r.optimizer === o && r.embedding === e)!;
  for (const r of runs)
    console.log(
      `[b-balance-multistep ci] ${r.optimizer} (${r.embedding}) η=${r.lr.toPrecision(4)}: τ=0.1 step ${r.crossing['0.1'].step} ϱ ${r.crossing['0.1'].rho}; τ=0.01 step ${r.crossing['0.01'].step} ϱ ${r.crossing['0.01'].rho}`,
    );
  for (const tau of [0.1, 0.01]) {
    const bound = 1 - tau * (1 + (2 * Math.log(N)) / N);
    const rhos = ['identity', 'coupled-rotation'].map((e) => get('Muon exact', e).crossing[String(tau)].rho);
    for (const rho of rhos) {
      expect(rho, `Muon τ = ${tau}`).not.toBeNull();
      expect(rho!).toBeGreaterThanOrEqual(bound);
    }
    expect(Math.abs(rhos[0]! - rhos[1]!)).toBeLessThanOrEqual(1e-3);
  }
  // GD's exact per-item recurrence in Float64.
  const pHead = 0.8 / headCount;
  const p = Array.from({ length: N }, (_, i) => (i < headCount ? pHead : 0.2 / (N - headCount)));
  const eta = get('GD', 'identity').lr;
  expect(eta * pHead).toBeCloseTo(4, 12);
  const m = new Float64Array(N);
  let want: { step: number; rho: number } | null = null;
  for (let t = 0; t <= steps && !want; t++) {
    const pc = Array.from(m, (mi) => 1 / (1 + (N - 1) * Math.exp(-mi)));
    if (Math.max(...pc) >= 0.9) want = { step: t, rho: Math.min(...pc) };
    m.forEach((mi, i) => (m[i] = mi + (eta * p[i] * (1 - pc[i]) * N) / (N - 1)));
  }
  expect(want).not.toBeNull();
  for (const e of ['identity', 'coupled-rotation']) {
    const gd = get('GD', e).crossing['0.1'];
    expect(gd.step, e).toBe(want!.step);
    expect(Math.abs(gd.rho! / want!.rho - 1), `${e}: ${gd.rho} vs ${want!.rho}`).toBeLessThanOrEqual(0.01);
    // GD's balance is poor: far below Muon's.
    expect(gd.rho!).toBeLessThan(0.5);
  }
  expect(Math.max(...get('SignGD', 'identity').delta)).toBeLessThanOrEqual(1e-6);
  expect(get('SignGD', 'coupled-rotation').crossing['0.1'].rho!).toBeLessThan(get('Muon exact', 'coupled-rotation').crossing['0.1'].rho!);
  console.log(`[b-balance-multistep ci] ${(report.elapsedMs / 1000).toFixed(1)} s`);
}, 300_000);
