/**
 * One exact polar factor of a host matrix on the GPU (the `exact` kernel, docs/math.md §2.6), with
 * the stop rule's decision: the direction of Muon as the theory means it, for experiments that form
 * one-step directions themselves (c-capacity-onestep), and its distance to the Float64 SVD form.
 */
import { runCommands } from '../gpu/commands';
import type { Gpu } from '../gpu/device';
import { createTensor, readTensor, writeTensor } from '../gpu/tensor';
import { createNsWorkspace, newtonSchulz, readExactReport } from '../kernels/newtonSchulz/newtonSchulz';
import { singularValues } from '../cpu/polar';

export interface GpuPolarResult {
  /** U Vᵀ (rows × cols, row-major) as the GPU computed it in f32. */
  direction: Float32Array;
  /** Steps of the returned iterate and its step change ‖X_k − X_{k−1}‖_F. */
  steps: number;
  residual: number;
  converged: boolean;
}

/**
 * The GPU `exact` polar factor of x (rows × cols, row-major).
 *
 * @example
 * const { direction, steps } = await gpuExactPolar(gpu, gradient, d, d);
 */
export async function gpuExactPolar(gpu: Gpu, x: Float32Array, rows: number, cols: number): Promise<GpuPolarResult> {
  const input = createTensor(gpu, { batch: 1, rows, cols, label: 'exact polar input' });
  const output = createTensor(gpu, { batch: 1, rows, cols, label: 'exact polar output' });
  const ws = createNsWorkspace(gpu, { batch: 1, rows, cols }, 'exact polar');
  try {
    writeTensor(gpu, input, x);
    await runCommands(gpu, async (rec) => {
      await newtonSchulz(rec, { input, output, orth: 'exact', workspace: ws });
    });
    const report = await readExactReport(gpu, ws);
    return {
      direction: await readTensor(gpu, output),
      steps: report.steps[0],
      residual: report.stepChange[0],
      converged: report.converged[0],
    };
  } finally {
    input.buffer.destroy();
    output.buffer.destroy();
    ws.destroy();
  }
}

/** ‖a − b‖₂ of two rows × cols matrices (Float64 SVD of the difference). */
export function spectralDistance(a: ArrayLike<number>, b: ArrayLike<number>, rows: number, cols: number): number {
  const diff = new Float64Array(rows * cols);
  for (let k = 0; k < diff.length; k++) diff[k] = a[k] - b[k];
  return singularValues(diff, rows, cols)[0] ?? 0;
}
