/**
 * Float64 twins of the transformer kernels (shaders/transformer/, src/kernels/transformer/), one
 * replica at a time, written for clarity: the same formulas in the same order as the WGSL, on
 * row-major [tokens, width] arrays with tokens = rows·T (sequence b, position t at b·T + t).
 *
 * RMSNorm has no gain: y = x / √(mean(x²) + ε). Attention is causal with scale 1/√(d/H); head h owns
 * columns [h·d/H, (h+1)·d/H) of q, k, v and of its output. GELU is the tanh form (WGSL has no erf; the
 * GPU evaluates the same formula).
 */

/** RMSNorm's ε (inside the square root), shared with the WGSL through the kernel's uniforms. */
export const RMSNORM_EPS = 1e-6;

/**
 * x[b·T + t, :] = E[token, :] + P[t, :]; a token outside [0, V) gives a NaN row (as gather_rows).
 *
 * @example
 * embedForwardCpu(E, P, Uint32Array.of(3, 1), { vocab: 5, dModel: 4, rows: 1, seqLen: 2 });
 */
export function embedForwardCpu(
  E: ArrayLike<number>,
  P: ArrayLike<number>,
  tokens: ArrayLike<number>,
  s: { vocab: number; dModel: number; rows: number; seqLen: number },
): Float64Array {
  const { dModel: d, rows, seqLen: T, vocab: V } = s;
  const x = new Float64Array(rows * T * d);
  for (let n = 0; n < rows * T; n++) {
    const tok = tokens[n];
    const t = n % T;
    for (let k = 0; k < d; k++) x[n * d + k] = tok < V ? E[tok * d + k] + P[t * d + k] : NaN;
  }
  return x;
}

/**
 * dE[v, :] = Σ over positions n with token v (ascending n) of dx[n, :]: the deterministic order the
 * GPU's scatter-add sums in (positions sorted by token, then by position; no atomics).
 */
export function embedBackwardCpu(dx: ArrayLike<number>, tokens: ArrayLike<number>, s: { vocab: number; dModel: number }): Float64Array {
  const { vocab: V, dModel: d } = s;
  const dE = new Float64Array(V * d);
  for (let n = 0; n < tokens.length; n++) {
    const v = tokens[n];
    if (v >= V) continue;
    for (let k = 0; k < d; k++) dE[v * d + k] += dx[n * d + k];
  }
  return dE;
}

/** dP[t, :] = Σ_b dx[b·T + t, :] (b ascending) for t < T; rows T … maxSeqLen−1 are 0. */
export function posBackwardCpu(
  dx: ArrayLike<number>,
  s: { dModel: number; rows: number; seqLen: number; maxSeqLen: number },
): Float64Array {
  const { dModel: d, rows, seqLen: T } = s;
  const dP = new Float64Array(s.maxSeqLen * d);
  for (let b = 0; b < rows; b++) {
    for (let t = 0; t < T; t++) for (let k = 0; k < d; k++) dP[t * d + k] += dx[(b * T + t) * d + k];
  }
  return dP;
}

/** y = x·r with r = 1/√(mean(x²) + ε) per row; returns y and r (what the backward pass keeps). */
export function rmsnormForwardCpu(x: ArrayLike<number>, n: number, d: number, eps = RMSNORM_EPS): { y: Float64Array; rstd: Float64Array } {
  const y = new Float64Array(n * d);
  const rstd = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let ss = 0;
    for (let k = 0; k < d; k++) ss += x[i * d + k] ** 2;
    const r = 1 / Math.sqrt(ss / d + eps);
    rstd[i] = r;
    for (let k = 0; k < d; k++) y[i * d + k] = x[i * d + k] * r;
  }
  return { y, rstd };
}

/** dx = r·(dy − y·mean(dy ⊙ y)) per row, from the forward's y and r (x itself is not kept). */
export function rmsnormBackwardCpu(
  dy: ArrayLike<number>,
  y: ArrayLike<number>,
  rstd: ArrayLike<number>,
  n: number,
  d: number,
): Float64Array {
  const dx = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    let dot = 0;
    for (let k = 0; k < d; k++) dot += dy[i * d + k] * y[i * d + k];
    const mean = dot / d;
    for (let k = 0; k < d; k++) dx[i * d + k] = rstd[i] * (dy[i * d + k] - y[i * d + k] * mean);
  }
  return dx;
}

export interface AttentionShape {
  rows: number;
  seqLen: number;
  dModel: number;
  heads: number;
}

