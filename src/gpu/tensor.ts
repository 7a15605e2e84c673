/**
 * The one tensor shape every kernel speaks: `[batch, rows, cols]`, row-major, one matrix per run.
 *
 * Element (b, i, j) lives at `offset + b·batchStride + i·cols + j` (in elements, not bytes).
 * `batchStride = 0` means one matrix shared by every run of the batch (an embedding table, say);
 * a contiguous sub-range of runs is a view with a larger offset and a smaller batch — no copy.
 */
import type { Gpu } from './device';
import { requiredElements, validateLayout, type DType, type TensorLayout } from '../layout/tensorLayout';

export type { DType, TensorLayout } from '../layout/tensorLayout';
export { requiredElements, validateLayout } from '../layout/tensorLayout';

/** The host array each dtype reads back as (readTensor). */
export interface HostArrayOfDType {
  f32: Float32Array<ArrayBuffer>;
  u32: Uint32Array<ArrayBuffer>;
  i32: Int32Array<ArrayBuffer>;
}

export interface Tensor<D extends DType = DType> extends TensorLayout<D> {
  buffer: GPUBuffer;
  label: string;
}

export const BYTES_PER_ELEMENT = 4;

export interface CreateTensorOptions {
  batch?: number;
  rows: number;
  cols: number;
  dtype?: DType;
  label: string;
  /** Extra usages (STORAGE | COPY_SRC | COPY_DST are always set). */
  usage?: GPUBufferUsageFlags;
}

/**
 * Allocates a contiguous `[batch, rows, cols]` tensor (zero-filled, as WebGPU guarantees). Its type
 * carries the dtype: `f32` unless `options.dtype` says otherwise.
 *
 * @example
 * const w = createTensor(gpu, { batch: 16, rows: 64, cols: 64, label: 'W' }); // Tensor<'f32'>
 * const items = createTensor(gpu, { rows: 8, cols: 1, dtype: 'u32', label: 'items' }); // Tensor<'u32'>
 */
export function createTensor(gpu: Gpu, options: CreateTensorOptions & { dtype?: 'f32' }): Tensor<'f32'>;
export function createTensor<D extends DType>(gpu: Gpu, options: CreateTensorOptions & { dtype: D }): Tensor<D>;
export function createTensor(gpu: Gpu, options: CreateTensorOptions): Tensor;
export function createTensor(gpu: Gpu, options: CreateTensorOptions): Tensor {
  const batch = options.batch ?? 1;
  const layout: TensorLayout = {
    batch,
    rows: options.rows,
    cols: options.cols,
    batchStride: batch > 1 ? options.rows * options.cols : 0,
    offset: 0,
    dtype: options.dtype ?? 'f32',
  };
  validateLayout(layout, `tensor "${options.label}"`);
  const bytes = Math.max(16, requiredElements(layout) * BYTES_PER_ELEMENT);
  const maxBytes = gpu.limits.maxBufferSize ?? Infinity;
  if (bytes > maxBytes) {
    throw new RangeError(`tensor "${options.label}" needs ${bytes} bytes, above this device's maxBufferSize ${maxBytes}`);
  }
  const buffer = gpu.device.createBuffer({
    label: options.label,
    size: alignTo(bytes, 4),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | (options.usage ?? 0),
  });
  return { ...layout, buffer, label: options.label };
}

type HostArray = Float32Array | Uint32Array | Int32Array | Float64Array | number[];

function toHost(dtype: DType, data: HostArray): Float32Array<ArrayBuffer> | Uint32Array<ArrayBuffer> | Int32Array<ArrayBuffer> {
  if (dtype === 'f32') return Float32Array.from(data as ArrayLike<number>);
  if (dtype === 'u32') return Uint32Array.from(data as ArrayLike<number>);
  return Int32Array.from(data as ArrayLike<number>);
}

/**
 * Creates a tensor and fills it from host data laid out contiguously (`batch·rows·cols` values).
 * Typed like createTensor: `f32` unless `options.dtype` says otherwise.
 *
 * @example
 * const a = uploadTensor(gpu, { rows: 2, cols: 2, label: 'A' }, [1, 2, 3, 4]); // Tensor<'f32'>
 */
