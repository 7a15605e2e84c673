/**
 * The structural paths of the softmax gradient (docs/math.md §1): identity embeddings (the logits are W's
 * entries, z_ij = W_ji, so one step is O(N²) per run) and coupled-rotation embeddings (3×3 block
 * rotations around the same kernel: M = ẼᵀWE → identity path → G = Ẽ Γ Eᵀ). Part of
 * src/kernels/softmaxGrad/softmaxGrad.ts, which validates the arguments first.
 *
 * o_i = Σ_j p̂(j|i) ẽ_j is written only on request (`computeO`): here it is an [R, N, N] buffer as
 * large as W (for identity it is the softmax itself, o_i = p̂(·|i); for coupled-rotation
 * o = p̂ᵀ·Ẽᵀ, one more block rotation).
 *
 * When a whole-buffer binding would exceed the binding limit, runs are processed in groups staged
 * through run-group buffers by copies; one run's N×N matrix beyond the limit is an error.
 */
import type { CommandRecorder } from '../../gpu/commands';
import { BYTES_PER_ELEMENT, type Tensor } from '../../gpu/tensor';
import type { TaskEmbeddings } from '../../task/taskGpu';
import { linearWorkgroups } from '../philox/philox';
import { BLOCK3_TRANSFORM_KERNEL, IDENTITY_SOFTMAX_GRAD_KERNEL } from './kernels';
import { copyRows, type CallBuffers } from './workspace';

type Structural = Extract<TaskEmbeddings, { kind: 'identity' | 'coupled-rotation' }>;

export interface StructuralJob {
  emb: Structural;
  /** [R, N, N] views (any offset and run stride). */
  W: Tensor<'f32'>;
  G: Tensor<'f32'>;
  /** [R, Q, 5] contiguous at offset 0. */
  outputs: Tensor;
  /** Population weights [N] or minibatch draws [R or 1, B, 1] (offset 0). */
  weights?: Tensor;
  items?: Tensor;
  labels?: Tensor;
  Q: number;
  noise: number;
  sampled: boolean;
  computeO: boolean;
  /** Binding limit in bytes (device limit or the caller's cap). */
  bindLimit: number;
  /** Runs the work buffers are sized for (staged groups: the full group size, so the last, smaller group reuses them). */
  runCapacity?: number;
}

const IDENTITY3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];

function blockUniform(N: number, runs: number, L: readonly number[], Qm: readonly number[], src: Tensor, dst: Tensor) {
  const u: Record<string, number> = {
    n: N,
    runs,
    srcOffset: src.offset,
    srcStride: src.batchStride,
    dstOffset: dst.offset,
    dstStride: dst.batchStride,
  };
  for (let a = 0; a < 3; a++) {
    for (let b = 0; b < 3; b++) {
      u[`l${a}${b}`] = L[3 * a + b];
      u[`q${a}${b}`] = Qm[3 * a + b];
    }
  }
  return u;
}

export interface Block3Args {
  /** [R, N, N] (any offset and run stride), N divisible by 3. */
  src: Tensor;
  /** [R, N, N], same R and N; not src's buffer. */
  dst: Tensor;
  /** The 3×3 blocks, row-major: dst = (I ⊗ left) · src · (I ⊗ right)ᵀ. */
  left: readonly number[];
  right: readonly number[];
  label?: string;
}

/**
 * Records dst = (I ⊗ L)·src·(I ⊗ Q)ᵀ for every run (shaders/softmaxGrad/block3_transform.wgsl: one
 * invocation per 3×3 block) — the rotations of the coupled-rotation path, exported for its benchmark.
 *
 * @example
 * // logits in embedding coordinates: M = Ẽᵀ·W·E, with blockOut/blockIn the task's 3×3 rotations
 * await block3Transform(rec, { src: W, dst: M, left: transpose3(blockOut), right: transpose3(blockIn) });
 */
export async function block3Transform(rec: CommandRecorder, args: Block3Args): Promise<void> {
  const { src, dst } = args;
  const N = src.rows;
  if (src.cols !== N || N % 3 !== 0)
    throw new RangeError(`block3Transform: src is ${src.rows}×${src.cols}; it must be square with a side divisible by 3`);
  if (dst.rows !== N || dst.cols !== N || dst.batch !== src.batch) {
    throw new RangeError(`block3Transform: dst is ${dst.batch}×${dst.rows}×${dst.cols}, src ${src.batch}×${N}×${N}; they must match`);
  }
  if (args.left.length !== 9 || args.right.length !== 9)
    throw new RangeError(
      `block3Transform: left and right must hold 9 values (3×3 row-major), got ${args.left.length} and ${args.right.length}`,
    );
  const R = src.batch;
  await rec.dispatch({
    kernel: BLOCK3_TRANSFORM_KERNEL,
    label: args.label ?? 'block3_transform',
    buffers: { block_src: src.buffer, block_dst: dst.buffer },
    uniforms: { blocks: blockUniform(N, R, args.left, args.right, src, dst) },
    // x: block columns (16 per workgroup), y: block rows (4), z: runs (shaders/softmaxGrad/block3_transform.wgsl).
    workgroups: [Math.ceil(N / 3 / 16), Math.ceil(N / 3 / 4), R],
  });
}

