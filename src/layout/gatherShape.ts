/**
 * Shape rules of the row gather `out[b, r, :] = src[b, index[b, r, 0], :]`, shared by the kernel
 * (src/kernels/gather/) and its CPU twin (src/cpu/gather.ts) so both reject the same calls with the
 * same messages.
 */
import { validateLayout, type TensorLayout } from './tensorLayout';

export interface GatherOperands<T extends TensorLayout> {
  /** Item-major table `[batch or 1, srcRows, cols]`, f32; batch 1 (or stride 0) = one table for all runs. */
  src: T;
  /** Row numbers `[batch or 1, rows, 1]`, u32. */
  index: T;
  /** Result `[batch, rows, cols]`, f32. */
  out: T;
}

export interface GatherShape {
  batch: number;
  rows: number;
  cols: number;
  srcRows: number;
  /** Batch strides in elements, 0 for a shared operand. */
  batchStrideSrc: number;
  batchStrideIndex: number;
  batchStrideOut: number;
}

/**
 * Checks a gather's operands and returns its shape; throws naming the operand ("gather operand src").
 *
 * @example
 * gatherShape({ src: table, index: idx, out: batchRows });
 * // → { batch: 16, rows: 1024, cols: 128, srcRows: 100000, batchStrideSrc: 0, … }
 */
export function gatherShape<T extends TensorLayout>(args: GatherOperands<T>): GatherShape {
  const { src, index, out } = args;
  const operands = [
    ['src', src],
    ['index', index],
    ['out', out],
  ] as const;
  for (const [name, t] of operands) validateLayout(t, `gather operand ${name}`);
  for (const [name, t] of operands) {
    const want = name === 'index' ? 'u32' : 'f32';
    if (t.dtype !== want) throw new TypeError(`gather operand ${name}: dtype must be ${want}, got ${t.dtype}`);
    if (t.batch < 1 || t.rows < 1 || t.cols < 1) {
      throw new RangeError(`gather operand ${name}: shape ${t.batch}×${t.rows}×${t.cols} has an empty dimension (need ≥ 1)`);
    }
  }
  if (index.cols !== 1) {
    throw new RangeError(
      `gather operand index is ${index.batch}×${index.rows}×${index.cols}; expected [batch, rows, 1] (one row number per output row)`,
    );
  }
  if (src.cols !== out.cols) {
    throw new RangeError(`gather operand src has ${src.cols} columns but operand out has ${out.cols}`);
  }
  if (index.rows !== out.rows) {
    throw new RangeError(`gather operand index has ${index.rows} rows but operand out has ${out.rows}`);
  }
  if (out.batch > 1 && out.batchStride === 0) {
    throw new RangeError('gather operand out: batch stride 0 would make every run write the same rows');
  }
  const batch = out.batch;
  // Batch 1 or stride 0 is shared: the stored stride of a batch-1 view (a runRange of one run) must
  // not be applied, or run r would read the r-th matrix after it.
  const strideOf = (t: T, name: string): number => {
    if (t.batch === 1 || t.batchStride === 0) return 0;
    if (t.batch !== batch) {
      throw new RangeError(`gather operand ${name} has batch ${t.batch}; expected 1 (shared) or ${batch} (out's batch)`);
    }
    return t.batchStride;
  };
  return {
    batch,
    rows: out.rows,
    cols: out.cols,
    srcRows: src.rows,
    batchStrideSrc: strideOf(src, 'src'),
    batchStrideIndex: strideOf(index, 'index'),
    batchStrideOut: batch === 1 ? 0 : out.batchStride,
  };
}
