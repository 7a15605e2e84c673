/**
 * Batched reductions (shaders/reduce/reduce.wgsl), one value per matrix of a batch in one dispatch: the sum
 * of squares ‖X_r‖²_F or ‖X_r − Y_r‖²_F (CPU twin: src/cpu/reduce.ts), and the count of non-finite
 * entries (input validation).
 */
import type { CommandRecorder } from '../../gpu/commands';
import { defineKernel } from '../../gpu/registry';
import type { Tensor } from '../../gpu/tensor';

export const SUM_SQUARES_KERNEL = defineKernel({ shader: 'reduce/reduce.wgsl', entryPoint: 'sum_squares' });
export const COUNT_NONFINITE_KERNEL = defineKernel({ shader: 'reduce/reduce.wgsl', entryPoint: 'count_nonfinite' });

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
  const { outOffset, outStride } = outputPlacement('sumSquares', x, args);
  await rec.dispatch({
    kernel: SUM_SQUARES_KERNEL,
    label: y ? 'sum_squares(x − y)' : 'sum_squares',
    constants: { DIFF: Boolean(y) },
    buffers: { x: x.buffer, y: (y ?? x).buffer, out: args.out },
    uniforms: {
      params: {
        rows: x.rows,
        cols: x.cols,
        batch: x.batch,
        offsetX: x.offset,
        batchStrideX: x.batchStride,
        offsetY: (y ?? x).offset,
        batchStrideY: (y ?? x).batchStride,
        outOffset,
        outStride,
      },
    },
    workgroups: [x.batch, 1, 1],
  });
}

export interface CountNonFiniteArgs {
  x: Tensor;
  /** Receives matrix b's count (as f32) at element `outOffset + b·outStride`. */
  out: GPUBuffer;
  outOffset?: number;
  outStride?: number;
}

/**
 * Counts the NaN and ±Inf entries of every matrix of a batch (an exponent-bits test, so a compiler
 * cannot fold it away); the counts are f32, exact below 2^24 and nonzero whenever one is present.
 *
 * @example
 * await countNonFinite(rec, { x: gradient, out: counts }); // counts[b] = #non-finite in run b
 */
export async function countNonFinite(rec: CommandRecorder, args: CountNonFiniteArgs): Promise<void> {
  const { x } = args;
  if (x.dtype !== 'f32') throw new TypeError(`countNonFinite: x must be f32, got ${x.dtype}`);
  const { outOffset, outStride } = outputPlacement('countNonFinite', x, args);
  await rec.dispatch({
    kernel: COUNT_NONFINITE_KERNEL,
    label: 'count_nonfinite',
    buffers: { x: x.buffer, out: args.out },
    uniforms: {
      params: {
        rows: x.rows,
        cols: x.cols,
        batch: x.batch,
        offsetX: x.offset,
        batchStrideX: x.batchStride,
        offsetY: x.offset,
        batchStrideY: x.batchStride,
        outOffset,
        outStride,
      },
    },
    workgroups: [x.batch, 1, 1],
  });
}

function outputPlacement(
  name: string,
  x: Tensor,
  args: { out: GPUBuffer; outOffset?: number; outStride?: number },
): { outOffset: number; outStride: number } {
  const outStride = args.outStride ?? 1;
  const outOffset = args.outOffset ?? 0;
  const need = (outOffset + (x.batch - 1) * outStride + 1) * 4;
  if (need > args.out.size) throw new RangeError(`${name}: output buffer of ${args.out.size} bytes, needs ${need}`);
  return { outOffset, outStride };
}
