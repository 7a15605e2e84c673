/**
 * The Float64 twin of the whole transformer (docs/transformer.md §2) for one replica: initial weights
 * from the Philox streams, the forward pass with everything the backward pass keeps, the hand-written
 * backward pass, and the logits (for causality checks). The GPU model (src/model/model.ts) records the
 * same operations in the same order; src/cpu/transformer.ts holds the per-kernel twins used here.
 */
import { philoxNormals, PHILOX_STREAMS } from './philox';
import {
  activationBackwardCpu,
  activationForwardCpu,
  attentionBackwardCpu,
  attentionForwardCpu,
  embedBackwardCpu,
  embedForwardCpu,
  lmHeadCpu,
  posBackwardCpu,
  residualAddCpu,
  rmsnormBackwardCpu,
  rmsnormForwardCpu,
  swigluBackwardCpu,
  swigluForwardCpu,
} from './transformer';
import { MATRIX_KINDS, mlpHidden, transformerMatrices, type MatrixSpec, type TransformerDims } from '../layout/transformerShape';
import type { TokenBatch } from '../model/data';

export type Params = Record<string, Float64Array>;

/** The Philox stream of a matrix's initial entries (docs/math.md §6): stable across model sizes. */
export function initStream(m: Pick<MatrixSpec, 'kind' | 'layer'>): number {
  return PHILOX_STREAMS.transformerInit + 256 * MATRIX_KINDS.indexOf(m.kind) + Math.max(0, m.layer);
}

/**
 * Initial weights of a replica, rounded to f32 (what the GPU receives), as Float64.
 *
 * @example
 * const params = initParamsCpu(dims, 7); // params['layer.0.q'] holds d·d normals of std 1/√d
 */
export function initParamsCpu(dims: TransformerDims, seed: number): Params {
  const out: Params = {};
  for (const m of transformerMatrices(dims)) {
    const values = philoxNormals(seed, initStream(m), m.rows * m.cols, m.initStd);
    out[m.name] = Float64Array.from(values, Math.fround);
  }
  return out;
}

/** y = x·Wᵀ for x [n, in] and W [out, in]. */
export function linearCpu(x: ArrayLike<number>, W: ArrayLike<number>, n: number, inDim: number, outDim: number): Float64Array {
  const y = new Float64Array(n * outDim);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < outDim; o++) {
      let s = 0;
      for (let c = 0; c < inDim; c++) s += x[i * inDim + c] * W[o * inDim + c];
      y[i * outDim + o] = s;
    }
  }
  return y;
}

/** dx = dy·W (dy [n, out], W [out, in]). */
function linearBackInput(dy: ArrayLike<number>, W: ArrayLike<number>, n: number, inDim: number, outDim: number): Float64Array {
  const dx = new Float64Array(n * inDim);
  for (let i = 0; i < n; i++)
    for (let o = 0; o < outDim; o++) {
      const g = dy[i * outDim + o];
      for (let c = 0; c < inDim; c++) dx[i * inDim + c] += g * W[o * inDim + c];
    }
  return dx;
}

/** dW = dyᵀ·x (dy [n, out], x [n, in]) → [out, in]. */
function linearBackWeight(dy: ArrayLike<number>, x: ArrayLike<number>, n: number, inDim: number, outDim: number): Float64Array {
  const dW = new Float64Array(outDim * inDim);
  for (let i = 0; i < n; i++)
    for (let o = 0; o < outDim; o++) {
      const g = dy[i * outDim + o];
      for (let c = 0; c < inDim; c++) dW[o * inDim + c] += g * x[i * inDim + c];
    }
  return dW;
}

interface LayerCache {
  n1: Float64Array;
  r1: Float64Array;
  q: Float64Array;
  k: Float64Array;
  v: Float64Array;
  P: Float64Array;
  att: Float64Array;
  n2: Float64Array;
  r2: Float64Array;
  pre: Float64Array;
  gate?: Float64Array;
  act: Float64Array;
}

export interface ForwardCpuResult {
  /** Σ_n w_n·CE_n with w = mask / Σ mask. */
  loss: number;
  nll: Float64Array;
  correct: Uint8Array;
  /** Largest attention logit per layer. */
  maxLogit: number[];
  /** Final normalised hidden state [N, d]. */
  hidden: Float64Array;
  layers: LayerCache[];
  rf: Float64Array;
  weights: Float64Array;
}

/** The per-position loss weights of a batch: mask / Σ mask (mean over targets). */
export function lossWeights(mask: ArrayLike<number>): Float64Array {
  let total = 0;
  for (let i = 0; i < mask.length; i++) total += mask[i];
  return Float64Array.from(mask, (m) => (total > 0 ? m / total : 0));
}

/**
 * The forward pass of one replica on a batch of `rows` sequences of length `seqLen`.
 *
 * @example
 * const f = forwardCpu(dims, params, source.batch(0, 0, 2, 5), 2, 5);
 * f.loss; // mean cross-entropy over the targets
 */
