/**
 * Recording the transformer kernels (shaders/transformer/) into a CommandRecorder, with the operand
 * checks done before anything is recorded (errors name the operand). Activations are contiguous
 * [R, tokens, width] tensors at offset 0; parameters and gradients are views into slots
 * (offset + replica·stride). CPU twins: src/cpu/transformer.ts.
 */
import type { CommandRecorder } from '../../gpu/commands';
import { BYTES_PER_ELEMENT, requiredElements, type Tensor } from '../../gpu/tensor';
import { RMSNORM_EPS, type ActivationKind } from '../../cpu/transformer';
import { linearWorkgroups } from '../philox/philox';
import {
  ACT_BACKWARD_KERNEL,
  ACT_FORWARD_KERNEL,
  ACTIVATION_CODES,
  ATTN_BACKWARD_KV_KERNEL,
  ATTN_BACKWARD_Q_KERNEL,
  ATTN_BACKWARD_SCORES_KERNEL,
  ATTN_FORWARD_KERNEL,
  CLIP_SCALE_KERNEL,
  EMBED_BACKWARD_KERNEL,
  EMBED_FORWARD_KERNEL,
  GRAD_SCALE_KERNEL,
  GRAD_SUMSQ_KERNEL,
  LM_HEAD_GRAD_PROBS_KERNEL,
  POS_BACKWARD_KERNEL,
  RESIDUAL_ADD_KERNEL,
  RMSNORM_BACKWARD_KERNEL,
  RMSNORM_FORWARD_KERNEL,
  SWIGLU_BACKWARD_KERNEL,
  SWIGLU_FORWARD_KERNEL,
  TOKEN_CSR_KERNEL,
} from './kernels';

/** Throws unless `t` is a contiguous [batch, rows, cols] tensor at offset 0 that fits its buffer. */
export function requireContiguous(t: Tensor, what: string, batch: number, rows: number, cols: number, dtype: 'f32' | 'u32' = 'f32'): void {
  if (t.dtype !== dtype) throw new TypeError(`${what}: dtype must be ${dtype}, got ${t.dtype}`);
  if (t.batch !== batch || t.rows !== rows || t.cols !== cols) {
    throw new RangeError(`${what} is ${t.batch}×${t.rows}×${t.cols}, expected ${batch}×${rows}×${cols}`);
  }
  if (t.offset !== 0 || (batch > 1 && t.batchStride !== rows * cols)) {
    throw new RangeError(
      `${what}: must be contiguous at offset 0 (offset ${t.offset}, batch stride ${t.batchStride}; expected 0 and ${rows * cols})`,
    );
  }
  requireFits(t, what);
}

function requireFits(t: Tensor, what: string): void {
  const need = requiredElements(t) * BYTES_PER_ELEMENT;
  if (need > t.buffer.size) throw new RangeError(`${what}: layout needs ${need} bytes but buffer "${t.label}" has ${t.buffer.size}`);
}

/** Throws unless `t` is an R-replica view of rows × cols matrices (any offset and stride). */
function requireView(t: Tensor, what: string, batch: number, rows: number, cols: number): number {
  if (t.dtype !== 'f32') throw new TypeError(`${what}: dtype must be f32, got ${t.dtype}`);
  if (t.batch !== batch || t.rows !== rows || t.cols !== cols) {
    throw new RangeError(`${what} is ${t.batch}×${t.rows}×${t.cols}, expected ${batch}×${rows}×${cols}`);
  }
  if (batch > 1 && t.batchStride < rows * cols)
    throw new RangeError(`${what}: batch stride ${t.batchStride} would overlap replicas (need ≥ ${rows * cols})`);
  requireFits(t, what);
  return batch > 1 ? t.batchStride : 0;
}

export interface EmbedShape {
  replicas: number;
  /** Tokens per replica (rows·T). */
  tokens: number;
  seqLen: number;
  dModel: number;
  vocab: number;
  maxSeqLen: number;
}