/**
 * Causal multi-head attention: per sequence b, head h, query i: s_j = q_i·k_j/√dh for j ≤ i,
 * p = softmax(s), out_i = Σ_j p_j v_j. Returns P [rows, H, T, T] (0 above the diagonal), the output
 * [rows·T, d] and each row's largest logit (MaxLogit) [rows, H, T].
 */
export function attentionForwardCpu(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  s: AttentionShape,
): { P: Float64Array; out: Float64Array; rowMax: Float64Array } {
  const { rows, seqLen: T, dModel: d, heads: H } = s;
  const dh = d / H;
  const scale = 1 / Math.sqrt(dh);
  const P = new Float64Array(rows * H * T * T);
  const out = new Float64Array(rows * T * d);
  const rowMax = new Float64Array(rows * H * T);
  for (let b = 0; b < rows; b++) {
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < T; i++) {
        const pRow = ((b * H + h) * T + i) * T;
        let m = -Infinity;
        for (let j = 0; j <= i; j++) {
          let dot = 0;
          for (let c = 0; c < dh; c++) dot += q[(b * T + i) * d + h * dh + c] * k[(b * T + j) * d + h * dh + c];
          P[pRow + j] = dot * scale;
          m = Math.max(m, P[pRow + j]);
        }
        rowMax[(b * H + h) * T + i] = m;
        let sum = 0;
        for (let j = 0; j <= i; j++) {
          P[pRow + j] = Math.exp(P[pRow + j] - m);
          sum += P[pRow + j];
        }
        for (let j = 0; j <= i; j++) P[pRow + j] /= sum;
        for (let c = 0; c < dh; c++) {
          let acc = 0;
          for (let j = 0; j <= i; j++) acc += P[pRow + j] * v[(b * T + j) * d + h * dh + c];
          out[(b * T + i) * d + h * dh + c] = acc;
        }
      }
    }
  }
  return { P, out, rowMax };
}

/**
 * The backward pass of attentionForwardCpu from dOut: dP_ij = dOut_i·v_j, dS_ij = P_ij(dP_ij − Σ_j' P_ij' dP_ij'),
 * dq_i = Σ_j dS_ij k_j/√dh, dk_j = Σ_{i≥j} dS_ij q_i/√dh, dv_j = Σ_{i≥j} P_ij dOut_i.
 */
export function attentionBackwardCpu(
  dOut: ArrayLike<number>,
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  P: ArrayLike<number>,
  s: AttentionShape,
): { dq: Float64Array; dk: Float64Array; dv: Float64Array } {
  const { rows, seqLen: T, dModel: d, heads: H } = s;
  const dh = d / H;
  const scale = 1 / Math.sqrt(dh);
  const dq = new Float64Array(rows * T * d);
  const dk = new Float64Array(rows * T * d);
  const dv = new Float64Array(rows * T * d);
  const dS = new Float64Array(T);
  for (let b = 0; b < rows; b++) {
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < T; i++) {
        const pRow = ((b * H + h) * T + i) * T;
        const at = (n: number, c: number) => (b * T + n) * d + h * dh + c;
        let D = 0;
        for (let j = 0; j <= i; j++) {
          let dp = 0;
          for (let c = 0; c < dh; c++) dp += dOut[at(i, c)] * v[at(j, c)];
          dS[j] = dp;
          D += P[pRow + j] * dp;
        }
        for (let j = 0; j <= i; j++) {
          const ds = P[pRow + j] * (dS[j] - D) * scale;
          for (let c = 0; c < dh; c++) {
            dq[at(i, c)] += ds * k[at(j, c)];
            dk[at(j, c)] += ds * q[at(i, c)];
            dv[at(j, c)] += P[pRow + j] * dOut[at(i, c)];
          }
        }
      }
    }
  }
  return { dq, dk, dv };
}

/** The plain MLP activations. */
export type ActivationKind = 'relu2' | 'gelu';

const GELU_C = Math.sqrt(2 / Math.PI);

/** act(x): ReLU² = max(x, 0)², GELU (tanh form) = ½x(1 + tanh(√(2/π)(x + 0.044715x³))). */
export function activationCpu(kind: ActivationKind, x: number): number {
  if (kind === 'relu2') return x > 0 ? x * x : 0;
  return 0.5 * x * (1 + Math.tanh(GELU_C * (x + 0.044715 * x ** 3)));
}

