/**
 * The CPU side of the tensor contract: the same `[batch, rows, cols]` layout as src/gpu/tensor.ts,
 * over a host array, so a kernel and its CPU twin take the same arguments.
 */
import type { TensorLayout } from '../layout/tensorLayout';

export interface HostTensor extends TensorLayout {
  data: Float64Array | Float32Array | Uint32Array | Int32Array;
}

/**
 * A contiguous host tensor; `data` defaults to zeros (Float64).
 *
 * @example
 * const a = hostTensor({ batch: 2, rows: 3, cols: 4 });
 */
export function hostTensor(options: {
  batch?: number;
  rows: number;
  cols: number;
  data?: HostTensor['data'];
  dtype?: TensorLayout['dtype'];
}): HostTensor {
  const batch = options.batch ?? 1;
  const size = batch * options.rows * options.cols;
  const data = options.data ?? new Float64Array(size);
  if (data.length < size) {
    throw new RangeError(`hostTensor: ${batch}×${options.rows}×${options.cols} needs ${size} values, got ${data.length}`);
  }
  return {
    data,
    batch,
    rows: options.rows,
    cols: options.cols,
    batchStride: batch > 1 ? options.rows * options.cols : 0,
    offset: 0,
    dtype: options.dtype ?? 'f32',
  };
}

/** Index of element (b, i, j) in `data`. */
export function hostIndex(t: TensorLayout, b: number, i: number, j: number): number {
  return t.offset + b * t.batchStride + i * t.cols + j;
}