function checkSeq(s: EmbedShape): void {
  if (s.tokens % s.seqLen !== 0)
    throw new RangeError(`transformer: tokens ${s.tokens} is not a whole number of sequences of T = ${s.seqLen}`);
  if (s.seqLen > s.maxSeqLen) throw new RangeError(`transformer: T = ${s.seqLen} is above maxSeqLen = ${s.maxSeqLen}`);
}

/**
 * x = E[tokens] + P[position] for every replica.
 *
 * @example
 * await embedForward(rec, s, { table: views.embed, pos: views.pos, tokens, out: x });
 */
export async function embedForward(
  rec: CommandRecorder,
  s: EmbedShape,
  a: { table: Tensor; pos: Tensor; tokens: Tensor; out: Tensor },
): Promise<void> {
  checkSeq(s);
  const strideTable = requireView(a.table, 'embed_forward operand table', s.replicas, s.vocab, s.dModel);
  const stridePos = requireView(a.pos, 'embed_forward operand pos', s.replicas, s.maxSeqLen, s.dModel);
  requireContiguous(a.tokens, 'embed_forward operand tokens', s.replicas, s.tokens, 1, 'u32');
  requireContiguous(a.out, 'embed_forward operand out', s.replicas, s.tokens, s.dModel);
  await rec.dispatch({
    kernel: EMBED_FORWARD_KERNEL,
    buffers: { emb_table: a.table.buffer, emb_pos: a.pos.buffer, emb_tokens: a.tokens.buffer, emb_out: a.out.buffer },
    uniforms: { emb: { ...s, offsetTable: a.table.offset, strideTable, offsetPos: a.pos.offset, stridePos } },
    workgroups: linearWorkgroups(rec.gpu, s.replicas * s.tokens * s.dModel),
  });
}

/** The CSR work buffers of the embedding backward pass: start and count per (replica, token), positions. */
export interface CsrBuffers {
  start: Tensor;
  count: Tensor;
  positions: Tensor;
}

/**
 * dE (a deterministic scatter-add: positions sorted by token, then summed per token) and dP.
 *
 * @example
 * await embedBackward(rec, s, { dx, tokens, csr, embedGrad: grads.embed, posGrad: grads.pos });
 */
export async function embedBackward(
  rec: CommandRecorder,
  s: EmbedShape,
  a: { dx: Tensor; tokens: Tensor; csr: CsrBuffers; embedGrad: Tensor; posGrad: Tensor },
): Promise<void> {
  checkSeq(s);
  requireContiguous(a.dx, 'embed_backward operand dx', s.replicas, s.tokens, s.dModel);
  requireContiguous(a.tokens, 'embed_backward operand tokens', s.replicas, s.tokens, 1, 'u32');
  requireContiguous(a.csr.start, 'token_csr operand start', s.replicas, s.vocab, 1, 'u32');
  requireContiguous(a.csr.count, 'token_csr operand count', s.replicas, s.vocab, 1, 'u32');
  requireContiguous(a.csr.positions, 'token_csr operand positions', s.replicas, s.tokens, 1, 'u32');
  const strideE = requireView(a.embedGrad, 'embed_backward operand embedGrad', s.replicas, s.vocab, s.dModel);
  const strideP = requireView(a.posGrad, 'pos_backward operand posGrad', s.replicas, s.maxSeqLen, s.dModel);
  await rec.dispatch({
    kernel: TOKEN_CSR_KERNEL,
    buffers: {
      csr_tokens: a.tokens.buffer,
      csr_start: a.csr.start.buffer,
      csr_count: a.csr.count.buffer,
      csr_positions: a.csr.positions.buffer,
    },
    uniforms: { csr: { replicas: s.replicas, tokens: s.tokens, vocab: s.vocab } },
    workgroups: linearWorkgroups(rec.gpu, s.replicas * s.vocab),
  });
  await rec.dispatch({
    kernel: EMBED_BACKWARD_KERNEL,
    buffers: {
      eg_dx: a.dx.buffer,
      eg_start: a.csr.start.buffer,
      eg_count: a.csr.count.buffer,
      eg_positions: a.csr.positions.buffer,
      eg_grad: a.embedGrad.buffer,
    },
    uniforms: { eg: { ...s, offsetGrad: a.embedGrad.offset, strideGrad: strideE } },
    workgroups: linearWorkgroups(rec.gpu, s.replicas * s.vocab * s.dModel),
  });
  await rec.dispatch({
    kernel: POS_BACKWARD_KERNEL,
    buffers: { pg_dx: a.dx.buffer, pg_grad: a.posGrad.buffer },
    uniforms: { pg: { ...s, offsetGrad: a.posGrad.offset, strideGrad: strideP } },
    workgroups: linearWorkgroups(rec.gpu, s.replicas * s.maxSeqLen * s.dModel),
  });
}