export function uploadTensor(gpu: Gpu, options: CreateTensorOptions & { dtype?: 'f32' }, data: HostArray): Tensor<'f32'>;
export function uploadTensor<D extends DType>(gpu: Gpu, options: CreateTensorOptions & { dtype: D }, data: HostArray): Tensor<D>;
export function uploadTensor(gpu: Gpu, options: CreateTensorOptions, data: HostArray): Tensor;
export function uploadTensor(gpu: Gpu, options: CreateTensorOptions, data: HostArray): Tensor {
  const t = createTensor(gpu, options);
  writeTensor(gpu, t, data);
  return t;
}

/** Writes contiguous host data into a tensor (any view: each matrix is written at its place). */
export function writeTensor(gpu: Gpu, t: Tensor, data: HostArray): void {
  const perMatrix = t.rows * t.cols;
  const matrices = t.batchStride === 0 ? 1 : t.batch;
  if (data.length !== matrices * perMatrix) {
    throw new RangeError(
      `writeTensor "${t.label}": expected ${matrices}×${t.rows}×${t.cols} = ${matrices * perMatrix} values, got ${data.length}`,
    );
  }
  const host = toHost(t.dtype, data);
  for (let b = 0; b < matrices; b++) {
    gpu.device.queue.writeBuffer(t.buffer, (t.offset + b * t.batchStride) * BYTES_PER_ELEMENT, host, b * perMatrix, perMatrix);
  }
}

/**
 * Reads a tensor back as contiguous host data (`batch·rows·cols` values; 1 matrix if shared), as the
 * array of its dtype: a `Tensor<'f32'>` reads as a Float32Array, `u32` as Uint32Array, `i32` as
 * Int32Array; a tensor whose dtype is not known statically reads as the union.
 *
 * @example
 * const w = createTensor(gpu, { rows: 2, cols: 2, label: 'W' });
 * const values: Float32Array = await readTensor(gpu, w);
 */
export function readTensor(gpu: Gpu, t: Tensor<'f32'>): Promise<HostArrayOfDType['f32']>;
export function readTensor(gpu: Gpu, t: Tensor<'u32'>): Promise<HostArrayOfDType['u32']>;
export function readTensor(gpu: Gpu, t: Tensor<'i32'>): Promise<HostArrayOfDType['i32']>;
export function readTensor(gpu: Gpu, t: Tensor): Promise<HostArrayOfDType[DType]>;
export async function readTensor(gpu: Gpu, t: Tensor): Promise<HostArrayOfDType[DType]> {
  const perMatrix = t.rows * t.cols;
  const matrices = t.batchStride === 0 ? 1 : t.batch;
  const bytes = matrices * perMatrix * BYTES_PER_ELEMENT;
  const staging = gpu.device.createBuffer({
    label: `readback ${t.label}`,
    size: Math.max(4, bytes),
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const encoder = gpu.device.createCommandEncoder({ label: `readback ${t.label}` });
  for (let b = 0; b < matrices; b++) {
    encoder.copyBufferToBuffer(
      t.buffer,
      (t.offset + b * t.batchStride) * BYTES_PER_ELEMENT,
      staging,
      b * perMatrix * BYTES_PER_ELEMENT,
      perMatrix * BYTES_PER_ELEMENT,
    );
  }
  gpu.device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const copy = staging.getMappedRange().slice(0);
  staging.unmap();
  staging.destroy();
  if (t.dtype === 'u32') return new Uint32Array(copy);
  if (t.dtype === 'i32') return new Int32Array(copy);
  return new Float32Array(copy);
}

/**
 * A view of runs `[start, start + count)` of a batched tensor, without copying.
 *
 * @example
 * const adamRuns = runRange(w, 4, 8); // runs 4..11 of a 16-run sweep
 */
export function runRange<T extends TensorLayout>(t: T, start: number, count: number): T {
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 1 || start + count > t.batch) {
    throw new RangeError(`runRange: runs [${start}, ${start + count}) are outside the batch of ${t.batch}`);
  }
  return { ...t, offset: t.offset + start * t.batchStride, batch: count };
}

/** The same matrix seen by `batch` runs (batch stride 0): share one operand across a batch. */
export function broadcastRuns<T extends TensorLayout>(t: T, batch: number): T {
  if (t.batch !== 1 && t.batchStride !== 0) {
    throw new RangeError(`broadcastRuns: only a single matrix can be shared, this tensor has batch ${t.batch}`);
  }
  return { ...t, batch, batchStride: 0 };
}

export function alignTo(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}
