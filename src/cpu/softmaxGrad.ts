/**
 * Float64 reference of the softmax cross-entropy gradient (src/kernels/softmaxGrad/softmaxGrad.ts), written
 * straight from docs/math.md §1 with the logits materialized (fine on the CPU at test sizes):
 *
 *   z_qj = ẽ_jᵀ W e_{i_q},  p̂(j|q) = softmax_j(z_q·),  o_q = Σ_j p̂(j|q) ẽ_j,
 *   ẽ*_q = (1−ε)ẽ_{y} + ε·ē  (population, or minibatch with noiseTarget 'expected')
 *        = ẽ_{j_q}            (minibatch, 'sampled': the drawn label),
 *   G = Σ_q w_q (o_q − ẽ*_q) e_{i_q}ᵀ,  w_q = p_{i_q} (population) or 1/B (minibatch).
 *
 * Per query: lse, loss (−Σ_j t_j log p̂_j, with −log p̂_y as log1p(Σ_{j≠y} e^{z_j−z_y})), the true
 * class's logit and probability, and the strict recovered flag (z_y > every other logit).
 * Embeddings are dense item-major tables here (identity and coupled-rotation materialized by the
 * caller); the GPU applies those two structurally.
 */

export interface SoftmaxGradCpuArgs {
  runs: number;
  N: number;
  dIn: number;
  dOut: number;
  /** [runs, dOut, dIn] row-major. */
  W: ArrayLike<number>;
  /** Item-major [N, dIn] and [N, dOut]. */
  E: ArrayLike<number>;
  Et: ArrayLike<number>;
  targets:
    | { kind: 'population'; weights: ArrayLike<number> }
    | { kind: 'minibatch'; batchSize: number; items: ArrayLike<number>; labels: ArrayLike<number> };
  noise: number;
  noiseTarget: 'sampled' | 'expected';
}

export interface SoftmaxGradCpuResult {
  /** Queries per run (N for the population, B for a minibatch). */
  queries: number;
  lse: Float64Array;
  loss: Float64Array;
  zTrue: Float64Array;
  pTrue: Float64Array;
  /** 1 when z_y is strictly above every other logit. */
  correct: Float64Array;
  /** z_y − max_{j≠y} z_j (the recovery margin; ±Infinity for N = 1). */
  margin: Float64Array;
  /** [runs, queries, dOut]: o_q. */
  o: Float64Array;
  /** [runs, dOut, dIn]. */
  G: Float64Array;
  /** [runs, queries]: max_j |ẽ_j|ᵀ|W||e_q| — what logit rounding errors scale with. */
  logitMagnitude: Float64Array;
  /** [runs, queries]: max_j |z_j − max z| over j with p̂_j > 0 (the exp arguments). */
  expArgument: Float64Array;
  /** [runs, queries, dOut]: Σ_j p̂_j |ẽ_jk|. */
  oMagnitude: Float64Array;
  /** [runs, queries, dOut]: w_q (o_q − ẽ*_q), the residual G is built from. */
  residual: Float64Array;
  /** [runs, queries]: w_q. */
  weight: Float64Array;
  /** [runs, queries]: the item of each query (population: q). */
  item: Uint32Array;
}

/** Σ_j t_j (−log p̂_j) for one query from its logits (Float64), with the stable true-class term. */
export function queryLoss(z: ArrayLike<number>, y: number, target: { noise: number; label?: number }): number {
  const N = z.length;
  let m = -Infinity;
  for (let j = 0; j < N; j++) m = Math.max(m, z[j]);
  let s = 0;
  for (let j = 0; j < N; j++) s += Math.exp(z[j] - m);
  const lse = m + Math.log(s);
  const label = target.label ?? y;
  let excl = 0;
  for (let j = 0; j < N; j++) if (j !== label) excl += Math.exp(z[j] - z[label]);
  const nll = Math.log1p(excl);
  if (target.label !== undefined) return nll;
  let zsum = 0;
  for (let j = 0; j < N; j++) zsum += z[j];
  return (1 - target.noise) * nll + target.noise * (lse - zsum / N);
}