/** y = x/√(mean(x²) + ε) and r = 1/√(…) per row, for [R, tokens, d] activations. */
export async function rmsnormForward(rec: CommandRecorder, a: { x: Tensor; y: Tensor; rstd: Tensor }, eps = RMSNORM_EPS): Promise<void> {
  const { batch, rows, cols } = a.x;
  requireContiguous(a.x, 'rmsnorm_forward operand x', batch, rows, cols);
  requireContiguous(a.y, 'rmsnorm_forward operand y', batch, rows, cols);
  requireContiguous(a.rstd, 'rmsnorm_forward operand rstd', batch, rows, 1);
  await rec.dispatch({
    kernel: RMSNORM_FORWARD_KERNEL,
    buffers: { nf_x: a.x.buffer, nf_y: a.y.buffer, nf_rstd: a.rstd.buffer },
    uniforms: { nf: { rows: batch * rows, width: cols, eps } },
    workgroups: linearWorkgroups(rec.gpu, batch * rows),
  });
}

/** dx = r·(dy − y·mean(dy ⊙ y)) per row. */
export async function rmsnormBackward(rec: CommandRecorder, a: { dy: Tensor; y: Tensor; rstd: Tensor; dx: Tensor }): Promise<void> {
  const { batch, rows, cols } = a.y;
  for (const [name, t] of [
    ['dy', a.dy],
    ['y', a.y],
    ['dx', a.dx],
  ] as const)
    requireContiguous(t, `rmsnorm_backward operand ${name}`, batch, rows, cols);
  requireContiguous(a.rstd, 'rmsnorm_backward operand rstd', batch, rows, 1);
  await rec.dispatch({
    kernel: RMSNORM_BACKWARD_KERNEL,
    buffers: { nb_dy: a.dy.buffer, nb_y: a.y.buffer, nb_rstd: a.rstd.buffer, nb_dx: a.dx.buffer },
    uniforms: { nb: { rows: batch * rows, width: cols, eps: 0 } },
    workgroups: linearWorkgroups(rec.gpu, batch * rows),
  });
}

/** x ← x + α·y (same shapes, contiguous). */
export async function residualAdd(rec: CommandRecorder, a: { x: Tensor; y: Tensor; alpha?: number }): Promise<void> {
  const { batch, rows, cols } = a.x;
  requireContiguous(a.x, 'residual_add operand x', batch, rows, cols);
  requireContiguous(a.y, 'residual_add operand y', batch, rows, cols);
  if (a.x.buffer === a.y.buffer) throw new RangeError('residual_add: x and y must be different buffers');
  const count = batch * rows * cols;
  await rec.dispatch({
    kernel: RESIDUAL_ADD_KERNEL,
    buffers: { add_x: a.x.buffer, add_y: a.y.buffer },
    uniforms: { add: { count, alpha: a.alpha ?? 1 } },
    workgroups: linearWorkgroups(rec.gpu, count),
  });
}

function sameShape(ts: [string, Tensor][], kernel: string): number {
  const { batch, rows, cols } = ts[0][1];
  for (const [name, t] of ts) requireContiguous(t, `${kernel} operand ${name}`, batch, rows, cols);
  return batch * rows * cols;
}

