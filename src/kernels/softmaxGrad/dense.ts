/**
 * The dense-embedding path of the softmax gradient (gaussian, orthonormal): an online softmax over
 * the N outputs in chunks, per block of queries (shaders/softmaxGrad/ describes the
 * recurrence). Part of src/kernels/softmaxGrad/softmaxGrad.ts, which validates the arguments first.
 *
 * Direct form (every operand and work buffer bindable whole): H = E_q·Wᵀ for all queries, then per
 * query block × output chunk: logits Sᵀ = Ẽ_chunk·H_blkᵀ (matmul), the chunk update, O_blk += S·Ẽ_chunk
 * (matmul), then finalize and G = Rsdᵀ·E_q. Scratch ≈ max(2·Q·dOut, 2^16) elements per run.
 *
 * Staged form (some buffer would exceed the binding limit — maxStorageBufferBindingSize, or the
 * caller's `maxBindingBytes` cap): the kernels bind whole buffers, so everything larger than a
 * binding is reached through copies into buffers sized to fit one. Runs go in groups (W and G
 * staged per group), queries in blocks whose H, O, state, outputs and target rows are block-local,
 * and the output embeddings in chunks copied into a chunk buffer (minibatch query rows and target
 * rows are gathered chunk by chunk, ē is accumulated chunk by chunk). Results are copied out to the
 * full outputs, o and G. The arithmetic is the same as the direct form's; only the order of G's
 * sum over query blocks (β = 1 accumulation) and of ē's differs.
 */
import type { CommandRecorder } from '../../gpu/commands';
import { BYTES_PER_ELEMENT, type Tensor } from '../../gpu/tensor';
import { columnMean, type TaskEmbeddings } from '../../task/taskGpu';
import { gatherRows } from '../gather/gather';
import { matmul, matmulVariant, type MatmulVariantName } from '../matmul/matmul';
import { matmulShape, type MatmulOperands } from '../../layout/matmulShape';
import { linearWorkgroups } from '../philox/philox';
import {
  ACCUMULATE_COLUMN_MEAN_KERNEL,
  GATHER_ROWS_IN_CHUNK_KERNEL,
  SOFTMAX_CHUNK_UPDATE_KERNEL,
  SOFTMAX_CHUNK_UPDATE_VEC4_KERNEL,
  SOFTMAX_FINALIZE_KERNEL,
} from './kernels';
import { copyRows, type CallBuffers } from './workspace';

/** Minimum scratch elements per run (small problems still get reasonably large matmuls). */
const MIN_SCRATCH = 1 << 16;

type Dense = Extract<TaskEmbeddings, { kind: 'dense' }>;

export type DenseTargets = { kind: 'population'; weights: Tensor } | { kind: 'minibatch'; items: Tensor; labels: Tensor };

export interface DenseJob {
  emb: Dense;
  /** [R, dOut, dIn] views (matmul operands: any offset and run stride). */
  W: Tensor;
  G: Tensor;
  /** [R, Q, 5] contiguous at offset 0. */
  outputs: Tensor;
  targets: DenseTargets;
  Q: number;
  noise: number;
  sampled: boolean;
  chunkSize: number;
  queryBlock?: number;
  bindLimit: number;
  /** Forced variant of the chunk loop's logit and update products, where it takes their shape. */
  matmulVariant?: MatmulVariantName;
}

/** The chunk loop's products: the forced variant where it takes the shape, else the device's choice. */
function chunkProduct(rec: CommandRecorder, job: DenseJob, args: MatmulOperands<Tensor>, label: string): Promise<MatmulVariantName> {
  const forced = job.matmulVariant;
  const takes = forced !== undefined && matmulVariant(forced).supports(matmulShape(args), args);
  return matmul(rec, args, takes ? { label, variant: forced } : { label });
}

export interface DenseRecord {
  o: Tensor<'f32'>;
  chunks: number;
  blocks: number;
  runGroups: number;
  staged: boolean;
}

