/**
 * Float64 reference for the row gather (src/kernels/gather.ts): `out[b, r, :] = src[b, index[b, r, 0], :]`,
 * and the shape rules both sides share, so the kernel and its twin reject the same calls with the
 * same messages (they live here rather than beside the kernel so this file stays importable in
 * plain Node: the kernel module imports its shader with `?raw`).
 *
 * An index outside `[0, src.rows)` gives a NaN row on both sides — a bad index shows up in the
 * result instead of silently reading another item's embedding.
 */
import type { HostTensor } from './hostTensor';
import { validateLayout, type TensorLayout } from '../gpu/tensor';

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
  const operands = [['src', src], ['index', index], ['out', out]] as const;
  for (const [name, t] of operands) validateLayout(t, `gather operand ${name}`);
  for (const [name, t] of operands) {
    const want = name === 'index' ? 'u32' : 'f32';
    if (t.dtype !== want) throw new TypeError(`gather operand ${name}: dtype must be ${want}, got ${t.dtype}`);
    if (t.batch < 1 || t.rows < 1 || t.cols < 1) {
      throw new RangeError(`gather operand ${name}: shape ${t.batch}×${t.rows}×${t.cols} has an empty dimension (need ≥ 1)`);
    }
  }
  if (index.cols !== 1) {
    throw new RangeError(`gather operand index is ${index.batch}×${index.rows}×${index.cols}; expected [batch, rows, 1] (one row number per output row)`);
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

/**
 * Writes `out[b, r, :] = src[b, index[b, r, 0], :]`, NaN where the index is not a row of src.
 * Index values are read as the GPU reads them, as u32: ToUint32 (`>>> 0`) is exactly what storing
 * a number in a Uint32Array — uploading it to a u32 tensor — does, so −1 is 4294967295 (out of range).
 *
 * @example
 * const out = hostTensor({ batch: 4, rows: 32, cols: 64 });
 * gatherRowsCpu({ src: table, index: draws, out }); // table is 1×N×64, draws 4×32×1 (u32)
 */
export function gatherRowsCpu(args: GatherOperands<HostTensor>): void {
  const s = gatherShape(args);
  const { src, index, out } = args;
  for (let b = 0; b < s.batch; b++) {
    const srcBase = src.offset + b * s.batchStrideSrc;
    const indexBase = index.offset + b * s.batchStrideIndex;
    const outBase = out.offset + b * s.batchStrideOut;
    for (let r = 0; r < s.rows; r++) {
      const item = index.data[indexBase + r] >>> 0;
      for (let j = 0; j < s.cols; j++) {
        out.data[outBase + r * s.cols + j] = item < s.srcRows ? src.data[srcBase + item * s.cols + j] : NaN;
      }
    }
  }
}
