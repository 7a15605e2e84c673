/**
 * The layout rules of the one tensor shape every kernel speaks, `[batch, rows, cols]` (see
 * src/gpu/tensor.ts for the GPU tensor itself). GPU-free: the CPU twins (src/cpu/) and the kernels
 * check layouts with the same code and the same messages.
 */

export type DType = 'f32' | 'u32' | 'i32';

/**
 * Where a tensor's elements live and how they are laid out. Plain data: views are cheap. `D` is the
 * element type when it is known where the tensor is made (createTensor infers it), so readTensor can
 * return the matching array; `TensorLayout` alone means "any dtype".
 */
export interface TensorLayout<D extends DType = DType> {
  batch: number;
  rows: number;
  cols: number;
  /** Elements between consecutive matrices of the batch; 0 = shared by all runs. */
  batchStride: number;
  /** First element of matrix 0. */
  offset: number;
  dtype: D;
}

/** Number of elements a layout touches, from element 0 of its buffer: what the buffer must hold. */
export function requiredElements(t: TensorLayout): number {
  if (t.batch === 0 || t.rows === 0 || t.cols === 0) return t.offset;
  return t.offset + (t.batch - 1) * t.batchStride + t.rows * t.cols;
}

/** Checks a layout is well formed; throws naming `what` (e.g. "matmul operand A"). */
export function validateLayout(t: TensorLayout, what: string): void {
  for (const key of ['batch', 'rows', 'cols', 'batchStride', 'offset'] as const) {
    const v = t[key];
    if (!Number.isInteger(v) || v < 0) {
      throw new RangeError(`${what}: ${key} must be a non-negative integer, got ${v}`);
    }
  }
  if (t.batchStride !== 0 && t.batchStride < t.rows * t.cols && t.batch > 1) {
    throw new RangeError(
      `${what}: batchStride ${t.batchStride} is smaller than one matrix (${t.rows}×${t.cols}); ` +
        'matrices of different runs would overlap (use 0 to share one matrix)',
    );
  }
}
