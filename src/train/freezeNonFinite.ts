/**
 * The loss guard of the scheduler (shaders/train/freeze_nonfinite.wgsl): marks every run whose population
 * loss at W_t is not finite as diverged at step t, on the GPU, inside step t's command buffer. The
 * host needs no readback to freeze a run, so metrics can be read back a step late (double-buffered)
 * with exactly the results of a synchronous readback. Its CPU counterpart is the host's check of
 * Σ p_i·loss_i in trainCell (both must agree; test/train.browser.test.ts covers it).
 */
import type { CommandRecorder } from '../gpu/commands';
import { defineKernel } from '../gpu/registry';
import type { RunParamsBuffer } from '../gpu/runParams';
import type { Tensor } from '../gpu/tensor';

const kernel = defineKernel({ shader: 'train/freeze_nonfinite.wgsl', entryPoint: 'freeze_nonfinite_loss' });

export interface FreezeNonFiniteArgs {
  params: RunParamsBuffer;
  /** Softmax-gradient outputs [R, N, columns] of the population evaluation at W_t (offset 0, contiguous). */
  outputs: Tensor;
  /** p_i [1, N, 1]. */
  weights: Tensor;
  items: number;
  columns: number;
  lossColumn: number;
  /** t: recorded as divergedAtStep. */
  step: number;
}

/** Records the guard for the R runs of `params`. */
export async function freezeNonFiniteLoss(rec: CommandRecorder, a: FreezeNonFiniteArgs): Promise<void> {
  if (a.outputs.offset !== 0 || a.weights.offset !== 0)
    throw new RangeError('freezeNonFiniteLoss: outputs and weights must start at offset 0');
  if (a.outputs.batch !== a.params.count || a.outputs.rows !== a.items || a.outputs.cols !== a.columns) {
    throw new RangeError(
      `freezeNonFiniteLoss: outputs [${a.outputs.batch}, ${a.outputs.rows}, ${a.outputs.cols}] are not [${a.params.count} runs, ${a.items} items, ${a.columns} columns]`,
    );
  }
  await rec.dispatch({
    kernel,
    buffers: { runs: a.params.buffer, outputs: a.outputs.buffer, weights: a.weights.buffer },
    uniforms: { guard: { runCount: a.params.count, items: a.items, columns: a.columns, lossColumn: a.lossColumn, step: a.step } },
    workgroups: [a.params.count, 1, 1],
    label: 'freeze non-finite loss',
  });
}