/** a = act(pre) (ReLU² or GELU), elementwise. */
export async function activationForward(rec: CommandRecorder, kind: ActivationKind, a: { pre: Tensor; out: Tensor }): Promise<void> {
  const count = sameShape(
    [
      ['pre', a.pre],
      ['out', a.out],
    ],
    'act_forward',
  );
  await rec.dispatch({
    kernel: ACT_FORWARD_KERNEL,
    buffers: { af_pre: a.pre.buffer, af_out: a.out.buffer },
    uniforms: { af: { count, kind: ACTIVATION_CODES[kind] } },
    workgroups: linearWorkgroups(rec.gpu, count),
  });
}

/** dpre = dact ⊙ act′(pre). */
export async function activationBackward(
  rec: CommandRecorder,
  kind: ActivationKind,
  a: { dact: Tensor; pre: Tensor; dpre: Tensor },
): Promise<void> {
  const count = sameShape(
    [
      ['dact', a.dact],
      ['pre', a.pre],
      ['dpre', a.dpre],
    ],
    'act_backward',
  );
  await rec.dispatch({
    kernel: ACT_BACKWARD_KERNEL,
    buffers: { ab_dact: a.dact.buffer, ab_pre: a.pre.buffer, ab_dpre: a.dpre.buffer },
    uniforms: { ab: { count, kind: ACTIVATION_CODES[kind] } },
    workgroups: linearWorkgroups(rec.gpu, count),
  });
}

/** a = silu(gate) ⊙ up. */
export async function swigluForward(rec: CommandRecorder, a: { gate: Tensor; up: Tensor; out: Tensor }): Promise<void> {
  const count = sameShape(
    [
      ['gate', a.gate],
      ['up', a.up],
      ['out', a.out],
    ],
    'swiglu_forward',
  );
  await rec.dispatch({
    kernel: SWIGLU_FORWARD_KERNEL,
    buffers: { sf_gate: a.gate.buffer, sf_up: a.up.buffer, sf_out: a.out.buffer },
    uniforms: { sf: { count, kind: 0 } },
    workgroups: linearWorkgroups(rec.gpu, count),
  });
}

/** dgate, dup from da. */
export async function swigluBackward(
  rec: CommandRecorder,
  a: { da: Tensor; gate: Tensor; up: Tensor; dgate: Tensor; dup: Tensor },
): Promise<void> {
  const count = sameShape(
    [
      ['da', a.da],
      ['gate', a.gate],
      ['up', a.up],
      ['dgate', a.dgate],
      ['dup', a.dup],
    ],
    'swiglu_backward',
  );
  await rec.dispatch({
    kernel: SWIGLU_BACKWARD_KERNEL,
    buffers: { sb_da: a.da.buffer, sb_gate: a.gate.buffer, sb_up: a.up.buffer, sb_dgate: a.dgate.buffer, sb_dup: a.dup.buffer },
    uniforms: { sb: { count, kind: 0 } },
    workgroups: linearWorkgroups(rec.gpu, count),
  });
}

export interface AttentionDims {
  replicas: number;
  rows: number;
  seqLen: number;
  dModel: number;
  heads: number;
}

function attnUniforms(s: AttentionDims): Record<string, number> {
  if (s.dModel % s.heads !== 0) throw new RangeError(`attention: d = ${s.dModel} is not divisible by heads = ${s.heads}`);
  return { ...s, scale: 1 / Math.sqrt(s.dModel / s.heads) };
}

function checkAttentionOperands(s: AttentionDims, kernel: string, tokens: [string, Tensor][], scores: [string, Tensor][]): void {
  for (const [name, t] of tokens) requireContiguous(t, `${kernel} operand ${name}`, s.replicas, s.rows * s.seqLen, s.dModel);
  for (const [name, t] of scores) requireContiguous(t, `${kernel} operand ${name}`, s.replicas, s.rows * s.heads * s.seqLen, s.seqLen);
}

