/**
 * Buffers of the softmax cross-entropy gradient (src/kernels/softmaxGrad/softmaxGrad.ts): a workspace that caches
 * them per (role, size) across calls — the training scheduler calls the gradient every step with the
 * same shapes, so after the first step no storage buffer is created — and the per-call view of it
 * that counts what one call uses (the memory report) and copies between tensors for the staged path.
 */
import type { Gpu } from '../../gpu/device';
import { alignTo, BYTES_PER_ELEMENT, type DType, type Tensor } from '../../gpu/tensor';

/**
 * Storage buffers kept between softmaxGrad calls, keyed by role and size. Create one per training
 * cell (or any loop of same-shaped calls), pass it as `workspace`, and `dispose()` it at the end.
 * A result computed with a workspace lives in the workspace's buffers: read (or copy) its outputs
 * before recording the next call with the same shapes.
 */
export class SoftmaxGradWorkspace {
  private readonly held = new Map<string, GPUBuffer>();
  private disposed = false;
  /** Out-of-memory error scopes of buffers created since the last `takeAllocationFailures`. */
  private pending: { key: string; label: string; bytes: number; error: Promise<GPUError | null> }[] = [];

  constructor(readonly gpu: Gpu) {}

  /** Bytes of every buffer held. */
  get bytes(): number {
    let total = 0;
    for (const b of this.held.values()) total += b.size;
    return total;
  }

  /** Number of buffers held. */
  get bufferCount(): number {
    return this.held.size;
  }

  /** The buffer cached under `key`, created with `bytes` bytes on first use. */
  acquire(key: string, label: string, bytes: number): GPUBuffer {
    if (this.disposed) throw new Error('softmaxGrad: this workspace was disposed; create a new one');
    let buffer = this.held.get(key);
    if (!buffer) {
      // Device memory runs out at createBuffer (not at submit): each creation has its own scope.
      const device = this.gpu.device;
      device.pushErrorScope('out-of-memory');
      buffer = device.createBuffer({
        label: `softmaxGrad ${label}`,
        size: bytes,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
      this.pending.push({ key, label, bytes, error: device.popErrorScope() });
      this.held.set(key, buffer);
    }
    return buffer;
  }

  /**
   * The buffers created since the last call that the device could not allocate (removed from the
   * workspace and destroyed), in creation order.
   */
  async takeAllocationFailures(): Promise<{ label: string; bytes: number; message: string }[]> {
    const pending = this.pending;
    this.pending = [];
    const failures: { label: string; bytes: number; message: string }[] = [];
    for (const p of pending) {
      const error = await p.error;
      if (!error) continue;
      failures.push({ label: p.label, bytes: p.bytes, message: error.message });
      this.held.get(p.key)?.destroy();
      this.held.delete(p.key);
    }
    return failures;
  }

  /** Destroys every buffer held; the workspace cannot be used afterwards. */
  dispose(): void {
    for (const b of this.held.values()) b.destroy();
    this.held.clear();
    this.disposed = true;
  }
}

/**
 * A workspace for repeated softmaxGrad calls.
 *
 * @example
 * const ws = createSoftmaxGradWorkspace(gpu);
 * for (let t = 0; t < T; t++) await softmaxGrad(rec, { ...args, workspace: ws });
 * ws.dispose();
 */
export function createSoftmaxGradWorkspace(gpu: Gpu): SoftmaxGradWorkspace {
  return new SoftmaxGradWorkspace(gpu);
}

/** What one call uses of a workspace: tensors by role, their bytes, and its dispatch count. */
export class CallBuffers {
  readonly buffers: Record<string, number> = {};
  bytes = 0;
  dispatches = 0;
  private readonly used = new Set<GPUBuffer>();

  constructor(readonly workspace: SoftmaxGradWorkspace) {}

  /**
   * A contiguous [batch, rows, cols] tensor for role `label`: the same role and size within a call
   * (and across calls with a shared workspace) is the same buffer. One buffer beyond maxBufferSize
   * is an error naming the limit and the largest N that fits (`largestN(limit)`). Typed by its dtype
   * (`f32` unless given), as createTensor.
   */
  tensor(label: string, batch: number, rows: number, cols: number, largestN: (limit: number) => number): Tensor<'f32'>;
  tensor<D extends DType>(
    label: string,
    batch: number,
    rows: number,
    cols: number,
    largestN: (limit: number) => number,
    dtype: D,
  ): Tensor<D>;
  tensor(label: string, batch: number, rows: number, cols: number, largestN: (limit: number) => number, dtype: DType = 'f32'): Tensor {
    const bytes = Math.max(16, batch * rows * cols * BYTES_PER_ELEMENT);
    const limit = this.workspace.gpu.limits.maxBufferSize ?? Infinity;
    if (bytes > limit) {
      throw new RangeError(
        `softmaxGrad: buffer "${label}" (${batch}×${rows}×${cols}) needs ${bytes} bytes, above this device's maxBufferSize ` +
          `${limit}; the largest N that fits is ${Math.floor(largestN(limit))}`,
      );
    }
    const size = alignTo(bytes, 4);
    const buffer = this.workspace.acquire(`${label}:${size}:${dtype}`, label, size);
    if (!this.used.has(buffer)) {
      this.used.add(buffer);
      this.buffers[label] = (this.buffers[label] ?? 0) + size;
      this.bytes += size;
    }
    return { buffer, label, batch, rows, cols, batchStride: batch > 1 ? rows * cols : 0, offset: 0, dtype };
  }
}

/** One side of a block copy: run `run`, starting at row `row` of a tensor (any view). */
export interface CopyEnd {
  t: Tensor;
  run: number;
  row: number;
}

/**
 * Records copies of `rows` rows of `runs` consecutive matrices between two tensors (copies have no
 * binding-size limit, which is what lets the staged path use operands larger than a binding). A
 * shared source (batch stride 0) is read at the same place for every run.
 */
export function copyRows(encoder: GPUCommandEncoder, from: CopyEnd, to: CopyEnd, runs: number, rows: number): void {
  if (from.t.cols !== to.t.cols) throw new Error(`softmaxGrad: copy between ${from.t.cols} and ${to.t.cols} columns`);
  const cols = from.t.cols;
  const bytes = rows * cols * BYTES_PER_ELEMENT;
  if (bytes === 0) return;
  const at = (e: CopyEnd, r: number) => (e.t.offset + (e.run + r) * e.t.batchStride + e.row * cols) * BYTES_PER_ELEMENT;
  // Contiguous runs on both sides with whole matrices: one copy.
  const whole = (e: CopyEnd) => e.row === 0 && rows === e.t.rows && e.t.batchStride === rows * cols;
  if (runs > 1 && whole(from) && whole(to)) {
    encoder.copyBufferToBuffer(from.t.buffer, at(from, 0), to.t.buffer, at(to, 0), bytes * runs);
    return;
  }
  for (let r = 0; r < runs; r++) encoder.copyBufferToBuffer(from.t.buffer, at(from, r), to.t.buffer, at(to, r), bytes);
}
