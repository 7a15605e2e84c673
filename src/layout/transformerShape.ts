/**
 * GPU-free shape rules of the transformer of docs/transformer.md §2, shared by the GPU model
 * (src/model/), its kernels (src/kernels/transformer/) and the Float64 twin (src/cpu/transformer*.ts):
 * the named matrices and their shapes, the MLP's hidden size, the parameter and activation counts and
 * the FLOP model that tokens/s and GFLOP/s are reported against.
 *
 * Every matrix is stored out × in (rows = outputs), as W of the associative memory: a linear map is
 * `y = x·Wᵀ` on row-major activations [tokens, in].
 */

/** The MLP forms: ReLU² and GELU with W_in ∈ ℝ^{4d×d}; SwiGLU with W_gate and W_in of ⌈⌊8d/3⌋⌉₈ rows. */
export const MLP_KINDS = ['relu2', 'gelu', 'swiglu'] as const;
export type MlpKind = (typeof MLP_KINDS)[number];

/** The largest sequence length the attention kernels support (they materialise T×T per head). */
export const MAX_SEQ_LEN = 512;

export interface TransformerDims {
  /** Blocks L. */
  layers: number;
  /** Model width d. */
  dModel: number;
  /** Heads H (d divisible by H). */
  heads: number;
  /** Vocabulary V (the head's outputs). */
  vocab: number;
  /** Positions P has rows for (T_max ≤ MAX_SEQ_LEN). */
  maxSeqLen: number;
  mlp: MlpKind;
}

/** Kinds of matrix, in the fixed order of their Philox streams (docs/math.md §6: never renumber). */
export const MATRIX_KINDS = ['embed', 'pos', 'head', 'q', 'k', 'v', 'o', 'in', 'gate', 'out'] as const;
export type MatrixKind = (typeof MATRIX_KINDS)[number];

export interface MatrixSpec {
  /** `embed`, `pos`, `head` or `layer.{l}.{q,k,v,o,in,gate,out}`. */
  name: string;
  kind: MatrixKind;
  /** Block index, -1 for embed, pos and head. */
  layer: number;
  rows: number;
  cols: number;
  /** Standard deviation of the initial normal entries (docs/transformer.md §2). */
  initStd: number;
}

/**
 * The hidden size of the MLP: 4d, or for SwiGLU ⌊8d/3⌋ rounded up to a multiple of 8 (so the gated
 * MLP has about the parameters of the plain one: 3·(8d/3)·d = 8d²).
 *
 * @example
 * mlpHidden(64, 'relu2'); // 256
 * mlpHidden(64, 'swiglu'); // 176 (⌊512/3⌋ = 170 → 176)
 */
export function mlpHidden(dModel: number, mlp: MlpKind): number {
  if (mlp !== 'swiglu') return 4 * dModel;
  return 8 * Math.ceil(Math.floor((8 * dModel) / 3) / 8);
}

/**
 * Checks the dimensions; throws a RangeError naming the field (`model.heads`) and what is allowed.
 *
 * @example
 * validateDims({ layers: 2, dModel: 10, heads: 3, vocab: 11, maxSeqLen: 8, mlp: 'relu2' });
 * // RangeError: model.heads: d = 10 is not divisible by heads = 3 (allowed: a divisor of 10: 1, 2, 5, 10)
 */
export function validateDims(dims: TransformerDims, field = 'model'): void {
  const positive: [keyof TransformerDims, number][] = [
    ['layers', 1],
    ['dModel', 1],
    ['heads', 1],
    ['vocab', 2],
    ['maxSeqLen', 1],
  ];
  for (const [key, min] of positive) {
    const v = dims[key] as number;
    if (!Number.isInteger(v) || v < min) throw new RangeError(`${field}.${key}: must be an integer ≥ ${min}, got ${v}`);
  }
  if (dims.dModel % dims.heads !== 0) {
    const divisors = Array.from({ length: dims.dModel }, (_, i) => i + 1).filter((h) => dims.dModel % h === 0);
    throw new RangeError(
      `${field}.heads: d = ${dims.dModel} is not divisible by heads = ${dims.heads} (allowed: a divisor of ${dims.dModel}: ${divisors.join(', ')})`,
    );
  }
  if (dims.maxSeqLen > MAX_SEQ_LEN) {
    throw new RangeError(
      `${field}.maxSeqLen: ${dims.maxSeqLen} is above ${MAX_SEQ_LEN}, the longest sequence the attention kernels support (they hold T×T scores per head)`,
    );
  }
  if (!(MLP_KINDS as readonly string[]).includes(dims.mlp)) {
    throw new RangeError(`${field}.mlp: unknown MLP "${String(dims.mlp)}" (allowed: ${MLP_KINDS.join(', ')})`);
  }
}

