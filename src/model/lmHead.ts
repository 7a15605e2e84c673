/**
 * The LM head's loss and gradients through the fused softmax cross-entropy of the associative-memory
 * task (src/kernels/softmaxGrad/, shaders/softmaxGrad/): the vocabulary plays the N outputs, the
 * head's rows W_head[j] the output embeddings ẽ_j, the final hidden states h_n the queries' W·e_q.
 * Per vocabulary chunk of C rows (the only logits buffer: [R, C, tokens]):
 *
 *   pass 1   Sᵀ = W_chunk·hᵀ (matmul) → softmax_chunk_update (online max/sums; S ← e^{S−m}) →
 *            O += Sᵀᵀ·W_chunk (matmul, β = 1); then softmax_finalize: lse, loss, z_y, p_y, strict
 *            correct flag, and dL/dh = w·(O/s − W[y]) written to `dh`
 *   pass 2   Sᵀ = W_chunk·hᵀ again → lm_head_grad_probs (G = w·(e^{S−lse} − onehot)) →
 *            dW_chunk = G·h (matmul): the head's gradient, chunk by chunk
 *
 * How the associative-memory kernels are reused: targets are the `items` (so the true-class logit is
 * the next token's); finalize runs with per-query target rows (stagedTargets: W_head[y_n] gathered
 * per replica by gather_rows, since each replica has its own head) and per-position loss weights
 * (fin_items = position ids, so fin_weights[fin_items[n]] is position n's weight, mask/Σmask).
 * CPU twin: lmHeadCpu in src/cpu/transformer.ts.
 */
import type { CommandRecorder } from '../gpu/commands';
import type { Gpu } from '../gpu/device';
import { createTensor, type Tensor } from '../gpu/tensor';
import { gatherRows } from '../kernels/gather/gather';
import { matmul } from '../kernels/matmul/matmul';
import { linearWorkgroups } from '../kernels/philox/philox';
import { SOFTMAX_CHUNK_UPDATE_KERNEL, SOFTMAX_CHUNK_UPDATE_VEC4_KERNEL, SOFTMAX_FINALIZE_KERNEL } from '../kernels/softmaxGrad/kernels';
import { lmHeadGradProbs, requireContiguous } from '../kernels/transformer/ops';

/** Vocabulary rows per chunk by default (the associative-memory kernel's default chunk). */
export const LM_HEAD_CHUNK = 128;

export interface LmHeadShape {
  replicas: number;
  tokens: number;
  dModel: number;
  vocab: number;
  chunk?: number;
}

/** Work buffers of the head for one shape, created once and reused every step. */
export class LmHeadWorkspace {
  readonly chunk: number;
  readonly outputs: Tensor;
  readonly state: Tensor;
  readonly o: Tensor;
  readonly targetRows: Tensor;
  readonly scratch: Tensor;
  readonly positionIds: Tensor;
  readonly unused: Tensor;

  constructor(
    readonly gpu: Gpu,
    readonly shape: LmHeadShape,
  ) {
    const { replicas: R, tokens: N, dModel: d, vocab: V } = shape;
    this.chunk = Math.min(shape.chunk ?? LM_HEAD_CHUNK, V);
    const t = (label: string, rows: number, cols: number, dtype: 'f32' | 'u32' = 'f32') =>
      createTensor(gpu, { batch: R, rows, cols, dtype, label: `lm head ${label}` });
    this.outputs = t('outputs (lse, loss, zTrue, pTrue, correct)', N, 5);
    this.state = t('online softmax state', N, 8);
    this.o = t('o = Σ p·W', N, d);
    this.targetRows = t('W[target] rows', N, d);
    this.scratch = t('logits chunk [C, tokens]', this.chunk, N);
    this.positionIds = t('position ids', N, 1, 'u32');
    gpu.device.queue.writeBuffer(
      this.positionIds.buffer,
      0,
      Uint32Array.from({ length: R * N }, (_, i) => i),
    );
    this.unused = createTensor(gpu, { rows: 1, cols: d, label: 'lm head ē (unused: no noise)' });
  }

  /** Bytes of the work buffers. */
  get bytes(): number {
    return [this.outputs, this.state, this.o, this.targetRows, this.scratch, this.positionIds, this.unused].reduce(
      (n, t) => n + t.buffer.size,
      0,
    );
  }

  destroy(): void {
    for (const t of [this.outputs, this.state, this.o, this.targetRows, this.scratch, this.positionIds, this.unused]) t.buffer.destroy();
  }
}

export interface LmHeadOperands {
  /** Final hidden states [R, tokens, d] (contiguous). */
  h: Tensor;
  /** W_head views [R, V, d] (a slot view: offset + replica stride). */
  W: Tensor;
  /** Next tokens [R, tokens, 1] u32 and loss weights [R, tokens, 1] (mask / Σ mask). */
  targets: Tensor;
  weights: Tensor;
  /** dL/dh [R, tokens, d]. */
  dh: Tensor;
  /** dL/dW_head [R, V, d] view, or omitted for the loss alone (no pass 2). */
  dW?: Tensor;
}