/**
 * The 3×3 transpose of a row-major block.
 *
 * @example
 * transpose3([1, 2, 3, 4, 5, 6, 7, 8, 9]); // [1, 4, 7, 2, 5, 8, 3, 6, 9]
 */
export const transpose3 = (m: readonly number[]): number[] => [m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]];

export interface StructuralRecord {
  /** [R, N, N] query-major o when `computeO`. */
  o?: Tensor<'f32'>;
  runGroups: number;
  staged: boolean;
}

/** Records the structural gradient into G and outputs (and o when `computeO`). */
export async function recordStructural(rec: CommandRecorder, job: StructuralJob, alloc: CallBuffers): Promise<StructuralRecord> {
  const { W, emb } = job;
  const R = W.batch;
  const N = emb.N;
  const square = (limit: number) => Math.sqrt(limit / (BYTES_PER_ELEMENT * R));
  const nn = N * N * BYTES_PER_ELEMENT;
  const bound: [string, number][] = [
    ['W', W.buffer.size],
    ['G', job.G.buffer.size],
    ['outputs', job.outputs.buffer.size],
    ['N×N work buffers', R * nn],
  ];
  for (const [name, t] of [
    ['targets.weights', job.weights],
    ['targets.items', job.items],
    ['targets.labels', job.labels],
  ] as const) {
    if (t) bound.push([name, t.buffer.size]);
  }
  if (bound.every(([, bytes]) => bytes <= job.bindLimit))
    return { o: await recordStructuralRuns(rec, job, alloc), runGroups: 1, staged: false };

  // Staged: groups of runs whose N×N matrices, outputs and draws fit one binding.
  const perRun = Math.max(nn, job.Q * 5 * BYTES_PER_ELEMENT, job.items ? job.Q * BYTES_PER_ELEMENT : 0);
  const Rg = Math.min(R, Math.floor(job.bindLimit / perRun));
  if (Rg < 1) {
    throw new RangeError(
      `softmaxGrad: ${emb.kind} embeddings: one run's ${N}×${N} matrix (${nn} bytes) is above the binding limit ${job.bindLimit} ` +
        `(maxStorageBufferBindingSize or the maxBindingBytes cap; the structural path splits runs, not one run's matrix); ` +
        `the largest N that fits is ${Math.floor(Math.sqrt(job.bindLimit / BYTES_PER_ELEMENT))}`,
    );
  }
  for (const [name, t] of [
    ['targets.weights', job.weights],
    ['targets.items', job.items],
    ['targets.labels', job.labels],
  ] as const) {
    if (t && t.batchStride === 0 && t.buffer.size > job.bindLimit) {
      throw new RangeError(`softmaxGrad: ${name} ("${t.label}", ${t.buffer.size} bytes) is above the binding limit ${job.bindLimit}`);
    }
  }
  const Q = job.Q;
  const Wst = alloc.tensor('W (staged runs)', Rg, N, N, square);
  const Gst = alloc.tensor('G (staged runs)', Rg, N, N, square);
  const outSt = alloc.tensor('outputs (staged runs)', Rg, Q, 5, (l) => l / (5 * BYTES_PER_ELEMENT * R));
  const perRunIndex = job.items !== undefined && job.items.batchStride !== 0;
  const itemsSt = perRunIndex ? alloc.tensor('items (staged runs)', Rg, Q, 1, () => Infinity, 'u32') : job.items;
  const labelsSt = perRunIndex ? alloc.tensor('labels (staged runs)', Rg, Q, 1, () => Infinity, 'u32') : job.labels;
  const o = job.computeO ? alloc.tensor('o', R, N, N, square) : undefined;
  for (let r0 = 0; r0 < R; r0 += Rg) {
    const rg = Math.min(Rg, R - r0);
    const view = <T extends Tensor>(t: T): T => ({ ...t, batch: rg, batchStride: rg > 1 ? t.rows * t.cols : 0 });
    copyRows(rec.encoder, { t: W, run: r0, row: 0 }, { t: Wst, run: 0, row: 0 }, rg, N);
    if (perRunIndex) {
      copyRows(rec.encoder, { t: job.items!, run: r0, row: 0 }, { t: itemsSt!, run: 0, row: 0 }, rg, Q);
      copyRows(rec.encoder, { t: job.labels!, run: r0, row: 0 }, { t: labelsSt!, run: 0, row: 0 }, rg, Q);
    }
    const oGroup = await recordStructuralRuns(
      rec,
      {
        ...job,
        runCapacity: Rg,
        W: view(Wst),
        G: view(Gst),
        outputs: view(outSt),
        items: itemsSt && perRunIndex ? view(itemsSt) : itemsSt,
        labels: labelsSt && perRunIndex ? view(labelsSt) : labelsSt,
      },
      alloc,
      'o (staged runs)',
    );
    copyRows(rec.encoder, { t: view(Gst), run: 0, row: 0 }, { t: job.G, run: r0, row: 0 }, rg, N);
    copyRows(rec.encoder, { t: view(outSt), run: 0, row: 0 }, { t: job.outputs, run: r0, row: 0 }, rg, Q);
    if (o && oGroup) copyRows(rec.encoder, { t: oGroup, run: 0, row: 0 }, { t: o, run: r0, row: 0 }, rg, N);
  }
  return { o, runGroups: Math.ceil(R / Rg), staged: true };
}

