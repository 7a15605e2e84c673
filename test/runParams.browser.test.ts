// advance_runs on the GPU: running runs advance step and their geometric learning rate; a diverged
// run stays frozen. Exact comparisons: integers, and lr·g where g is a power of two (exact in f32).
import { expect, test } from 'vitest';
import { runCommands } from '../src/gpu/commands';
import { advanceRuns, createRunParams, readRunParams } from '../src/gpu/runParams';
import { gpuOrSkip, withErrorScopes } from './gpuFixture';

test('advance_runs: 70 runs (two workgroups), one diverged', async (ctx) => {
  const gpu = await gpuOrSkip(ctx);
  if (!gpu) return;
  const runs = Array.from({ length: 70 }, (_, r) => ({ lr: 0.75, lrGrowth: r % 2 ? 2 : 1, step: r, diverged: r === 65 ? 1 : 0 }));
  const params = createRunParams(gpu, runs);
  await withErrorScopes(gpu, () =>
    runCommands(gpu, async (rec) => {
      await advanceRuns(rec, params);
      await advanceRuns(rec, params);
    }),
  );
  const after = await readRunParams(gpu, params);
  params.buffer.destroy();
  for (let r = 0; r < 70; r++) {
    if (r === 65) {
      expect(after[r]).toMatchObject({ step: 65, lr: 0.75, diverged: 1 });
    } else {
      expect(after[r].step, `run ${r}`).toBe(r + 2);
      expect(after[r].lr, `run ${r}`).toBe(r % 2 ? 3 : 0.75);
    }
  }
});