/**
 * Records the head's loss (into `ws.outputs`) and gradients.
 *
 * @example
 * await lmHead(rec, ws, { h: hidden, W: params.view('head'), targets, weights, dh, dW: grads.view('head') });
 */
export async function lmHead(rec: CommandRecorder, ws: LmHeadWorkspace, a: LmHeadOperands): Promise<void> {
  const { replicas: R, tokens: N, dModel: d, vocab: V } = ws.shape;
  const C = ws.chunk;
  requireContiguous(a.h, 'lm head operand h', R, N, d);
  requireContiguous(a.dh, 'lm head operand dh', R, N, d);
  requireContiguous(a.targets, 'lm head operand targets', R, N, 1, 'u32');
  requireContiguous(a.weights, 'lm head operand weights', R, N, 1);
  for (const [name, t] of [
    ['W', a.W],
    ['dW', a.dW],
  ] as const) {
    if (t && (t.batch !== R || t.rows !== V || t.cols !== d))
      throw new RangeError(`lm head operand ${name} is ${t.batch}×${t.rows}×${t.cols}, expected ${R}×${V}×${d}`);
  }
  await gatherRows(rec, { src: a.W, index: a.targets, out: ws.targetRows }, { label: 'lmHead:W[target]' });
  const scratchBatch = N * C;
  const logits = async (j0: number, c: number): Promise<{ S: Tensor; Wc: Tensor }> => {
    const Wc: Tensor = { ...a.W, rows: c, offset: a.W.offset + j0 * d };
    const S: Tensor = { ...ws.scratch, rows: c, cols: N, batchStride: R > 1 ? scratchBatch : 0 };
    await matmul(rec, { a: Wc, b: a.h, c: S, transB: true }, { label: 'lmHead:logits' });
    return { S, Wc };
  };
  for (let j0 = 0; j0 < V; j0 += C) {
    const c = Math.min(C, V - j0);
    const { S, Wc } = await logits(j0, c);
    const vec4 = N % 4 === 0 && scratchBatch % 4 === 0;
    const rows = vec4 ? (R * N) / 4 : R * N;
    const uniforms = {
      rows,
      blockRows: N,
      queries: N,
      queryBase: 0,
      chunkCols: c,
      scratchStride: N,
      scratchBatch,
      chunkBase: j0,
      dOut: d,
      first: j0 === 0 ? 1 : 0,
      population: 0,
      indexBatchStride: N,
      itemBase: 0,
    };
    await rec.dispatch({
      kernel: vec4 ? SOFTMAX_CHUNK_UPDATE_VEC4_KERNEL : SOFTMAX_CHUNK_UPDATE_KERNEL,
      label: 'lmHead:chunk_update',
      buffers: vec4
        ? { scratch4: ws.scratch.buffer, o_acc4: ws.o.buffer, state4: ws.state.buffer, items4: a.targets.buffer, labels4: a.targets.buffer }
        : { scratch: ws.scratch.buffer, o_acc: ws.o.buffer, state: ws.state.buffer, items: a.targets.buffer, labels: a.targets.buffer },
      uniforms: { [vec4 ? 'chunk4' : 'chunk']: uniforms },
      workgroups: linearWorkgroups(rec.gpu, rows),
    });
    await matmul(rec, { a: S, b: Wc, c: ws.o, transA: true, beta: 1 }, { label: 'lmHead:p·W' });
  }
  await rec.dispatch({
    kernel: SOFTMAX_FINALIZE_KERNEL,
    label: 'lmHead:finalize',
    buffers: {
      fin_state: ws.state.buffer,
      fin_o: ws.o.buffer,
      fin_residual: a.dh.buffer,
      fin_et: ws.targetRows.buffer,
      fin_ebar: ws.unused.buffer,
      fin_weights: a.weights.buffer,
      fin_items: ws.positionIds.buffer,
      fin_labels: ws.positionIds.buffer,
      fin_out: ws.outputs.buffer,
    },
    uniforms: {
      fin: {
        rows: R * N,
        queries: N,
        dOut: d,
        N: V,
        population: 0,
        sampled: 0,
        indexBatchStride: N,
        useItemWeights: 1,
        noise: 0,
        constWeight: 0,
        stagedTargets: 1,
        targetRunStride: N,
      },
    },
    workgroups: linearWorkgroups(rec.gpu, R * N),
  });
  if (!a.dW) return;
  for (let j0 = 0; j0 < V; j0 += C) {
    const c = Math.min(C, V - j0);
    const { S } = await logits(j0, c);
    await lmHeadGradProbs(
      rec,
      { replicas: R, tokens: N, chunkCols: c, chunkBase: j0, scratchBatch },
      { scratch: ws.scratch.buffer, outputs: ws.outputs, targets: a.targets, weights: a.weights },
    );
    const dWc: Tensor = { ...a.dW, rows: c, offset: a.dW.offset + j0 * d };
    await matmul(rec, { a: S, b: a.h, c: dWc }, { label: 'lmHead:dW' });
  }
}
