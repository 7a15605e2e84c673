// [B]'s isotropy metrics at `ci` scale: N = d = 150, 30 head items (mass 0.8), 6 population steps
// on identity and coupled-rotation embeddings, GD / SignGD / Muon (exact) / Adam at three step sizes.
// Thresholds are written here and recomputed from the measured spectra (not the preset's `agrees`):
// - Muon's update W_t − W_{t+1} = η·orth(G): every nonzero σ equal, so eRank ≥ 0.999·(N − 1) (the
//   gradient has rank N − 1: the columns of P − T sum to zero) at every step, η and embedding. The
//   update is a difference of f32 weights (|W| ≲ 10, ulp ≈ 1e-6, vs entries of η·orth ≈ 0.1), so σ
//   carry ≲ 1e-4 relative noise; eRank moves by O(noise²).
// - GD's first update is not isotropic: H_norm < 0.95 and below Muon's.
// - SignGD's first update on coupled-rotation: σ_min/σ_2 within 0.005 of docs/math.md's 0.247 (the 3×3
//   blocks without the rank-one background) and σ_min/σ_max far below 0.1 (docs/math.md: ≈ 0.001 at N = 999).
import { expect, test } from 'vitest';
import { bIsotropy, type FirstUpdateSpectrum, type IsotropyTrace } from '../src/experiments/presets/bIsotropy';
import { gpuOrSkip } from './gpuFixture';

test('b-isotropy ci: Muon update isotropic, GD not, SignGD on coupled-rotation poor', async (ctx) => {
  const gpu = await gpuOrSkip(ctx);
  if (!gpu) return;
  const report = await bIsotropy.run(gpu, 'ci', () => {});
  const N = (report.settings as { N: number }).N;
  const traces: IsotropyTrace[] = report.measurements.filter((m) => m.kind === 'isotropy-trace');
  const first: FirstUpdateSpectrum[] = report.measurements.filter((m) => m.kind === 'first-update-spectrum');
  expect(traces).toHaveLength(2 * 4 * 3);
  const muon = traces.filter((t) => t.optimizer === 'Muon exact');
  expect(muon).toHaveLength(6);
  for (const t of muon) {
    const updates = t.update.filter((u) => u !== null);
    expect(updates.length).toBeGreaterThanOrEqual(3);
    for (const u of updates) expect(u!.eRank, `${t.embedding} ×${t.lrFactor}`).toBeGreaterThanOrEqual(0.999 * (N - 1));
  }
  for (const e of ['identity', 'coupled-rotation']) {
    const gd = traces.find((t) => t.optimizer === 'GD' && t.embedding === e && t.lrFactor === 1)!;
    const mu = traces.find((t) => t.optimizer === 'Muon exact' && t.embedding === e && t.lrFactor === 1)!;
    console.log(
      `[b-isotropy ci] ${e}: first update H_norm GD ${gd.update[0]!.hNorm} Muon ${mu.update[0]!.hNorm}; eRank(W_T) GD ${gd.w.at(-1)!.eRank.toFixed(2)} Muon ${mu.w.at(-1)!.eRank.toFixed(2)}`,
    );
    expect(gd.update[0]!.hNorm!).toBeLessThan(0.95);
    expect(gd.update[0]!.hNorm!).toBeLessThan(mu.update[0]!.hNorm!);
  }
  const sign = first.find((f) => f.optimizer === 'SignGD' && f.embedding === 'coupled-rotation')!;
  const s = sign.sigma;
  console.log(
    `[b-isotropy ci] SignGD coupled-rotation first update σ: ${s[0].toFixed(3)}, ${s[1].toFixed(4)} … ${s[s.length - 1].toFixed(4)}: block ${(s[s.length - 1] / s[1]).toFixed(4)}, whole ${(s[s.length - 1] / s[0]).toExponential(3)}`,
  );
  expect(Math.abs(s[s.length - 1] / s[1] - 0.247)).toBeLessThanOrEqual(0.005);
  expect(s[s.length - 1] / s[0]).toBeLessThan(0.1);
  console.log(`[b-isotropy ci] ${(report.elapsedMs / 1000).toFixed(1)} s`);
}, 300_000);