/** The structural kernels for runs whose buffers are all bindable whole. */
async function recordStructuralRuns(
  rec: CommandRecorder,
  job: StructuralJob,
  alloc: CallBuffers,
  oLabel = 'o',
): Promise<Tensor<'f32'> | undefined> {
  const { emb } = job;
  const R = job.W.batch;
  const N = emb.N;
  const square = (limit: number) => Math.sqrt(limit / (BYTES_PER_ELEMENT * R));
  // A work buffer for runCapacity runs, seen as R runs.
  const work = (label: string): Tensor<'f32'> => {
    const t = alloc.tensor(label, job.runCapacity ?? R, N, N, square);
    return { ...t, batch: R, batchStride: R > 1 ? N * N : 0 };
  };
  const dispatch: CommandRecorder['dispatch'] = async (call) => {
    alloc.dispatches++;
    return rec.dispatch(call);
  };
  let logits = job.W;
  let grad = job.G;
  const coupled = emb.kind === 'coupled-rotation';
  if (coupled) {
    // M = Ẽᵀ W E: logits in embedding coordinates (z_ij = M_ji).
    logits = work('rotated logits');
    grad = work('gradient in embedding coordinates');
    alloc.dispatches++;
    await block3Transform(rec, {
      src: job.W,
      dst: logits,
      left: transpose3(emb.blockOut),
      right: transpose3(emb.blockIn),
      label: 'block3_transform:logits',
    });
  }
  // p̂ columns as rows (query-major): o itself for identity, rotated once more for coupled-rotation.
  const softmaxRows = job.computeO ? work(coupled ? 'softmax rows (o before rotation)' : oLabel) : undefined;
  const dummyU32 = () => alloc.tensor('unused index', 1, 1, 1, () => Infinity, 'u32');
  const items = job.items ?? dummyU32();
  const labels = job.labels ?? items;
  const population = job.weights !== undefined;
  await dispatch({
    kernel: IDENTITY_SOFTMAX_GRAD_KERNEL,
    buffers: {
      id_logits: logits.buffer,
      id_weights: job.weights?.buffer ?? alloc.tensor('unused weights', 1, 1, 1, () => Infinity).buffer,
      id_items: items.buffer,
      id_labels: labels.buffer,
      id_grad: grad.buffer,
      id_out: job.outputs.buffer,
      id_o: softmaxRows?.buffer ?? alloc.tensor('unused o', 1, 1, 1, () => Infinity).buffer,
    },
    uniforms: {
      ident: {
        N,
        runs: R,
        mode: population ? 0 : job.sampled ? 2 : 1,
        batchSize: job.Q,
        indexBatchStride: population ? 0 : items.batchStride,
        noise: job.noise,
        logitsOffset: logits.offset,
        logitsStride: logits.batchStride,
        gradOffset: grad.offset,
        gradStride: grad.batchStride,
        writeO: softmaxRows ? 1 : 0,
      },
    },
    workgroups: linearWorkgroups(rec.gpu, R * N),
  });
  if (!coupled) return softmaxRows;
  // G = Ẽ Γ Eᵀ.
  alloc.dispatches++;
  await block3Transform(rec, { src: grad, dst: job.G, left: emb.blockOut, right: emb.blockIn, label: 'block3_transform:gradient' });
  if (!softmaxRows) return undefined;
  // o_i = Σ_j p̂(j|i) ẽ_j: O = P̂ᵀ (I ⊗ B_out)ᵀ, into the (now free) rotated-logits buffer.
  alloc.dispatches++;
  await block3Transform(rec, { src: softmaxRows, dst: logits, left: IDENTITY3, right: emb.blockOut, label: 'block3_transform:o' });
  return logits;
}
