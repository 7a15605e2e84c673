/**
 * Where the transformer's tokens come from. A `TokenSource` turns (step, replica) into a batch of
 * input tokens, next-token targets and per-position weights (1 = a target the loss counts), as a pure
 * function of its config: the data cursor of a checkpoint is the step number (plus `state()` for a
 * source that keeps counts). The knowledge corpus of issue 13 plugs in here as another source.
 *
 * This source is a seeded first-order Markov chain: each token has `branching` successors
 * (drawn from a Philox stream) with probabilities ∝ 1/(k + 1), so the next token is learnable from
 * the current one and the loss has a floor above 0 (the chain's entropy rate).
 *
 * Issue 13 adds two sources: the heavy-tailed knowledge corpus (src/model/knowledge.ts) and the
 * in-context regression control (src/model/regression.ts), whose positions also carry a fixed
 * read-in vector (`readIn`) added to the token embedding.
 */
import { philoxDraw, PHILOX_STREAMS, u32ToUniform } from '../cpu/philox';
import { KnowledgeCorpus, knowledgeVocabSize, type KnowledgeSourceConfig } from './knowledge';
import { RegressionCorpus, regressionVocabSize, type RegressionSourceConfig } from './regression';

/** One batch: rows sequences of seqLen positions, row-major (b·T + t). */
export interface TokenBatch {
  inputs: Uint32Array<ArrayBuffer>;
  targets: Uint32Array<ArrayBuffer>;
  /** 1 where the position is a target, 0 where the loss ignores it. */
  weights: Float32Array<ArrayBuffer>;
  /**
   * Per position a d-vector added to the token's embedding (the regression source's fixed read-in of
   * continuous inputs), [rows·T, d] row-major; absent for pure token sources.
   */
  readIn?: Float32Array<ArrayBuffer>;
}

export interface TokenSource {
  /** Tokens emitted are in [0, vocab): the model's V must be at least this. */
  readonly vocab: number;
  readonly description: string;
  /** Whether batches carry `readIn` (the model then adds it after the embedding lookup). */
  readonly readIn?: boolean;
  /** The batch of step `step` (0-based) for replica `replica`. */
  batch(step: number, replica: number, rows: number, seqLen: number): TokenBatch;
  /** JSON state beyond the step number (counts kept by the source), for checkpoints; none here. */
  state?(): unknown;
  restore?(state: unknown): void;
}

export interface MarkovSourceConfig {
  kind: 'markov';
  vocab: number;
  /** Successors per token (1 = a deterministic chain). */
  branching: number;
  seed: number;
  /** Every step trains on step 0's batch (overfitting checks). */
  fixedBatch: boolean;
  /** One data stream for every replica (true) or one per replica (seed + replica). */
  shared: boolean;
}

export type DataConfig = MarkovSourceConfig | KnowledgeSourceConfig | RegressionSourceConfig;

/**
 * The vocabulary a data config emits (the model's V must be at least this).
 *
 * @example
 * dataVocab({ kind: 'markov', vocab: 16, branching: 3, seed: 1, fixedBatch: false, shared: true }); // 16
 */
export function dataVocab(c: DataConfig): number {
  if (c.kind === 'knowledge') return knowledgeVocabSize(c);
  if (c.kind === 'regression') return regressionVocabSize(c);
  return c.vocab;
}

/**
 * The Markov source.
 *
 * @example
 * const src = markovSource({ kind: 'markov', vocab: 16, branching: 3, seed: 1, fixedBatch: false, shared: true });
 * const { inputs, targets } = src.batch(0, 0, 4, 32); // targets[n] = inputs[n + 1] within a row
 */
export function markovSource(c: MarkovSourceConfig): TokenSource {
  const { vocab: V, branching: K } = c;
  const succ = new Uint32Array(V * K);
  for (let v = 0; v < V; v++) for (let k = 0; k < K; k++) succ[v * K + k] = philoxDraw(c.seed, PHILOX_STREAMS.tokenTable, v * K + k)[0] % V;
  // Cumulative probabilities ∝ 1/(k+1), a skew that keeps every successor reachable.
  const cum = new Float64Array(K);
  let total = 0;
  for (let k = 0; k < K; k++) total += 1 / (k + 1);
  let acc = 0;
  for (let k = 0; k < K; k++) cum[k] = acc += 1 / (k + 1) / total;
  return {
    vocab: V,
    description: `markov(V=${V}, branching=${K}, seed=${c.seed}${c.fixedBatch ? ', fixed batch' : ''})`,
    batch(step, replica, rows, T) {
      const seed = (c.seed + (c.shared ? 0 : replica + 1)) >>> 0;
      const counter = c.fixedBatch ? 0 : step;
      const inputs = new Uint32Array(rows * T);
      const targets = new Uint32Array(rows * T);
      for (let b = 0; b < rows; b++) {
        // Draw i of row b: lane 0 the start token, lane 1 the successor choice of position i.
        let tok = philoxDraw(seed, PHILOX_STREAMS.tokenData, b * (T + 1), counter)[0] % V;
        for (let t = 0; t < T; t++) {
          const u = u32ToUniform(philoxDraw(seed, PHILOX_STREAMS.tokenData, b * (T + 1) + t + 1, counter)[1]);
          let k = 0;
          while (k < K - 1 && u >= cum[k]) k++;
          const next = succ[tok * K + k];
          inputs[b * T + t] = tok;
          targets[b * T + t] = next;
          tok = next;
        }
      }
      return { inputs, targets, weights: new Float32Array(rows * T).fill(1) };
    },
  };
}

/**
 * The source of a data config; `dims.dModel` sizes the regression source's read-in.
 *
 * @example
 * const source = createTokenSource(config.data, config.model);
 */
export function createTokenSource(c: DataConfig, dims?: { dModel: number }): TokenSource {
  if (c.kind === 'knowledge') return new KnowledgeCorpus(c).source();
  if (c.kind === 'regression') {
    if (!dims) throw new RangeError('data: the regression source needs the model width (createTokenSource(data, model))');
    return new RegressionCorpus(c, dims.dModel).source();
  }
  return markovSource(c);
}