function defaultQueryBlock(Q: number, dOut: number, C: number): number {
  return Math.max(1, Math.floor(Math.max(2 * Q * dOut, MIN_SCRATCH) / C));
}

/** Records the dense gradient into G and outputs; returns o and how the work was split. */
export async function recordDense(rec: CommandRecorder, job: DenseJob, alloc: CallBuffers): Promise<DenseRecord> {
  const { emb, Q } = job;
  const R = job.W.batch;
  const { N, dIn, dOut } = emb;
  const C = Math.min(job.chunkSize, N);
  const Qb = Math.min(Q, job.queryBlock ?? defaultQueryBlock(Q, dOut, C));
  const f = BYTES_PER_ELEMENT;
  const t = job.targets;
  const whole: number[] = [job.W.buffer.size, job.G.buffer.size, emb.E.buffer.size, emb.Et.buffer.size, job.outputs.buffer.size];
  whole.push(...(t.kind === 'population' ? [t.weights.buffer.size] : [t.items.buffer.size, t.labels.buffer.size]));
  whole.push(R * Q * Math.max(dOut, 8) * f, R * Qb * C * f);
  if (t.kind === 'minibatch') whole.push(R * Q * dIn * f);
  const direct = whole.every((bytes) => bytes <= job.bindLimit) && emb.Et.offset === 0;
  return direct ? recordDirect(rec, job, alloc, C, Qb) : recordStaged(rec, job, alloc);
}

function counted(rec: CommandRecorder, alloc: CallBuffers): CommandRecorder['dispatch'] {
  return async (call) => {
    alloc.dispatches++;
    return rec.dispatch(call);
  };
}

interface ChunkUniforms {
  rows: number;
  blockRows: number;
  queries: number;
  queryBase: number;
  chunkCols: number;
  scratchStride: number;
  scratchBatch: number;
  chunkBase: number;
  dOut: number;
  first: number;
  population: number;
  indexBatchStride: number;
  itemBase: number;
}

async function chunkUpdate(
  rec: CommandRecorder,
  alloc: CallBuffers,
  u: ChunkUniforms,
  b: { scratch: Tensor; o: Tensor; state: Tensor; items: Tensor; labels: Tensor },
): Promise<void> {
  // Blocks of a multiple of 4 queries take the vec4 form (4 queries per invocation).
  const vec4 = u.blockRows % 4 === 0 && u.scratchBatch % 4 === 0;
  const rows = vec4 ? u.rows / 4 : u.rows;
  await counted(
    rec,
    alloc,
  )({
    kernel: vec4 ? SOFTMAX_CHUNK_UPDATE_VEC4_KERNEL : SOFTMAX_CHUNK_UPDATE_KERNEL,
    buffers: vec4
      ? { scratch4: b.scratch.buffer, o_acc4: b.o.buffer, state4: b.state.buffer, items4: b.items.buffer, labels4: b.labels.buffer }
      : { scratch: b.scratch.buffer, o_acc: b.o.buffer, state: b.state.buffer, items: b.items.buffer, labels: b.labels.buffer },
    uniforms: { [vec4 ? 'chunk4' : 'chunk']: { ...u, rows } },
    workgroups: linearWorkgroups(rec.gpu, rows),
  });
}