/** Checks a sequence length against the configured maximum; names `field`. */
export function validateSeqLen(seqLen: number, dims: TransformerDims, field = 'training.seqLen'): void {
  if (!Number.isInteger(seqLen) || seqLen < 1) throw new RangeError(`${field}: must be an integer ≥ 1, got ${seqLen}`);
  if (seqLen > dims.maxSeqLen) {
    throw new RangeError(`${field}: T = ${seqLen} is above model.maxSeqLen = ${dims.maxSeqLen} (allowed: 1 … ${dims.maxSeqLen})`);
  }
}

/**
 * Every named matrix of the model in canonical order: embed, pos, then per block q, k, v, o, in,
 * (gate,) out, then head. Initial std 1/√fan_in; a lookup table's fan-in is 1 (a one-hot input), so
 * embed and pos start at std 1; W_O and W_out are scaled by 1/√(2L).
 *
 * @example
 * transformerMatrices(dims).map((m) => m.name); // ['embed', 'pos', 'layer.0.q', …, 'head']
 */
export function transformerMatrices(dims: TransformerDims): MatrixSpec[] {
  const { layers: L, dModel: d, vocab: V, maxSeqLen: T } = dims;
  const hid = mlpHidden(d, dims.mlp);
  const residual = 1 / Math.sqrt(2 * L);
  const out: MatrixSpec[] = [
    { name: 'embed', kind: 'embed', layer: -1, rows: V, cols: d, initStd: 1 },
    { name: 'pos', kind: 'pos', layer: -1, rows: T, cols: d, initStd: 1 },
  ];
  for (let l = 0; l < L; l++) {
    const m = (kind: MatrixKind, rows: number, cols: number, scale = 1): MatrixSpec => ({
      name: `layer.${l}.${kind}`,
      kind,
      layer: l,
      rows,
      cols,
      initStd: scale / Math.sqrt(cols),
    });
    out.push(m('q', d, d), m('k', d, d), m('v', d, d), m('o', d, d, residual), m('in', hid, d));
    if (dims.mlp === 'swiglu') out.push(m('gate', hid, d));
    out.push(m('out', d, hid, residual));
  }
  out.push({ name: 'head', kind: 'head', layer: -1, rows: V, cols: d, initStd: 1 / Math.sqrt(d) });
  return out;
}

/** Parameters of one replica (all matrices). */
export function parameterCount(dims: TransformerDims): number {
  return transformerMatrices(dims).reduce((n, m) => n + m.rows * m.cols, 0);
}

/**
 * Parameters that take part in matrix products per token (all but the two lookup tables): the N of
 * the usual 6·N·tokens training FLOP estimate.
 */
export function matmulParameterCount(dims: TransformerDims): number {
  return transformerMatrices(dims)
    .filter((m) => m.kind !== 'embed' && m.kind !== 'pos')
    .reduce((n, m) => n + m.rows * m.cols, 0);
}

/**
 * Training FLOPs of one step of one replica: 6·N·tokens (forward 2N, backward 4N per token, N the
 * matmul parameters) plus causal attention, 6·L·d·T(T+1)/2·rows·2 (scores and weighted sum, forward
 * ×1 and backward ×2). The figure tokens/s and GFLOP/s are reported against (issue 12).
 *
 * @example
 * trainingFlops(dims, { rows: 8, seqLen: 64 });
 */
export function trainingFlops(dims: TransformerDims, batch: { rows: number; seqLen: number }): number {
  const tokens = batch.rows * batch.seqLen;
  const T = batch.seqLen;
  const attention = 6 * dims.layers * dims.dModel * ((T * (T + 1)) / 2) * 2 * batch.rows;
  return 6 * matmulParameterCount(dims) * tokens + attention;
}

/**
 * Activation floats kept for the backward pass per replica (rows·T tokens): per block the two norms'
 * outputs and inverse RMS, q, k, v, the attention output, the T×T probabilities per head, the MLP's
 * pre-activations and activations; then the final norm. What peak memory is compared against.
 */
export function activationCount(dims: TransformerDims, batch: { rows: number; seqLen: number }): number {
  const n = batch.rows * batch.seqLen;
  const d = dims.dModel;
  const hid = mlpHidden(d, dims.mlp);
  const pre = dims.mlp === 'swiglu' ? 2 * hid : hid;
  const perLayer = 2 * (n * d + n) + 4 * n * d + batch.rows * dims.heads * batch.seqLen * batch.seqLen + pre * n + hid * n;
  return dims.layers * perLayer + n * d + n + n * d;
}
