// The host-direction trainer (src/experiments/hostDirectionTraining.ts) against the training
// scheduler (src/train/trainCell.ts) on a tiny gaussian task: with the direction 'gradient' both run
// plain GD from W₀ = 0, so their population losses must agree step by step — in population mode and
// in minibatch mode, where equal losses also show that both draw the same items at the same steps.
// Polar directions are checked against the Float64 SVD form: D has every singular value 1.
import { expect, test } from 'vitest';
import { F32_UNIT_ROUNDOFF } from '../src/cpu/compare';
import { createGpuTask } from '../src/task/taskGpu';
import { trainCell } from '../src/train/trainCell';
import { trainWithHostDirections } from '../src/experiments/hostDirectionTraining';
import { gpuOrSkip, withErrorScopes } from './gpuFixture';

const N = 48;
const d = 8;
const taskConfig = { N, dIn: d, dOut: d, embedding: 'gaussian' as const, frequency: { kind: 'power' as const, powerExponent: 1.2 }, taskSeed: 11 };

for (const mode of ['population', 'minibatch'] as const) {
  test(`GD through the host trainer = the scheduler's GD (${mode}, 3 steps)`, async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const lr = 6;
    const B = 16;
    const runSeed = 5;
    const task = await createGpuTask(gpu, taskConfig);
    try {
      const host = await withErrorScopes(gpu, () => trainWithHostDirections(gpu, task, {
        steps: 3,
        batchSize: mode === 'minibatch' ? B : undefined,
        runs: [{ label: 'gd', direction: 'gradient', lr: () => lr, runSeed }],
      }));
      const cell = await withErrorScopes(gpu, () => trainCell(gpu, {
        name: 'host-vs-scheduler',
        task: taskConfig,
        optimizers: [{ name: 'gd', lr }],
        training: mode === 'minibatch' ? { mode, batchSize: B, steps: 3, runSeeds: [runSeed] } : { steps: 3 },
      }, {}, { task }));
      expect(host.records.map((r) => r.step)).toEqual([0, 1, 2, 3]);
      for (const r of host.records) {
        const want = cell.records.find((c) => c.step === r.step)!;
        // Both evaluate f32 logits of (N + d)-long sums; the scheduler also rounds each update to f32
        // while the host keeps W in Float64: a few (N + d)·u relative on the loss.
        expect(Math.abs(r.loss! - want.loss), `step ${r.step}: ${r.loss} vs ${want.loss}`).toBeLessThanOrEqual(4 * (N + d) * F32_UNIT_ROUNDOFF * want.loss);
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
    const r = await withErrorScopes(gpu, () => trainWithHostDirections(gpu, task, {
      steps: 4, batchSize: 4, runs: [{ label: 'muon', direction: 'polar', lr: () => Math.sqrt(32), runSeed: 2 }],
    }));
    // An undrawn item's true output wins its argmax only by chance (≈ 1/N each): about
    // (N − drawn)/N ≈ 1 chance win per evaluation here (Poisson), so allow an excess of 3.
    for (const x of r.records) expect(x.capacity - x.distinctSeen!, `step ${x.step}`).toBeLessThanOrEqual(3);
    expect(r.records[4].capacity).toBeGreaterThan(0);
  } finally {
    task.destroy();
  }
});