async function recordDirect(rec: CommandRecorder, job: DenseJob, alloc: CallBuffers, C: number, Qb: number): Promise<DenseRecord> {
  const { emb, Q, targets: t } = job;
  const R = job.W.batch;
  const { N, dIn, dOut, E, Et } = emb;
  const dispatch = counted(rec, alloc);
  const rowsLimit = (perRow: number) => (limit: number) => limit / (BYTES_PER_ELEMENT * perRow);
  const dummyU32 = () => alloc.tensor('unused index', 1, 1, 1, () => Infinity, 'u32');
  const items = t.kind === 'minibatch' ? t.items : dummyU32();
  const labels = t.kind === 'minibatch' ? t.labels : items;
  const indexBatchStride = t.kind === 'minibatch' && t.items.batch > 1 ? t.items.batchStride : 0;
  // Queries' input embeddings: the table itself (population) or the drawn rows (minibatch).
  let Eq: Tensor = E;
  if (t.kind === 'minibatch') {
    Eq = alloc.tensor('minibatch E rows', R, Q, dIn, rowsLimit(R * dIn));
    alloc.dispatches++;
    await gatherRows(rec, { src: E, index: t.items, out: Eq });
  }
  const H = alloc.tensor('queries H = W·e (then residual)', R, Q, dOut, rowsLimit(R * dOut));
  const o = alloc.tensor('o', R, Q, dOut, rowsLimit(R * dOut));
  const state = alloc.tensor('online softmax state', R, Q, 8, rowsLimit(8 * R));
  const ebar = alloc.tensor('mean output embedding', 1, 1, dOut, () => Infinity);
  if (job.noise > 0 && !job.sampled) {
    alloc.dispatches++;
    await columnMean(rec, Et, ebar);
  }
  alloc.dispatches++;
  await matmul(rec, { a: Eq, b: job.W, c: H, transB: true }, { label: 'softmaxGrad:H' });
  const scratch = alloc.tensor('logits scratch (query block × chunk)', R, Qb, C, () => N);
  const runStride = (perRun: number) => (R > 1 ? perRun : 0);
  for (let q0 = 0; q0 < Q; q0 += Qb) {
    const qb = Math.min(Qb, Q - q0);
    const Hblk: Tensor = { ...H, rows: qb, offset: q0 * dOut, batchStride: runStride(Q * dOut) };
    const Oblk: Tensor = { ...o, rows: qb, offset: q0 * dOut, batchStride: runStride(Q * dOut) };
    for (let j0 = 0; j0 < N; j0 += C) {
      const c = Math.min(C, N - j0);
      const EtChunk: Tensor = { ...Et, rows: c, offset: Et.offset + j0 * dOut, batchStride: 0 };
      // Logits transposed (chunk × block): see softmax_chunk_update on why.
      const S: Tensor = { ...scratch, rows: c, cols: qb, offset: 0, batchStride: runStride(Qb * C) };
      alloc.dispatches++;
      await chunkProduct(rec, job, { a: EtChunk, b: Hblk, c: S, transB: true }, 'softmaxGrad:logits');
      await chunkUpdate(
        rec,
        alloc,
        {
          rows: R * qb,
          blockRows: qb,
          queries: Q,
          queryBase: q0,
          chunkCols: c,
          scratchStride: qb,
          scratchBatch: Qb * C,
          chunkBase: j0,
          dOut,
          first: j0 === 0 ? 1 : 0,
          population: t.kind === 'population' ? 1 : 0,
          indexBatchStride,
          itemBase: 0,
        },
        { scratch, o, state, items, labels },
      );
      alloc.dispatches++;
      await chunkProduct(rec, job, { a: S, b: EtChunk, c: Oblk, transA: true, beta: 1 }, 'softmaxGrad:p·Ẽ');
    }
  }
  await dispatch({
    kernel: SOFTMAX_FINALIZE_KERNEL,
    buffers: {
      fin_state: state.buffer,
      fin_o: o.buffer,
      fin_residual: H.buffer,
      fin_et: Et.buffer,
      fin_ebar: ebar.buffer,
      fin_weights: t.kind === 'population' ? t.weights.buffer : alloc.tensor('unused weights', 1, 1, 1, () => Infinity).buffer,
      fin_items: items.buffer,
      fin_labels: labels.buffer,
      fin_out: job.outputs.buffer,
    },
    uniforms: {
      fin: {
        rows: R * Q,
        queries: Q,
        dOut,
        N,
        population: t.kind === 'population' ? 1 : 0,
        sampled: job.sampled ? 1 : 0,
        indexBatchStride,
        useItemWeights: t.kind === 'population' ? 1 : 0,
        noise: job.noise,
        constWeight: 1 / Q,
        stagedTargets: 0,
        targetRunStride: 0,
      },
    },
    workgroups: linearWorkgroups(rec.gpu, R * Q),
  });
  // G = Rsdᵀ · E_q (the residual now lives in H's buffer).
  alloc.dispatches++;
  await matmul(rec, { a: H, b: Eq, c: job.G, transA: true }, { label: 'softmaxGrad:G' });
  return { o, chunks: Math.ceil(N / C), blocks: Math.ceil(Q / Qb), runGroups: 1, staged: false };
}