/**
 * Causal attention forward: P [R, rows·H·T, T], out [R, rows·T, d], rowMax [R, rows·H·T, 1].
 *
 * @example
 * await attentionForward(rec, { replicas: 1, rows: 8, seqLen: 64, dModel: 64, heads: 4 }, { q, k, v, p, out, rowMax });
 */
export async function attentionForward(
  rec: CommandRecorder,
  s: AttentionDims,
  a: { q: Tensor; k: Tensor; v: Tensor; p: Tensor; out: Tensor; rowMax: Tensor },
): Promise<void> {
  const u = attnUniforms(s);
  checkAttentionOperands(
    s,
    'attn_forward',
    [
      ['q', a.q],
      ['k', a.k],
      ['v', a.v],
      ['out', a.out],
    ],
    [['p', a.p]],
  );
  requireContiguous(a.rowMax, 'attn_forward operand rowMax', s.replicas, s.rows * s.heads * s.seqLen, 1);
  await rec.dispatch({
    kernel: ATTN_FORWARD_KERNEL,
    buffers: { af_q: a.q.buffer, af_k: a.k.buffer, af_v: a.v.buffer, af_p: a.p.buffer, af_out: a.out.buffer, af_rowmax: a.rowMax.buffer },
    uniforms: { af: u },
    workgroups: linearWorkgroups(rec.gpu, s.replicas * s.rows * s.heads * s.seqLen),
  });
}

/** Causal attention backward: dq, dk, dv from dOut (dS is a work buffer shaped like P). */
export async function attentionBackward(
  rec: CommandRecorder,
  s: AttentionDims,
  a: { dout: Tensor; q: Tensor; k: Tensor; v: Tensor; p: Tensor; ds: Tensor; dq: Tensor; dk: Tensor; dv: Tensor },
): Promise<void> {
  const u = attnUniforms(s);
  checkAttentionOperands(
    s,
    'attention backward',
    [
      ['dout', a.dout],
      ['q', a.q],
      ['k', a.k],
      ['v', a.v],
      ['dq', a.dq],
      ['dk', a.dk],
      ['dv', a.dv],
    ],
    [
      ['p', a.p],
      ['ds', a.ds],
    ],
  );
  const rowsTotal = s.replicas * s.rows * s.heads * s.seqLen;
  const elements = s.replicas * s.rows * s.seqLen * s.dModel;
  await rec.dispatch({
    kernel: ATTN_BACKWARD_SCORES_KERNEL,
    buffers: { as_dout: a.dout.buffer, as_v: a.v.buffer, as_p: a.p.buffer, as_ds: a.ds.buffer },
    uniforms: { asp: u },
    workgroups: linearWorkgroups(rec.gpu, rowsTotal),
  });
  await rec.dispatch({
    kernel: ATTN_BACKWARD_Q_KERNEL,
    buffers: { aq_ds: a.ds.buffer, aq_k: a.k.buffer, aq_dq: a.dq.buffer },
    uniforms: { aq: u },
    workgroups: linearWorkgroups(rec.gpu, elements),
  });
  await rec.dispatch({
    kernel: ATTN_BACKWARD_KV_KERNEL,
    buffers: {
      akv_ds: a.ds.buffer,
      akv_p: a.p.buffer,
      akv_q: a.q.buffer,
      akv_dout: a.dout.buffer,
      akv_dk: a.dk.buffer,
      akv_dv: a.dv.buffer,
    },
    uniforms: { akv: u },
    workgroups: linearWorkgroups(rec.gpu, elements),
  });
}

/**
 * In place on a logits chunk [R, chunkCols, tokens] (batch stride scratchBatch):
 * z → w·(e^{z − lse} − onehot(target)). lse comes from the softmax outputs [R, tokens, 5].
 */