export function softmaxGradCpu(args: SoftmaxGradCpuArgs): SoftmaxGradCpuResult {
  const { runs: R, N, dIn, dOut, W, E, Et, noise } = args;
  const minibatch = args.targets.kind === 'minibatch';
  const Q = args.targets.kind === 'minibatch' ? args.targets.batchSize : N;
  const sampled = minibatch && args.noiseTarget === 'sampled';
  const out = {
    queries: Q,
    lse: new Float64Array(R * Q),
    loss: new Float64Array(R * Q),
    zTrue: new Float64Array(R * Q),
    pTrue: new Float64Array(R * Q),
    correct: new Float64Array(R * Q),
    margin: new Float64Array(R * Q),
    o: new Float64Array(R * Q * dOut),
    G: new Float64Array(R * dOut * dIn),
    logitMagnitude: new Float64Array(R * Q),
    expArgument: new Float64Array(R * Q),
    oMagnitude: new Float64Array(R * Q * dOut),
    residual: new Float64Array(R * Q * dOut),
    weight: new Float64Array(R * Q),
    item: new Uint32Array(R * Q),
  };
  const eBar = new Float64Array(dOut);
  for (let j = 0; j < N; j++) for (let k = 0; k < dOut; k++) eBar[k] += Et[j * dOut + k] / N;
  const absEt = Float64Array.from(Et as ArrayLike<number>, Math.abs);
  const z = new Float64Array(N);
  const zMag = new Float64Array(N);
  const h = new Float64Array(dOut);
  const hMag = new Float64Array(dOut);
  const p = new Float64Array(N);
  for (let r = 0; r < R; r++) {
    const w0 = r * dOut * dIn;
    for (let q = 0; q < Q; q++) {
      const rq = r * Q + q;
      const t = args.targets;
      const item = t.kind === 'minibatch' ? t.items[rq] : q;
      const label = t.kind === 'minibatch' ? t.labels[rq] : q;
      const weight = t.kind === 'minibatch' ? 1 / t.batchSize : t.weights[q];
      out.item[rq] = item;
      out.weight[rq] = weight;
      for (let k = 0; k < dOut; k++) {
        let s = 0;
        let a = 0;
        for (let c = 0; c < dIn; c++) {
          s += W[w0 + k * dIn + c] * E[item * dIn + c];
          a += Math.abs(W[w0 + k * dIn + c] * E[item * dIn + c]);
        }
        h[k] = s;
        hMag[k] = a;
      }
      let m = -Infinity;
      let magMax = 0;
      for (let j = 0; j < N; j++) {
        let s = 0;
        let a = 0;
        for (let k = 0; k < dOut; k++) {
          s += Et[j * dOut + k] * h[k];
          a += absEt[j * dOut + k] * hMag[k];
        }
        z[j] = s;
        zMag[j] = a;
        m = Math.max(m, s);
        magMax = Math.max(magMax, a);
      }
      let sum = 0;
      for (let j = 0; j < N; j++) sum += Math.exp(z[j] - m);
      let expArg = 0;
      for (let j = 0; j < N; j++) {
        p[j] = Math.exp(z[j] - m) / sum;
        if (p[j] > 0) expArg = Math.max(expArg, m - z[j]);
      }
      let other = -Infinity;
      for (let j = 0; j < N; j++) if (j !== item) other = Math.max(other, z[j]);
      out.lse[rq] = m + Math.log(sum);
      out.loss[rq] = queryLoss(z, item, sampled ? { noise, label } : { noise });
      out.zTrue[rq] = z[item];
      let excl = 0;
      for (let j = 0; j < N; j++) if (j !== item) excl += Math.exp(z[j] - z[item]);
      out.pTrue[rq] = 1 / (1 + excl);
      out.margin[rq] = z[item] - other;
      out.correct[rq] = z[item] > other ? 1 : 0;
      out.logitMagnitude[rq] = magMax;
      out.expArgument[rq] = expArg;
      for (let k = 0; k < dOut; k++) {
        let o = 0;
        let a = 0;
        for (let j = 0; j < N; j++) {
          o += p[j] * Et[j * dOut + k];
          a += p[j] * absEt[j * dOut + k];
        }
        const target = sampled ? Et[label * dOut + k] : (1 - noise) * Et[item * dOut + k] + noise * eBar[k];
        out.o[rq * dOut + k] = o;
        out.oMagnitude[rq * dOut + k] = a;
        out.residual[rq * dOut + k] = weight * (o - target);
      }
      for (let k = 0; k < dOut; k++) {
        const rk = out.residual[rq * dOut + k];
        if (rk === 0) continue;
        for (let c = 0; c < dIn; c++) out.G[w0 + k * dIn + c] += rk * E[item * dIn + c];
      }
    }
  }
  return out;
}

/**
 * The loss L(W) the gradient above differentiates: Σ_q w_q · loss_q. For the finite-difference
 * check of the reference itself.
 */
export function softmaxLossCpu(args: SoftmaxGradCpuArgs): number[] {
  const r = softmaxGradCpu(args);
  const totals: number[] = [];
  for (let run = 0; run < args.runs; run++) {
    let s = 0;
    for (let q = 0; q < r.queries; q++) s += r.weight[run * r.queries + q] * r.loss[run * r.queries + q];
    totals.push(s);
  }
  return totals;
}