/** Sizes of the staged form: chunk C, runs per group Rg, queries per block Qb (all fit one binding). */
function stagedSizes(job: DenseJob): { C: number; Rg: number; Qb: number } {
  const { emb, Q } = job;
  const R = job.W.batch;
  const { N, dIn, dOut } = emb;
  const L = job.bindLimit;
  const f = BYTES_PER_ELEMENT;
  const widest = Math.max(dIn, dOut);
  const C = Math.min(job.chunkSize, N, Math.floor(L / (f * widest)));
  if (C < 1) {
    throw new RangeError(
      `softmaxGrad: one embedding row (${widest} floats) is above the binding limit ${L} bytes; the largest d that fits is ${Math.floor(L / f)}`,
    );
  }
  let Rg = Math.min(R, Math.floor(L / (f * dOut * dIn)));
  if (Rg < 1) {
    throw new RangeError(
      `softmaxGrad: one run's W (${dOut}×${dIn}, ${dOut * dIn * f} bytes) is above the binding limit ${L} bytes (maxStorageBufferBindingSize or maxBindingBytes)`,
    );
  }
  const perQuery = f * Math.max(dIn, dOut, C, 8);
  const want = Math.min(Q, job.queryBlock ?? defaultQueryBlock(Q, dOut, C));
  let Qb = Math.min(want, Math.floor(L / (perQuery * Rg)));
  if (Qb < 1) {
    Rg = 1;
    Qb = Math.min(want, Math.floor(L / perQuery));
  }
  if (Qb < 1) throw new RangeError(`softmaxGrad: one query's work rows (${perQuery} bytes) are above the binding limit ${L} bytes`);
  return { C, Rg, Qb };
}

