/**
 * The control source of docs/transformer.md §4: in-context linear regression, a task that lives in
 * the attention's Q, K (the answer is read from the context, not stored in the weights).
 *
 * A sequence is (x₁, y₁, x₂, y₂, …) for one task vector w_j ∈ ℝ^{dx}, y_k = w_j·x_k/√dx. Positions
 * are not looked-up tokens alone: each position's input is a marker token's embedding plus a
 * d-dimensional vector from a fixed linear read-in R ∈ ℝ^{d×(dx+1)} of the position's values —
 * [x_k; 0] at an x position, [0; y_k] at a y position (the y position's token is y_k's bin, the
 * x position's the marker X). The model predicts, at each x_k position, the bin of y_k among B
 * equal-width bins on [−2, 2) (values outside go to the end bins): a classification head on a
 * regression, so the engine's softmax cross-entropy serves it unchanged.
 *
 * The tail: tasks are drawn with probability ∝ (j + 1)^−α from K fixed task vectors, exactly as
 * individuals are in the knowledge corpus, so "accuracy by task frequency bucket" is the control's
 * analogue of FTA by individual bucket. A model that solves the task in context has no reason to do
 * worse on rare tasks; one that memorises w_j does. [B]'s claim is that Muon shows no tail advantage
 * here.
 *
 * Determinism: every value comes from u32 Philox draws mapped to uniforms (exact in f32 and f64) and
 * IEEE products and sums in a fixed order, so the batches are bit-identical on every host.
 */
import { philoxDraw, PHILOX_STREAMS, u32ToUniform } from '../cpu/philox';
import { frequencies } from '../task/frequencies';
import { itemFromThresholds, samplingThresholds } from '../task/sampling';
import type { TokenBatch, TokenSource } from './data';

export interface RegressionSourceConfig {
  kind: 'regression';
  /** K ≥ 2 task vectors. */
  tasks: number;
  /** dx ≥ 1. */
  inputDim: number;
  /** B ≥ 2 bins of y on [−2, 2). */
  bins: number;
  /** Power-law exponent α ≥ 0 of the tasks' frequencies. */
  alpha: number;
  seed: number;
  shared: boolean;
}

/** Tokens: PAD, the x marker, then the B bins. */
export const REGRESSION_PAD = 0;
export const REGRESSION_X = 1;
const BIN_BASE = 2;

/** √3: a uniform on [−√3, √3) has unit variance. */
const SQRT3 = Math.sqrt(3);

/**
 * Field-named checks of a regression config (before any GPU work).
 *
 * @example
 * validateRegressionConfig({ kind: 'regression', tasks: 1, inputDim: 2, bins: 8, alpha: 1, seed: 0, shared: false });
 * // RangeError: data.tasks: K = 1 …
 */
export function validateRegressionConfig(c: RegressionSourceConfig, field = 'data'): void {
  if (!Number.isInteger(c.tasks) || c.tasks < 2)
    throw new RangeError(`${field}.tasks: K = ${c.tasks}: at least 2 task vectors (allowed: integers ≥ 2)`);
  if (!Number.isInteger(c.inputDim) || c.inputDim < 1) throw new RangeError(`${field}.inputDim: ${c.inputDim}: must be an integer ≥ 1`);
  if (!Number.isInteger(c.bins) || c.bins < 2) throw new RangeError(`${field}.bins: ${c.bins}: at least 2 bins`);
  if (!(c.alpha >= 0) || !Number.isFinite(c.alpha))
    throw new RangeError(`${field}.alpha: α = ${c.alpha}: the power-law exponent must be ≥ 0 (0 is uniform)`);
}

/** The bin of y among B equal-width bins on [−2, 2) (the ends take what falls outside). */
export function regressionBin(y: number, bins: number): number {
  return Math.min(bins - 1, Math.max(0, Math.floor(((y + 2) / 4) * bins)));
}

/** Uniform on [−√3, √3) from one u32 (exact). */
function centred(x: number): number {
  return (2 * u32ToUniform(x) - 1) * SQRT3;
}

/** The in-context regression corpus of a config, for a model of width d. */
export class RegressionCorpus {
  /** Task vectors, K × dx row-major. */
  readonly w: Float64Array;
  /** The read-in R, d × (dx + 1) row-major: column c < dx reads x_c, column dx reads y. */
  readonly readIn: Float64Array;
  readonly p: Float64Array;
  private readonly thresholds: Uint32Array;

  constructor(
    readonly config: RegressionSourceConfig,
    readonly dModel: number,
  ) {
    validateRegressionConfig(config);
    const { tasks: K, inputDim: dx, seed } = config;
    this.w = new Float64Array(K * dx);
    for (let k = 0; k < K * dx; k++) this.w[k] = centred(philoxDraw(seed, PHILOX_STREAMS.regressionTasks, Math.floor(k / 4))[k % 4]);
    const cols = dx + 1;
    this.readIn = new Float64Array(dModel * cols);
    // Entries of variance 1/(dx + 1): a read-in vector has about unit norm per unit input, like an embedding row.
    for (let k = 0; k < dModel * cols; k++)
      this.readIn[k] = centred(philoxDraw(seed, PHILOX_STREAMS.regressionReadIn, Math.floor(k / 4))[k % 4]) / Math.sqrt(cols);
    this.p = frequencies(K, config.alpha === 0 ? { kind: 'uniform' } : { kind: 'power', powerExponent: config.alpha });
    this.thresholds = samplingThresholds(this.p, 'data.alpha');
  }