/** act′(x). */
export function activationDerivativeCpu(kind: ActivationKind, x: number): number {
  if (kind === 'relu2') return x > 0 ? 2 * x : 0;
  const u = GELU_C * (x + 0.044715 * x ** 3);
  const t = Math.tanh(u);
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_C * (1 + 3 * 0.044715 * x * x);
}

/** a = act(pre) elementwise. */
export function activationForwardCpu(kind: ActivationKind, pre: ArrayLike<number>): Float64Array {
  return Float64Array.from(pre, (x) => activationCpu(kind, x));
}

/** dpre = dact ⊙ act′(pre). */
export function activationBackwardCpu(kind: ActivationKind, dact: ArrayLike<number>, pre: ArrayLike<number>): Float64Array {
  return Float64Array.from(pre, (x, i) => dact[i] * activationDerivativeCpu(kind, x));
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** SwiGLU: a = silu(g) ⊙ u with silu(g) = g·σ(g). */
export function swigluForwardCpu(gate: ArrayLike<number>, up: ArrayLike<number>): Float64Array {
  return Float64Array.from(gate, (g, i) => g * sigmoid(g) * up[i]);
}

/** dgate = da ⊙ u ⊙ σ(g)(1 + g(1 − σ(g))), dup = da ⊙ silu(g). */
export function swigluBackwardCpu(
  da: ArrayLike<number>,
  gate: ArrayLike<number>,
  up: ArrayLike<number>,
): { dgate: Float64Array; dup: Float64Array } {
  const dgate = new Float64Array(gate.length);
  const dup = new Float64Array(gate.length);
  for (let i = 0; i < gate.length; i++) {
    const g = gate[i];
    const s = sigmoid(g);
    dgate[i] = da[i] * up[i] * s * (1 + g * (1 - s));
    dup[i] = da[i] * g * s;
  }
  return { dgate, dup };
}

/** x ← x + α·y (the residual add), in place. */
export function residualAddCpu(x: Float64Array, y: ArrayLike<number>, alpha = 1): Float64Array {
  for (let i = 0; i < x.length; i++) x[i] += alpha * y[i];
  return x;
}

export interface LmHeadCpuResult {
  /** Σ_n w_n·(−log p_n(y_n)). */
  loss: number;
  /** Per position: −log p(y), lse, strict argmax flag (z_y > every other logit). */
  nll: Float64Array;
  lse: Float64Array;
  correct: Uint8Array;
  /** dL/dh [N, d] and dL/dW_head [V, d]. */
  dh: Float64Array;
  dW: Float64Array;
}

/**
 * The LM head: logits z = h·Wᵀ (h [N, d], W [V, d]), per-position weights w (mean over targets:
 * w = mask/Σmask), loss Σ w·CE, and both gradients: dh_n = w_n(Σ_j p_nj W_j − W_{y_n}),
 * dW_j = Σ_n w_n(p_nj − [j = y_n]) h_n.
 */
export function lmHeadCpu(
  h: ArrayLike<number>,
  W: ArrayLike<number>,
  targets: ArrayLike<number>,
  weights: ArrayLike<number>,
  s: { tokens: number; dModel: number; vocab: number },
): LmHeadCpuResult {
  const { tokens: N, dModel: d, vocab: V } = s;
  const nll = new Float64Array(N);
  const lse = new Float64Array(N);
  const correct = new Uint8Array(N);
  const dh = new Float64Array(N * d);
  const dW = new Float64Array(V * d);
  const z = new Float64Array(V);
  let loss = 0;
  for (let n = 0; n < N; n++) {
    let m = -Infinity;
    for (let j = 0; j < V; j++) {
      let dot = 0;
      for (let c = 0; c < d; c++) dot += h[n * d + c] * W[j * d + c];
      z[j] = dot;
      m = Math.max(m, dot);
    }
    let sum = 0;
    for (let j = 0; j < V; j++) sum += Math.exp(z[j] - m);
    lse[n] = m + Math.log(sum);
    const y = targets[n];
    nll[n] = lse[n] - z[y];
    let other = -Infinity;
    for (let j = 0; j < V; j++) if (j !== y) other = Math.max(other, z[j]);
    correct[n] = z[y] > other ? 1 : 0;
    const w = weights[n];
    loss += w * nll[n];
    for (let j = 0; j < V; j++) {
      const g = w * (Math.exp(z[j] - lse[n]) - (j === y ? 1 : 0));
      for (let c = 0; c < d; c++) {
        dh[n * d + c] += g * W[j * d + c];
        dW[j * d + c] += g * h[n * d + c];
      }
    }
  }
  return { loss, nll, lse, correct, dh, dW };
}
