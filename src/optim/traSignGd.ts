/**
 * tra-signgd ([A]'s oracle, orthonormal embeddings only, docs/math.md §2): D = Ẽ·sign(Ẽᵀ G E)·Eᵀ. With
 * item-major embeddings (N × d, docs/architecture.md) E = inputᵀ and Ẽ = outputᵀ, so per run:
 *   S = output·(G·inputᵀ)  (N×N),  S ← sign(S),  D = (outputᵀ·S)·input.
 * Four batched matmuls (the embeddings are shared operands, batch stride 0), one sign kernel,
 * the update (check + apply). CPU twin: traSignDirectionCpu in src/cpu/optim.ts.
 */
import type { CommandRecorder } from '../gpu/commands';
import type { Gpu } from '../gpu/device';
import { defineKernel } from '../gpu/registry';
import { createTensor, type Tensor } from '../gpu/tensor';
import { matmul } from '../kernels/matmul/matmul';
import {
  checkedUpdate,
  checkOperands,
  elementGroups,
  stateTensor,
  updateShape,
  type GpuOptimizer,
  type MatrixShape,
  type StepOperands,
} from './common';
import { DIRECTION_UPDATE_KERNEL } from './muonReg';

export const SIGN_INPLACE_KERNEL = defineKernel({ shader: 'optimizers/direction.wgsl', entryPoint: 'sign_inplace' });

export interface GpuEmbeddings {
  /** N × d_in (item-major input embeddings E ᵀ), one matrix shared by all runs. */
  input: Tensor;
  /** N × d_out (item-major output embeddings Ẽᵀ). */
  output: Tensor;
}

export function createTraSignGd(gpu: Gpu, shape: MatrixShape, embeddings: GpuEmbeddings): GpuOptimizer {
  const { batch, rows, cols } = shape;
  const N = embeddings.input.rows;
  if (embeddings.input.cols !== cols || embeddings.output.cols !== rows || embeddings.output.rows !== N) {
    throw new RangeError(
      `tra-signgd: embeddings input ${embeddings.input.rows}×${embeddings.input.cols} and output ${embeddings.output.rows}×${embeddings.output.cols} ` +
        `must be N×d_in and N×d_out for W of ${rows}×${cols}`,
    );
  }
  const shared = (t: Tensor): Tensor => ({ ...t, batch: 1, batchStride: 0 });
  const gE = createTensor(gpu, { batch, rows, cols: N, label: 'tra-signgd G·E' });
  const s = createTensor(gpu, { batch, rows: N, cols: N, label: 'tra-signgd sign(ẼᵀGE)' });
  const t = createTensor(gpu, { batch, rows, cols: N, label: 'tra-signgd Ẽ·S' });
  const direction = stateTensor(gpu, shape, 'tra-signgd direction');
  return {
    name: 'tra-signgd',
    shape,
    state: {},
    async step(rec: CommandRecorder, op: StepOperands) {
      checkOperands('tra-signgd', shape, op);
      await matmul(rec, { a: op.g, b: shared(embeddings.input), c: gE, transB: true }, { label: 'tra-signgd: G·E' });
      await matmul(rec, { a: shared(embeddings.output), b: gE, c: s }, { label: 'tra-signgd: ẼᵀGE' });
      await rec.dispatch({
        kernel: SIGN_INPLACE_KERNEL,
        buffers: { s: s.buffer },
        uniforms: { signShape: { count: N * N, batch } },
        workgroups: elementGroups({ batch, rows: N, cols: N }),
      });
      await matmul(rec, { a: shared(embeddings.output), b: s, c: t, transA: true }, { label: 'tra-signgd: Ẽ·S' });
      await matmul(rec, { a: t, b: shared(embeddings.input), c: direction }, { label: 'tra-signgd: D' });
      await checkedUpdate(
        rec,
        DIRECTION_UPDATE_KERNEL,
        shape,
        { runs: op.params.buffer, w: op.w.buffer, d: direction.buffer },
        { shape: updateShape(shape, op.w, direction) },
      );
    },
    destroy: () => {
      for (const x of [gE, s, t, direction]) x.buffer.destroy();
    },
  };
}