async function recordStaged(rec: CommandRecorder, job: DenseJob, alloc: CallBuffers): Promise<DenseRecord> {
  const { emb, Q, targets: t } = job;
  const R = job.W.batch;
  const { N, dIn, dOut, E, Et } = emb;
  const { C, Rg, Qb } = stagedSizes(job);
  const dispatch = counted(rec, alloc);
  const enc = rec.encoder;
  const population = t.kind === 'population';
  const perRunIndex = t.kind === 'minibatch' && t.items.batch > 1 && t.items.batchStride !== 0;
  const never = () => Infinity;
  // The full results (bounded by maxBufferSize only; filled by copies).
  const o = alloc.tensor('o', R, Q, dOut, (limit) => limit / (BYTES_PER_ELEMENT * R * dOut));
  // Run-group and block buffers, compact per block: run r of a block of qb queries at r·qb rows.
  const Wst = alloc.tensor('W (staged runs)', Rg, dOut, dIn, never);
  const Gst = alloc.tensor('G (staged runs)', Rg, dOut, dIn, never);
  const EqB = alloc.tensor('E rows (staged block)', population ? 1 : Rg, Qb, dIn, never);
  const TB = alloc.tensor('target rows (staged block)', population ? 1 : Rg, Qb, dOut, never);
  const HB = alloc.tensor('queries H = W·e (then residual), block', Rg, Qb, dOut, never);
  const OB = alloc.tensor('o (staged block)', Rg, Qb, dOut, never);
  const stateB = alloc.tensor('online softmax state, block', Rg, Qb, 8, never);
  const outB = alloc.tensor('outputs (staged block)', Rg, Qb, 5, never);
  const scratch = alloc.tensor('logits scratch (query block × chunk)', Rg, Qb, C, never);
  const chunkEt = alloc.tensor('Ẽ chunk (staged)', 1, C, dOut, never);
  const chunkE = population ? undefined : alloc.tensor('E chunk (staged)', 1, C, dIn, never);
  const ebar = alloc.tensor('mean output embedding', 1, 1, dOut, never);
  const wB = population ? alloc.tensor('weights (staged block)', 1, Qb, 1, never) : alloc.tensor('unused weights', 1, 1, 1, never);
  const idxRuns = perRunIndex ? Rg : 1;
  const itemsB = population
    ? alloc.tensor('unused index', 1, 1, 1, never, 'u32')
    : alloc.tensor('items (staged block)', idxRuns, Qb, 1, never, 'u32');
  const labelsB = population ? itemsB : alloc.tensor('labels (staged block)', idxRuns, Qb, 1, never, 'u32');
  const chunks = Math.ceil(N / C);

  if (job.noise > 0 && !job.sampled) {
    // ē = (1/N) Σ_j ẽ_j, one chunk at a time.
    for (let j0 = 0; j0 < N; j0 += C) {
      const c = Math.min(C, N - j0);
      copyRows(enc, { t: Et, run: 0, row: j0 }, { t: chunkEt, run: 0, row: 0 }, 1, c);
      await dispatch({
        kernel: ACCUMULATE_COLUMN_MEAN_KERNEL,
        buffers: { colmean_src: chunkEt.buffer, colmean_out: ebar.buffer },
        uniforms: { colchunk: { rows: c, cols: dOut, first: j0 === 0 ? 1 : 0, scale: 1 / N } },
        workgroups: linearWorkgroups(rec.gpu, dOut),
      });
    }
  }
  const gatherInChunk = async (src: Tensor, index: Tensor, out: Tensor, rg: number, qb: number, j0: number, c: number) => {
    await dispatch({
      kernel: GATHER_ROWS_IN_CHUNK_KERNEL,
      buffers: { gather_src: src.buffer, gather_index: index.buffer, gather_out: out.buffer },
      uniforms: {
        gchunk: { rows: rg * qb, blockRows: qb, cols: src.cols, chunkBase: j0, chunkRows: c, indexRunStride: perRunIndex ? qb : 0 },
      },
      workgroups: linearWorkgroups(rec.gpu, rg * qb),
    });
  };

  for (let r0 = 0; r0 < R; r0 += Rg) {
    const rg = Math.min(Rg, R - r0);
    // A compact [runs, rows, cols] view of a staged buffer.
    const view = (x: Tensor, runs: number, rows: number, cols = x.cols): Tensor => ({
      ...x,
      batch: runs,
      rows,
      cols,
      batchStride: runs > 1 ? rows * cols : 0,
    });
    const Wg = view(Wst, rg, dOut);
    const Gg = view(Gst, rg, dOut);
    copyRows(enc, { t: job.W, run: r0, row: 0 }, { t: Wg, run: 0, row: 0 }, rg, dOut);
    for (let q0 = 0; q0 < Q; q0 += Qb) {
      const qb = Math.min(Qb, Q - q0);
      const qRuns = population ? 1 : rg;
      const Eq = view(EqB, qRuns, qb);
      const T = view(TB, qRuns, qb);
      const H = view(HB, rg, qb);
      const O = view(OB, rg, qb);
      const out = view(outB, rg, qb);
      const items = population ? itemsB : view(itemsB, perRunIndex ? rg : 1, qb);
      const labels = population ? labelsB : view(labelsB, perRunIndex ? rg : 1, qb);
      if (t.kind === 'population') {
        copyRows(enc, { t: E, run: 0, row: q0 }, { t: Eq, run: 0, row: 0 }, 1, qb);
        copyRows(enc, { t: Et, run: 0, row: q0 }, { t: T, run: 0, row: 0 }, 1, qb);
        const weightRows: Tensor = { ...t.weights, rows: N, cols: 1 };
        copyRows(enc, { t: weightRows, run: 0, row: q0 }, { t: view(wB, 1, qb), run: 0, row: 0 }, 1, qb);
      } else {
        const idxRunsNow = perRunIndex ? rg : 1;
        copyRows(enc, { t: t.items, run: perRunIndex ? r0 : 0, row: q0 }, { t: items, run: 0, row: 0 }, idxRunsNow, qb);
        copyRows(enc, { t: t.labels, run: perRunIndex ? r0 : 0, row: q0 }, { t: labels, run: 0, row: 0 }, idxRunsNow, qb);
        for (let j0 = 0; j0 < N; j0 += C) {
          const c = Math.min(C, N - j0);
          copyRows(enc, { t: E, run: 0, row: j0 }, { t: chunkE!, run: 0, row: 0 }, 1, c);
          await gatherInChunk(chunkE!, items, Eq, rg, qb, j0, c);
        }
      }
      alloc.dispatches++;
      await matmul(rec, { a: Eq, b: Wg, c: H, transB: true }, { label: 'softmaxGrad:H' });
      for (let j0 = 0; j0 < N; j0 += C) {
        const c = Math.min(C, N - j0);
        copyRows(enc, { t: Et, run: 0, row: j0 }, { t: chunkEt, run: 0, row: 0 }, 1, c);
        const EtChunk = view(chunkEt, 1, c);
        const S: Tensor = view(scratch, rg, c, qb);
        const Sstride: Tensor = { ...S, batchStride: rg > 1 ? qb * C : 0 };
        alloc.dispatches++;
        await chunkProduct(rec, job, { a: EtChunk, b: H, c: Sstride, transB: true }, 'softmaxGrad:logits');
        await chunkUpdate(
          rec,
          alloc,
          {
            rows: rg * qb,
            blockRows: qb,
            queries: qb,
            queryBase: 0,
            chunkCols: c,
            scratchStride: qb,
            scratchBatch: qb * C,
            chunkBase: j0,
            dOut,
            first: j0 === 0 ? 1 : 0,
            population: population ? 1 : 0,
            indexBatchStride: perRunIndex ? qb : 0,
            itemBase: population ? q0 : 0,
          },
          { scratch, o: OB, state: stateB, items, labels },
        );
        alloc.dispatches++;
        await chunkProduct(rec, job, { a: Sstride, b: EtChunk, c: O, transA: true, beta: 1 }, 'softmaxGrad:p·Ẽ');
        if (!population) await gatherInChunk(chunkEt, job.sampled ? labels : items, T, rg, qb, j0, c);
      }
      await dispatch({
        kernel: SOFTMAX_FINALIZE_KERNEL,
        buffers: {
          fin_state: stateB.buffer,
          fin_o: OB.buffer,
          fin_residual: HB.buffer,
          fin_et: TB.buffer,
          fin_ebar: ebar.buffer,
          fin_weights: wB.buffer,
          fin_items: itemsB.buffer,
          fin_labels: labelsB.buffer,
          fin_out: outB.buffer,
        },
        uniforms: {
          fin: {
            rows: rg * qb,
            queries: qb,
            dOut,
            N,
            population: population ? 1 : 0,
            sampled: job.sampled ? 1 : 0,
            indexBatchStride: perRunIndex ? qb : 0,
            useItemWeights: population ? 1 : 0,
            noise: job.noise,
            constWeight: 1 / Q,
            stagedTargets: 1,
            targetRunStride: population ? 0 : qb,
          },
        },
        workgroups: linearWorkgroups(rec.gpu, rg * qb),
      });
      alloc.dispatches++;
      await matmul(rec, { a: H, b: Eq, c: Gg, transA: true, beta: q0 > 0 ? 1 : 0 }, { label: 'softmaxGrad:G' });
      copyRows(enc, { t: out, run: 0, row: 0 }, { t: job.outputs, run: r0, row: q0 }, rg, qb);
      copyRows(enc, { t: O, run: 0, row: 0 }, { t: o, run: r0, row: q0 }, rg, qb);
    }
    copyRows(enc, { t: Gg, run: 0, row: 0 }, { t: job.G, run: r0, row: 0 }, rg, dOut);
  }
  return { o, chunks, blocks: Math.ceil(Q / Qb), runGroups: Math.ceil(R / Rg), staged: true };
}