export function forwardCpu(dims: TransformerDims, params: Params, batch: TokenBatch, rows: number, seqLen: number): ForwardCpuResult {
  const { dModel: d, heads: H, vocab: V } = dims;
  const hid = mlpHidden(d, dims.mlp);
  const N = rows * seqLen;
  const x = embedForwardCpu(params.embed, params.pos, batch.inputs, { vocab: V, dModel: d, rows, seqLen });
  // The fixed read-in (regression source): added after the lookup, as the GPU does; no parameter.
  if (batch.readIn) residualAddCpu(x, batch.readIn);
  const layers: LayerCache[] = [];
  const maxLogit: number[] = [];
  for (let l = 0; l < dims.layers; l++) {
    const W = (kind: string) => params[`layer.${l}.${kind}`];
    const { y: n1, rstd: r1 } = rmsnormForwardCpu(x, N, d);
    const q = linearCpu(n1, W('q'), N, d, d);
    const k = linearCpu(n1, W('k'), N, d, d);
    const v = linearCpu(n1, W('v'), N, d, d);
    const { P, out: att, rowMax } = attentionForwardCpu(q, k, v, { rows, seqLen, dModel: d, heads: H });
    maxLogit.push(rowMax.reduce((m, s) => Math.max(m, s), -Infinity));
    residualAddCpu(x, linearCpu(att, W('o'), N, d, d));
    const { y: n2, rstd: r2 } = rmsnormForwardCpu(x, N, d);
    const pre = linearCpu(n2, W('in'), N, d, hid);
    let gate: Float64Array | undefined;
    let act: Float64Array;
    if (dims.mlp === 'swiglu') {
      gate = linearCpu(n2, W('gate'), N, d, hid);
      act = swigluForwardCpu(gate, pre);
    } else {
      act = activationForwardCpu(dims.mlp, pre);
    }
    residualAddCpu(x, linearCpu(act, W('out'), N, hid, d));
    layers.push({ n1, r1, q, k, v, P, att, n2, r2, pre, gate, act });
  }
  const { y: hidden, rstd: rf } = rmsnormForwardCpu(x, N, d);
  const weights = lossWeights(batch.weights);
  const head = lmHeadCpu(hidden, params.head, batch.targets, weights, { tokens: N, dModel: d, vocab: V });
  return { loss: head.loss, nll: head.nll, correct: head.correct, maxLogit, hidden, layers, rf, weights };
}

/**
 * The hand-written backward pass: the gradient of `forward.loss` for every named matrix.
 *
 * @example
 * const grads = backwardCpu(dims, params, batch, rows, T, forwardCpu(dims, params, batch, rows, T));
 */
export function backwardCpu(
  dims: TransformerDims,
  params: Params,
  batch: TokenBatch,
  rows: number,
  seqLen: number,
  f: ForwardCpuResult,
): Params {
  const { dModel: d, heads: H, vocab: V } = dims;
  const hid = mlpHidden(d, dims.mlp);
  const N = rows * seqLen;
  const grads: Params = {};
  const head = lmHeadCpu(f.hidden, params.head, batch.targets, f.weights, { tokens: N, dModel: d, vocab: V });
  grads.head = head.dW;
  const dx = rmsnormBackwardCpu(head.dh, f.hidden, f.rf, N, d);
  for (let l = dims.layers - 1; l >= 0; l--) {
    const c = f.layers[l];
    const W = (kind: string) => params[`layer.${l}.${kind}`];
    const name = (kind: string) => `layer.${l}.${kind}`;
    // MLP branch: x' = h + act·W_outᵀ.
    const dact = linearBackInput(dx, W('out'), N, hid, d);
    grads[name('out')] = linearBackWeight(dx, c.act, N, hid, d);
    let dn2: Float64Array;
    if (dims.mlp === 'swiglu') {
      const { dgate, dup } = swigluBackwardCpu(dact, c.gate!, c.pre);
      grads[name('in')] = linearBackWeight(dup, c.n2, N, d, hid);
      grads[name('gate')] = linearBackWeight(dgate, c.n2, N, d, hid);
      dn2 = linearBackInput(dup, W('in'), N, d, hid);
      residualAddCpu(dn2, linearBackInput(dgate, W('gate'), N, d, hid));
    } else {
      const dpre = activationBackwardCpu(dims.mlp, dact, c.pre);
      grads[name('in')] = linearBackWeight(dpre, c.n2, N, d, hid);
      dn2 = linearBackInput(dpre, W('in'), N, d, hid);
    }
    residualAddCpu(dx, rmsnormBackwardCpu(dn2, c.n2, c.r2, N, d));
    // Attention branch: h = x + att·W_Oᵀ.
    grads[name('o')] = linearBackWeight(dx, c.att, N, d, d);
    const datt = linearBackInput(dx, W('o'), N, d, d);
    const { dq, dk, dv } = attentionBackwardCpu(datt, c.q, c.k, c.v, c.P, { rows, seqLen, dModel: d, heads: H });
    grads[name('q')] = linearBackWeight(dq, c.n1, N, d, d);
    grads[name('k')] = linearBackWeight(dk, c.n1, N, d, d);
    grads[name('v')] = linearBackWeight(dv, c.n1, N, d, d);
    const dn1 = linearBackInput(dq, W('q'), N, d, d);
    residualAddCpu(dn1, linearBackInput(dk, W('k'), N, d, d));
    residualAddCpu(dn1, linearBackInput(dv, W('v'), N, d, d));
    residualAddCpu(dx, rmsnormBackwardCpu(dn1, c.n1, c.r1, N, d));
  }
  grads.embed = embedBackwardCpu(dx, batch.inputs, { vocab: V, dModel: d });
  grads.pos = posBackwardCpu(dx, { dModel: d, rows, seqLen, maxSeqLen: dims.maxSeqLen });
  return grads;
}

/** Logits [N, V] of a batch (the head applied to the final hidden state): causality checks. */
export function logitsCpu(dims: TransformerDims, params: Params, batch: TokenBatch, rows: number, seqLen: number): Float64Array {
  const f = forwardCpu(dims, params, batch, rows, seqLen);
  return linearCpu(f.hidden, params.head, rows * seqLen, dims.dModel, dims.vocab);
}
