// The host-direction trainer (src/experiments/hostDirectionTraining.ts) against the training
// scheduler (src/train/trainCell.ts) on a tiny gaussian task: with the direction 'gradient' both run
// plain GD from W₀ = 0, so their population losses must agree step by step — in population mode and
// in minibatch mode, where equal losses also show that both draw the same items at the same steps.
// Polar directions are checked against the Float64 SVD form: D has every singular value 1.
import { expect, test } from 'vitest';
import { F32_UNIT_ROUNDOFF } from '../src/cpu/compare';
import { EXACT_FIRST_CHECKED_STEP, EXACT_MAX_STEPS, exactConvergenceTolerance } from '../src/cpu/exactPolar';
import { createGpuTask } from '../src/task/taskGpu';
import { trainCell } from '../src/train/trainCell';
import { trainWithHostDirections } from '../src/experiments/hostDirectionTraining';
import { gpuOrSkip, withErrorScopes } from './gpuFixture';

const N = 48;
const d = 8;
const taskConfig = {
  N,
  dIn: d,
  dOut: d,
  embedding: 'gaussian' as const,
  frequency: { kind: 'power' as const, powerExponent: 1.2 },
  taskSeed: 11,
};

for (const mode of ['population', 'minibatch'] as const) {
  test(`GD through the host trainer = the scheduler's GD (${mode}, 3 steps)`, async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const lr = 6;
    const B = 16;
    const runSeed = 5;
    const task = await createGpuTask(gpu, taskConfig);
    try {
      const host = await withErrorScopes(gpu, () =>
        trainWithHostDirections(gpu, task, {
          steps: 3,
          batchSize: mode === 'minibatch' ? B : undefined,
          runs: [{ label: 'gd', direction: 'gradient', lr: () => lr, runSeed }],
        }),
      );
      const cell = await withErrorScopes(gpu, () =>
        trainCell(
          gpu,
          {
            name: 'host-vs-scheduler',
            task: taskConfig,
            optimizers: [{ name: 'gd', lr }],
            training: mode === 'minibatch' ? { mode, batchSize: B, steps: 3, runSeeds: [runSeed] } : { steps: 3 },
          },
          {},
          { task },
        ),
      );
      expect(host.records.map((r) => r.step)).toEqual([0, 1, 2, 3]);
      for (const r of host.records) {
        const want = cell.records.find((c) => c.step === r.step)!;
        // Both evaluate f32 logits of (N + d)-long sums; the scheduler also rounds each update to f32
        // while the host keeps W in Float64: a few (N + d)·u relative on the loss.
        expect(Math.abs(r.loss! - want.loss), `step ${r.step}: ${r.loss} vs ${want.loss}`).toBeLessThanOrEqual(
          4 * (N + d) * F32_UNIT_ROUNDOFF * want.loss,
        );
        expect(Math.abs(r.capacity - want.capacity), `step ${r.step} capacity`).toBeLessThanOrEqual(1);
      }
      if (mode === 'minibatch') {
        expect(host.records[3].distinctSeen).toBeGreaterThan(0);
        expect(host.records[3].distinctSeen).toBeLessThanOrEqual(3 * B);
        expect(host.records[3].samplesSeen).toBe(3 * B);
      }
    } finally {
      task.destroy();
    }
  });
}

test('polar direction: a minibatch run recovers only the items it drew (up to chance wins)', async (ctx) => {
  const gpu = await gpuOrSkip(ctx);
  if (!gpu) return;
  const task = await createGpuTask(gpu, { ...taskConfig, N: 256, dIn: 32, dOut: 32 });
  try {
    const r = await withErrorScopes(gpu, () =>
      trainWithHostDirections(gpu, task, {
        steps: 4,
        batchSize: 4,
        runs: [{ label: 'muon', direction: 'polar', lr: () => Math.sqrt(32), runSeed: 2 }],
      }),
    );
    // An undrawn item's true output wins its argmax only by chance (≈ 1/N each): about
    // (N − drawn)/N ≈ 1 chance win per evaluation here (Poisson), so allow an excess of 3.
    for (const x of r.records) expect(x.capacity - x.distinctSeen!, `step ${x.step}`).toBeLessThanOrEqual(3);
    expect(r.records[4].capacity).toBeGreaterThan(0);
  } finally {
    task.destroy();
  }
});