  get vocab(): number {
    return BIN_BASE + this.config.bins;
  }

  streamSeed(replica: number): number {
    return (this.config.seed + (this.config.shared ? 0 : replica + 1)) >>> 0;
  }

  /**
   * Rows from a stream: row b draws its task from (b, counter) lane 0, and x_k's entries from draws
   * (b·T + 1 + k·⌈dx/4⌉ + …, counter). `task` forces every row's task (evaluation per task).
   */
  private rows(stream: number, seed: number, counter: number, rows: number, T: number, task?: number): TokenBatch & { task: Uint32Array } {
    const { inputDim: dx, bins } = this.config;
    const d = this.dModel;
    const N = rows * T;
    const inputs = new Uint32Array(N);
    const targets = new Uint32Array(N);
    const weights = new Float32Array(N);
    const readIn = new Float32Array(N * d);
    const taskOf = new Uint32Array(rows);
    const pairs = Math.floor(T / 2);
    const drawsPerX = Math.ceil(dx / 4);
    const x = new Float64Array(dx);
    for (let b = 0; b < rows; b++) {
      const j = task ?? itemFromThresholds(philoxDraw(seed, stream, b * T, counter)[0], this.thresholds);
      taskOf[b] = j;
      for (let k = 0; k < pairs; k++) {
        for (let c = 0; c < dx; c++)
          x[c] = centred(philoxDraw(seed, stream, b * T + 1 + k * drawsPerX + Math.floor(c / 4), counter)[c % 4]);
        let y = 0;
        for (let c = 0; c < dx; c++) y += this.w[j * dx + c] * x[c];
        y /= Math.sqrt(dx);
        const bin = regressionBin(y, bins);
        const tx = b * T + 2 * k;
        inputs[tx] = REGRESSION_X;
        inputs[tx + 1] = BIN_BASE + bin;
        targets[tx] = BIN_BASE + bin;
        weights[tx] = 1;
        // y position: its target (the next marker) is not scored.
        targets[tx + 1] = k + 1 < pairs ? REGRESSION_X : REGRESSION_PAD;
        for (let r = 0; r < d; r++) {
          let s = 0;
          for (let c = 0; c < dx; c++) s += this.readIn[r * (dx + 1) + c] * x[c];
          readIn[tx * d + r] = s;
          readIn[(tx + 1) * d + r] = this.readIn[r * (dx + 1) + dx] * y;
        }
      }
    }
    return { inputs, targets, weights, readIn, task: taskOf };
  }

  trainingBatch(step: number, replica: number, rows: number, T: number): TokenBatch & { task: Uint32Array } {
    return this.rows(PHILOX_STREAMS.regressionData, this.streamSeed(replica), step, rows, T);
  }

  /** Evaluation rows with held-out inputs: `task` forces the task of every row (per-task accuracy). */
  evaluationBatch(k: number, rows: number, T: number, task?: number): TokenBatch & { task: Uint32Array } {
    return this.rows(PHILOX_STREAMS.regressionValidation, this.config.seed, k, rows, T, task);
  }

  /**
   * How many training sequences drew each task in updates 0 … steps−1 (exact, from the batch function).
   *
   * @example
   * corpus.exposures(0, 50, 8, 32)[0]; // sequences of the most frequent task
   */
  exposures(replica: number, steps: number, rows: number, T: number): Uint32Array {
    const out = new Uint32Array(this.config.tasks);
    const seed = this.streamSeed(replica);
    for (let t = 0; t < steps; t++)
      for (let b = 0; b < rows; b++)
        out[itemFromThresholds(philoxDraw(seed, PHILOX_STREAMS.regressionData, b * T, t)[0], this.thresholds)]++;
    return out;
  }

  /**
   * The trainer's source: batches carry `readIn` (the fixed read-in of each position's values, [N, d]).
   *
   * @example
   * new RegressionCorpus(config, 64).source().batch(0, 0, 8, 32).readIn!.length; // 8·32·64
   */
  source(): TokenSource & { corpus: RegressionCorpus } {
    const c = this.config;
    return {
      corpus: this,
      vocab: this.vocab,
      readIn: true,
      description: `regression(K=${c.tasks}, dx=${c.inputDim}, B=${c.bins}, α=${c.alpha}, seed=${c.seed})`,
      batch: (step, replica, rows, T) => {
        const { inputs, targets, weights, readIn } = this.trainingBatch(step, replica, rows, T);
        return { inputs, targets, weights, readIn };
      },
    };
  }
}

/** Vocabulary size of a regression config. */
export function regressionVocabSize(c: Pick<RegressionSourceConfig, 'bins'>): number {
  return BIN_BASE + c.bins;
}