export async function lmHeadGradProbs(
  rec: CommandRecorder,
  s: { replicas: number; tokens: number; chunkCols: number; chunkBase: number; scratchBatch: number },
  a: { scratch: GPUBuffer; outputs: Tensor; targets: Tensor; weights: Tensor },
): Promise<void> {
  requireContiguous(a.outputs, 'lm_head_grad_probs operand outputs', s.replicas, s.tokens, 5);
  requireContiguous(a.targets, 'lm_head_grad_probs operand targets', s.replicas, s.tokens, 1, 'u32');
  requireContiguous(a.weights, 'lm_head_grad_probs operand weights', s.replicas, s.tokens, 1);
  const need = ((s.replicas - 1) * s.scratchBatch + s.chunkCols * s.tokens) * BYTES_PER_ELEMENT;
  if (need > a.scratch.size) throw new RangeError(`lm_head_grad_probs operand scratch: needs ${need} bytes, has ${a.scratch.size}`);
  await rec.dispatch({
    kernel: LM_HEAD_GRAD_PROBS_KERNEL,
    buffers: { hg_scratch: a.scratch, hg_outputs: a.outputs.buffer, hg_targets: a.targets.buffer, hg_weights: a.weights.buffer },
    uniforms: { hg: s },
    workgroups: linearWorkgroups(rec.gpu, s.replicas * s.chunkCols * s.tokens),
  });
}

/** Σ g² of every matrix of a slot view into `out` at `outOffset + b`. */
export async function gradSumsq(rec: CommandRecorder, a: { g: Tensor; out: GPUBuffer; outOffset: number }): Promise<void> {
  const stride = requireView(a.g, 'grad_sumsq operand g', a.g.batch, a.g.rows, a.g.cols);
  const max = rec.gpu.limits.maxComputeWorkgroupsPerDimension ?? 65535;
  if (a.g.batch > max * 65535) throw new RangeError(`grad_sumsq: ${a.g.batch} matrices are too many for one dispatch`);
  await rec.dispatch({
    kernel: GRAD_SUMSQ_KERNEL,
    buffers: { ss_g: a.g.buffer, ss_out: a.out },
    uniforms: { ss: { count: a.g.rows * a.g.cols, batch: a.g.batch, offsetG: a.g.offset, batchStrideG: stride, outOffset: a.outOffset } },
    workgroups: [Math.min(a.g.batch, 65535), Math.ceil(a.g.batch / 65535), 1],
  });
}

/** Per replica: the global norm of its entries and the clip factor min(1, maxNorm/(norm + 1e-6)). */
export async function clipScale(
  rec: CommandRecorder,
  a: { sumsq: GPUBuffer; entries: number; replicas: number; clip: GPUBuffer; maxNorm: number },
): Promise<void> {
  if (a.entries % a.replicas !== 0) throw new RangeError(`clip_scale: ${a.entries} entries are not a multiple of ${a.replicas} replicas`);
  await rec.dispatch({
    kernel: CLIP_SCALE_KERNEL,
    buffers: { cs_sumsq: a.sumsq, cs_clip: a.clip },
    uniforms: { cs: { replicas: a.replicas, entries: a.entries, maxNorm: a.maxNorm } },
    workgroups: [Math.ceil(a.replicas / 64), 1, 1],
  });
}

/** g ← clip[b mod R]·g over a slot view. */
export async function gradScale(rec: CommandRecorder, a: { g: Tensor; clip: GPUBuffer; replicas: number }): Promise<void> {
  const stride = requireView(a.g, 'grad_scale operand g', a.g.batch, a.g.rows, a.g.cols);
  const count = a.g.rows * a.g.cols;
  await rec.dispatch({
    kernel: GRAD_SCALE_KERNEL,
    buffers: { gs_g: a.g.buffer, gs_clip: a.clip },
    uniforms: { gs: { count, batch: a.g.batch, replicas: a.replicas, offsetG: a.g.offset, batchStrideG: stride } },
    workgroups: linearWorkgroups(rec.gpu, count * a.g.batch),
  });
}
