/**
 * Row gather on the GPU (shaders/gather/gather.wgsl): `out[b, r, :] = src[b, index[b, r, 0], :]` — how a
 * minibatch picks its items' embedding rows out of an item-major table without a CPU copy
 * (docs/architecture.md §3.3, item-major embeddings). CPU twin and shape rules: src/cpu/gather.ts.
 *
 * The typical call shares one table across every run (`src` with batch 1) and gives each run its
 * own draws (`index` with the runs' batch). An index outside `[0, src.rows)` writes a NaN row.
 */
import type { CommandRecorder } from '../../gpu/commands';
import { defineKernel, kernelInfo } from '../../gpu/registry';
import { BYTES_PER_ELEMENT, requiredElements, type Tensor } from '../../gpu/tensor';
import { gatherShape, type GatherOperands, type GatherShape } from '../../cpu/gather';

export const GATHER_KERNEL = defineKernel({ shader: 'gather/gather.wgsl', entryPoint: 'gather_rows' });

export interface GatherOptions {
  /** Name in the profile; default "gather". */
  label?: string;
}

/**
 * Records `out[b, r, :] = src[b, index[b, r, 0], :]` into `rec`. Shapes and buffer sizes are checked
 * before anything is recorded; errors name the operand.
 *
 * @example
 * // 16 runs draw 1024 items each from one shared 100000×128 embedding table:
 * const table = uploadTensor(gpu, { rows: 100_000, cols: 128, label: 'E' }, embeddings);
 * const draws = uploadTensor(gpu, { batch: 16, rows: 1024, cols: 1, dtype: 'u32', label: 'draws' }, items);
 * const rows = createTensor(gpu, { batch: 16, rows: 1024, cols: 128, label: 'E_batch' });
 * await runCommands(gpu, (rec) => gatherRows(rec, { src: table, index: draws, out: rows }));
 */
export async function gatherRows(rec: CommandRecorder, args: GatherOperands<Tensor>, options: GatherOptions = {}): Promise<void> {
  const shape = gatherShape(args);
  for (const [name, t] of [
    ['src', args.src],
    ['index', args.index],
    ['out', args.out],
  ] as const) {
    const need = requiredElements(t) * BYTES_PER_ELEMENT;
    if (need > t.buffer.size) {
      throw new RangeError(`gather operand ${name}: layout needs ${need} bytes but buffer "${t.label}" has ${t.buffer.size}`);
    }
  }
  // One invocation per output element: x over columns (the workgroup's width, read from the shader
  // so a change there cannot silently leave columns unwritten), y over rows, z over runs.
  const width = kernelInfo(GATHER_KERNEL).workgroupSize?.[0] ?? 64;
  const columnGroups = Math.ceil(shape.cols / width);
  // Rows go on the y axis, which WebGPU caps at maxComputeWorkgroupsPerDimension (65535 by default),
  // and minibatches can be larger ([C]'s critical batch sizes): split the rows into chunks and move
  // the index/out offsets instead, so the shader needs no second row coordinate.
  const maxRows = rec.gpu.limits.maxComputeWorkgroupsPerDimension ?? 65535;
  for (let first = 0; first < shape.rows; first += maxRows) {
    const rows = Math.min(maxRows, shape.rows - first);
    await rec.dispatch({
      kernel: GATHER_KERNEL,
      label: options.label ?? 'gather',
      buffers: { src: args.src.buffer, index: args.index.buffer, out: args.out.buffer },
      uniforms: { params: gatherParams(shape, args, first, rows) },
      workgroups: [columnGroups, rows, shape.batch],
    });
  }
}

/** The shader's uniform struct for rows `[first, first + rows)` of the call. */
function gatherParams(shape: GatherShape, args: GatherOperands<Tensor>, first: number, rows: number): Record<string, number> {
  return {
    rows,
    cols: shape.cols,
    srcRows: shape.srcRows,
    batch: shape.batch,
    offsetSrc: args.src.offset,
    batchStrideSrc: shape.batchStrideSrc,
    offsetIndex: args.index.offset + first,
    batchStrideIndex: shape.batchStrideIndex,
    offsetOut: args.out.offset + first * shape.cols,
    batchStrideOut: shape.batchStrideOut,
  };
}

/** Bytes a call moves (rows read from src, indices read, rows written): what GB/s divides by. */
export function gatherBytes(shape: Pick<GatherShape, 'batch' | 'rows' | 'cols'>): number {
  return shape.batch * shape.rows * (2 * shape.cols + 1) * BYTES_PER_ELEMENT;
}