test('gpu-polar direction (the GPU exact kernel) recovers the items the Float64 SVD direction does, step by step', async (ctx) => {
  const gpu = await gpuOrSkip(ctx);
  if (!gpu) return;
  const dd = 32;
  const task = await createGpuTask(gpu, { ...taskConfig, N: 256, dIn: dd, dOut: dd, frequency: { kind: 'power', powerExponent: 1.5 } });
  try {
    const lr = () => 2 * Math.sqrt(dd);
    const r = await withErrorScopes(gpu, () =>
      trainWithHostDirections(gpu, task, {
        steps: 3,
        runs: [
          { label: 'f64', direction: 'polar', lr },
          { label: 'gpu', direction: 'gpu-polar', lr },
        ],
      }),
    );
    for (let t = 0; t <= 3; t++) {
      const [f64, g] = [0, 1].map((run) => r.records.find((x) => x.run === run && x.step === t)!);
      // The acceptance band: within 2 % of the items or 2 items.
      expect(Math.abs(g.capacity - f64.capacity), `step ${t}: ${g.capacity} vs ${f64.capacity}`).toBeLessThanOrEqual(
        Math.max(2, 0.02 * f64.capacity),
      );
      if (t < 3) {
        expect(g.orthSteps, `step ${t}`).toBeGreaterThanOrEqual(EXACT_FIRST_CHECKED_STEP);
        expect(g.orthSteps!).toBeLessThanOrEqual(EXACT_MAX_STEPS);
        expect(g.orthResidual!, 'the stop rule reached its tolerance').toBeLessThanOrEqual(exactConvergenceTolerance(dd, dd));
        expect(f64.orthSteps).toBeNull();
      }
    }
    expect(r.records.find((x) => x.run === 1 && x.step === 3)!.capacity).toBeGreaterThan(0);
  } finally {
    task.destroy();
  }
});

test('gpu-regularized with λ ≫ σ_max(G) is GD: h_λ(G)·λ = G·(I + GᵀG/λ²)^{−1/2} ≈ G', async (ctx) => {
  const gpu = await gpuOrSkip(ctx);
  if (!gpu) return;
  const task = await createGpuTask(gpu, taskConfig);
  try {
    // Entries of the embeddings are N(0, 1/d): ‖e‖ ≈ 1 and σ_max(G) ≤ ‖G‖_F ≤ 2·max‖ẽ‖·max‖e‖ ≲ 8
    // here; λ = 800 makes the exact h_λ's relative departure from G/λ at most σ²/(2λ²) ≤ 5e-5.
    const lambda = 800;
    const lr = 6;
    const r = await withErrorScopes(gpu, () =>
      trainWithHostDirections(gpu, task, {
        steps: 3,
        runs: [
          { label: 'gd', direction: 'gradient', lr: () => lr },
          { label: 'reg', direction: 'gpu-regularized', lambda: () => lambda, lr: () => lr * lambda },
        ],
      }),
    );
    const l0 = r.records.find((x) => x.step === 0)!.loss!;
    for (let t = 1; t <= 3; t++) {
      const [gd, reg] = [0, 1].map((run) => r.records.find((x) => x.run === run && x.step === t)!);
      // The f32 polar factor of [G; λI] (norm ≈ √d) carries absolute errors of a few u·√(rows·cols)
      // on entries of size ‖G‖/λ ~ 1e-3: relative error ≲ 1e-3 on the update, so on the loss change
      // l0 − l_t; plus the f32 loss evaluation's 4(N + d)·u relative, as in the GD test above.
      const tol = 1e-3 * Math.abs(l0 - gd.loss!) + 4 * (N + d) * F32_UNIT_ROUNDOFF * gd.loss!;
      expect(Math.abs(reg.loss! - gd.loss!), `step ${t}: ${reg.loss} vs ${gd.loss}`).toBeLessThanOrEqual(tol);
      expect(Math.abs(reg.capacity - gd.capacity), `step ${t} capacity`).toBeLessThanOrEqual(1);
      if (t < 3) expect(reg.lambda).toBe(lambda);
    }
  } finally {
    task.destroy();
  }
});
