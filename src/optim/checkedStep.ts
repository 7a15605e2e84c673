/**
 * The user-facing form of one optimizer step, with input validation. Two readings of a non-finite
 * value meet in an optimizer step (issue 4, item 5):
 *
 * - a gradient handed in by the caller that holds NaN or ±Inf is bad input: `stepOptimizer` counts
 *   the non-finite entries per run on the GPU first and throws a RangeError naming `gradient`, the
 *   run and the first bad entry, before anything is updated (the CPU twin, optimizerStepCpu, throws
 *   the same way);
 * - an update that becomes non-finite from finite inputs (an overflowing learning rate, a diverging
 *   run) is the run's own outcome: the update kernels mark that run diverged in the run-parameters
 *   buffer and freeze it while the other runs go on. The training scheduler (src/train/trainCell.ts)
 *   records `optimizer.step` straight into its step's command buffer — its gradients come from the
 *   run's own weights, so a non-finite one means the run diverged — and relies on that flag.
 */
import { runCommands } from '../gpu/commands';
import type { Gpu } from '../gpu/device';
import { readTensor, type Tensor } from '../gpu/tensor';
import { countNonFinite } from '../kernels/reduce/reduce';
import type { GpuOptimizer, StepOperands } from './common';

export interface StepOptions {
  /**
   * Validate the gradient before the step (default true): a NaN or ±Inf entry throws, naming the
   * field. false: record the step as the scheduler does, where such a run is marked diverged.
   */
  checkFinite?: boolean;
  /** Name of the gradient in the error message (default `gradient`). */
  field?: string;
}

/**
 * Throws a RangeError naming `field` when some matrix of `g` holds NaN or ±Inf: its run, the first
 * such entry (row, column) and its value, and how many there are.
 *
 * @example
 * await assertFiniteGradient(gpu, g); // RangeError: gradient: non-finite value NaN at (2, 1) of run 2 …
 */
export async function assertFiniteGradient(gpu: Gpu, g: Tensor, field = 'gradient'): Promise<void> {
  const counts = gpu.device.createBuffer({
    label: `${field} non-finite counts`,
    size: Math.max(16, g.batch * 4),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  try {
    await runCommands(gpu, (rec) => countNonFinite(rec, { x: g, out: counts }));
    const perRun = Array.from(
      await readTensor(gpu, {
        buffer: counts,
        label: counts.label,
        batch: 1,
        rows: 1,
        cols: g.batch,
        batchStride: 0,
        offset: 0,
        dtype: 'f32',
      }),
    );
    const run = perRun.findIndex((n) => n > 0);
    if (run < 0) return;
    const total = perRun.reduce((s, n) => s + n, 0);
    // Only on the error path: read the gradient back to name the first bad entry.
    const values = await readTensor(gpu, g);
    const per = g.rows * g.cols;
    const start = run * per;
    let i = start;
    while (i < start + per && Number.isFinite(values[i])) i++;
    const at = i - start;
    throw new RangeError(
      `${field}: non-finite value ${values[i]} at (${Math.floor(at / g.cols)}, ${at % g.cols}) of run ${run} ` +
        `(${total} non-finite ${total === 1 ? 'entry' : 'entries'} in ${perRun.filter((n) => n > 0).length} of ${g.batch} runs); ` +
        'a gradient handed to an optimizer step must be finite',
    );
  } finally {
    counts.destroy();
  }
}

/**
 * One optimizer step for every run of the batch as a user call: validates the gradient (unless
 * `checkFinite: false`), then records the step, submits it and waits. Runs whose update becomes
 * non-finite are marked diverged and frozen, the others go on.
 *
 * @example
 * const opt = createOptimizer(gpu, parseOptimizerConfig({ name: 'adam', lr: 1e-3 }), shape);
 * await stepOptimizer(gpu, opt, { w, g, params });
 */
export async function stepOptimizer(gpu: Gpu, optimizer: GpuOptimizer, operands: StepOperands, options: StepOptions = {}): Promise<void> {
  if (options.checkFinite ?? true) await assertFiniteGradient(gpu, operands.g, options.field ?? 'gradient');
  await runCommands(gpu, (rec) => optimizer.step(rec, operands));
}
