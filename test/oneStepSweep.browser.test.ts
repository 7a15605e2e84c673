// [B]'s one-step balance predictions at `ci` scale (docs/math.md §4–§5, issue 5 acceptance): N = d = 300,
// 60 head items holding mass 0.8, one population step from W₀ = 0, ϱ_0.1 found by the GPU sweep.
// Thresholds are the issue's, written here; the closed forms are docs/math.md §4's.
import { afterAll, describe, expect, test } from 'vitest';
import { firstDirection, sweepBalance } from '../src/experiments/oneStepSweep';
import { createGpuTask, type GpuTask } from '../src/task/taskGpu';
import { gpuOrSkip } from './gpuFixture';

const N = 300;
const headCount = 60;
const headMass = 0.8;
const tau = 0.1;
const pHead = headMass / headCount;
const pTail = (1 - headMass) / (N - headCount);

// GD: item k's one-step logit margin is η·p_k, so ϱ_τ = x/(x + N − 1), x = ((1−τ)(N−1)/τ)^(p_tail/p_head),
// reached at η_τ = ln((1−τ)(N−1)/τ)/p_head.
const gdRho = (() => {
  const x = (((1 - tau) * (N - 1)) / tau) ** (pTail / pHead);
  return x / (x + N - 1);
})();
const gdEta = Math.log(((1 - tau) * (N - 1)) / tau) / pHead;

function report(what: string, r: { rho: number; etaTau: number; rhoInfimum: number; forwardPasses: number }, prediction: string): void {
  console.log(
    `[b-balance-onestep ci] ${what}: ϱ_0.1 = ${r.rho.toPrecision(5)} at η_τ = ${r.etaTau.toPrecision(6)} (infimum ${r.rhoInfimum.toPrecision(4)}; ${r.forwardPasses} batched forwards) — ${prediction}`,
  );
}

const tasks = new Map<string, GpuTask>();
afterAll(() => tasks.forEach((t) => t.destroy()));

describe.each(['identity', 'coupled-rotation'] as const)('b-balance-onestep ci, %s embeddings', (embedding) => {
  const taskFor = async (ctx: Parameters<typeof gpuOrSkip>[0]) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return undefined;
    if (!tasks.has(embedding)) {
      tasks.set(
        embedding,
        await createGpuTask(gpu, { N, dIn: N, dOut: N, embedding, frequency: { kind: 'two-class', headCount, headMass } }),
      );
    }
    return { gpu, task: tasks.get(embedding)! };
  };

  test(`GD: ϱ_0.1 within 1% of ${gdRho.toFixed(5)} and η_τ within 1% of ${gdEta.toFixed(1)}`, async (ctx) => {
    const s = await taskFor(ctx);
    if (!s) return;
    const d = await firstDirection(s.gpu, s.task, { name: 'gd' });
    const r = await sweepBalance(s.gpu, s.task, d, tau);
    report(`GD ${embedding}`, r, `predicted ϱ ${gdRho.toFixed(5)}, η_τ ${gdEta.toFixed(2)}`);
    expect(Math.abs(r.maxAtEta - (1 - tau))).toBeLessThanOrEqual(1e-5);
    expect(Math.abs(r.rho / gdRho - 1)).toBeLessThan(0.01);
    expect(Math.abs(r.etaTau / gdEta - 1)).toBeLessThan(0.01);
  });

  test('Muon exact: ϱ_0.1 ≥ 1 − 0.1·(1 + 2·ln N/N)', async (ctx) => {
    const s = await taskFor(ctx);
    if (!s) return;
    const d = await firstDirection(s.gpu, s.task, { name: 'muon', orth: 'exact', momentum: 0 });
    const r = await sweepBalance(s.gpu, s.task, d, tau);
    report(`Muon exact ${embedding}`, r, `predicted ϱ ≥ ${(1 - tau * (1 + (2 * Math.log(N)) / N)).toFixed(4)}`);
    expect(r.rho).toBeGreaterThanOrEqual(1 - tau * (1 + (2 * Math.log(N)) / N));
  });

  test(embedding === 'identity' ? 'SignGD: ϱ_0.1 within 0.01 of 0.9' : 'SignGD: ϱ_0.1 below 0.5 (collapses)', async (ctx) => {
    const s = await taskFor(ctx);
    if (!s) return;
    const d = await firstDirection(s.gpu, s.task, { name: 'signgd' });
    const r = await sweepBalance(s.gpu, s.task, d, tau);
    report(
      `SignGD ${embedding}`,
      r,
      embedding === 'identity' ? 'predicted ϱ ≈ 0.9' : 'predicted collapse (docs/math.md: first crossing ≈ 0.29 at this size, infimum → 0)',
    );
    if (embedding === 'identity') expect(Math.abs(r.rho - 0.9)).toBeLessThanOrEqual(0.01);
    else expect(r.rho).toBeLessThan(0.5);
  });
});
