/**
 * Batched sum of squares (shaders/reduce.wgsl), one value per matrix of a batch — ‖X_r‖²_F or
 * ‖X_r − Y_r‖²_F — in one dispatch. CPU twin: src/cpu/reduce.ts.
 */
import type { CommandRecorder } from '../gpu/commands';
import { defineKernel } from '../gpu/registry';
import type { Tensor } from '../gpu/tensor';
import reduceSource from '../../shaders/reduce.wgsl?raw';

const sumSquaresKernel = defineKernel({ module: 'reduce', entryPoint: 'sum_squares', source: reduceSource });

export interface SumSquaresArgs {
  x: Tensor;
  /** With y: Σ (x − y)² (same shape and batch as x). */
  y?: Tensor;
  /** Receives matrix b's sum at element `outOffset + b·outStride`. */
  out: GPUBuffer;
  outOffset?: number;
  outStride?: number;
}

/**
 * @example
 * await sumSquares(rec, { x: g, out: norms }); // norms[b] = ‖g_b‖²_F
 */
export async function sumSquares(rec: CommandRecorder, args: SumSquaresArgs): Promise<void> {
  const { x, y } = args;
  if (y && (y.rows !== x.rows || y.cols !== x.cols || (y.batchStride !== 0 && y.batch !== x.batch))) {
    throw new RangeError(`sumSquares: y is ${y.batch}×${y.rows}×${y.cols}, x is ${x.batch}×${x.rows}×${x.cols}`);
  }
  const outStride = args.outStride ?? 1;
  const outOffset = args.outOffset ?? 0;
  const need = (outOffset + (x.batch - 1) * outStride + 1) * 4;
  if (need > args.out.size) throw new RangeError(`sumSquares: output buffer of ${args.out.size} bytes, needs ${need}`);
  await rec.dispatch({
    kernel: sumSquaresKernel,
    label: y ? 'sum_squares(x − y)' : 'sum_squares',
    constants: { DIFF: Boolean(y) },
    buffers: { x: x.buffer, y: (y ?? x).buffer, out: args.out },
    uniforms: {
      params: {
        rows: x.rows, cols: x.cols, batch: x.batch,
        offsetX: x.offset, batchStrideX: x.batchStride,
        offsetY: (y ?? x).offset, batchStrideY: (y ?? x).batchStride,
        outOffset, outStride,
      },
    },
    workgroups: [x.batch, 1, 1],
  });
}
