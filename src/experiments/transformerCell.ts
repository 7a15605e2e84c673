/**
 * One transformer cell of the issue-13 presets on the GPU: train a `muonlab.transformer/1` config
 * (its replicas are seeds), measuring along the way what [B]'s figures need, and return it as plain
 * JSON (a preset cell result, src/experiments/presets/cellular.ts):
 *
 * - the validation loss on held-out batches every `validationEvery` updates and at the end — for the
 *   knowledge corpus, statements in held-out orders (the corpus's validation stream); for the
 *   regression control, held-out inputs;
 * - the training records of the trainer (loss on the batch, MaxLogit per layer, isotropy of the
 *   chosen matrices and of their updates) at `metrics.every`;
 * - at the end, the probes: knowledge FTA of every (individual, attribute) by teacher-forced argmax
 *   at the answer position, kept per individual as the number of attributes answered right; for the
 *   regression control, the accuracy of the y-bin prediction at x positions with at least dx
 *   preceding pairs, per task;
 * - the exact exposure counts (statements per individual, sequences per task) behind those probes.
 *
 * Everything a report shows is recomputed from these raw values (src/experiments/presets/*).
 */
import type { Gpu } from '../gpu/device';
import type { Isotropy } from '../metrics/isotropy';
import { parseTransformerConfig, type TransformerConfigInput } from '../model/config';
import type { TokenBatch } from '../model/data';
import type { KnowledgeCorpus } from '../model/knowledge';
import type { RegressionCorpus } from '../model/regression';
import { TransformerTrainer } from '../model/trainer';

export interface TransformerCellOptions {
  /** Validation loss every k updates (and at the last). */
  validationEvery: number;
  validationBatches: number;
  /** Probe FTA / per-task accuracy at the end. */
  probes: boolean;
  /** Evaluation rows per regression task. */
  rowsPerTask?: number;
  progress?: (message: string) => void;
}

/** Isotropy figures kept per matrix and replica (the spectrum's summary, not the spectrum). */
export interface IsotropyFigures {
  eRank: number;
  top10E: number;
  hNorm: number | null;
}

export interface TransformerCellResult {
  seeds: number[];
  steps: number;
  /** Tokens per update and replica. */
  tokensPerStep: number;
  /** Validation loss per replica at each validation step. */
  validation: { step: number; loss: number[] }[];
  /** Training records: loss on the batch and MaxLogit per layer, per replica. */
  training: { step: number; loss: number[]; maxLogit: number[][] }[];
  /** Isotropy of W and of its update per matrix name, per replica, at each isotropy step. */
  isotropy: { step: number; matrices: Record<string, { weights: IsotropyFigures; update: IsotropyFigures }[]> }[];
  /** Knowledge probes: per replica, per individual (rank order), the attributes answered right. */
  knowledge?: { attributes: number; correct: number[][]; exposures: number[][] };
  /** Regression probes: per replica, per task, correct predictions out of `positions`. */
  regression?: { positions: number; correct: number[][]; exposures: number[][] };
  elapsedMs: number;
  tokensPerSecond: number;
}

function figures(i: Isotropy): IsotropyFigures {
  return { eRank: i.eRank, top10E: i.topE[Math.min(9, i.topE.length - 1)] ?? NaN, hNorm: i.hNorm };
}

/** The weighted mean loss of per-position outputs under a batch's weights. */
function meanLoss(nll: Float32Array, weights: ArrayLike<number>): number {
  let s = 0;
  let w = 0;
  for (let n = 0; n < nll.length; n++) {
    if (weights[n] > 0) {
      s += weights[n] * nll[n];
      w += weights[n];
    }
  }
  return w > 0 ? s / w : NaN;
}

/**
 * Trains a config and measures it (see the file comment).
 *
 * @example
 * const result = await runTransformerCell(gpu, config, { validationEvery: 20, validationBatches: 2, probes: true });
 * result.knowledge!.correct[0][0]; // attributes of the most frequent individual answered right by replica 0
 */
export async function runTransformerCell(
  gpu: Gpu,
  input: TransformerConfigInput,
  options: TransformerCellOptions,
): Promise<TransformerCellResult> {
  const config = parseTransformerConfig(input);
  const trainer = await TransformerTrainer.create(gpu, config);
  const started = performance.now();
  try {
    const { steps, batchSize: rows, seqLen: T, seeds } = config.training;
    const R = seeds.length;
    const source = trainer.source as typeof trainer.source & { corpus?: KnowledgeCorpus | RegressionCorpus };
    const knowledge = config.data.kind === 'knowledge' ? (source.corpus as KnowledgeCorpus) : undefined;
    const regression = config.data.kind === 'regression' ? (source.corpus as RegressionCorpus) : undefined;
    const validationSet: TokenBatch[] = Array.from({ length: options.validationBatches }, (_, k) =>
      knowledge
        ? knowledge.validationBatch(k, rows, T)
        : regression
          ? regression.evaluationBatch(1_000_000 + k, rows, T)
          : source.batch(1_000_000 + k, 0, rows, T),
    );
    const result: TransformerCellResult = {
      seeds: [...seeds],
      steps,
      tokensPerStep: rows * T,
      validation: [],
      training: [],
      isotropy: [],
      elapsedMs: 0,
      tokensPerSecond: 0,
    };
    const validate = async (step: number) => {
      const outputs = await trainer.evaluateBatches(validationSet.map((b) => Array.from({ length: R }, () => b)));
      // Mean over every target position of the whole set (batches weigh by their targets).
      const loss = Array.from({ length: R }, (_, r) => {
        let s = 0;
        let w = 0;
        outputs.forEach((perReplica, k) => {
          const weights = validationSet[k].weights;
          const m = meanLoss(perReplica[r].nll, weights);
          const count = weights.reduce((a, x) => a + x, 0);
          s += m * count;
          w += count;
        });
        return s / w;
      });
      result.validation.push({ step, loss });
    };
    while (trainer.step < steps) {
      const t = trainer.step;
      if (t % options.validationEvery === 0) await validate(t);
      const records = await trainer.runStep(t % config.metrics.every === 0);
      if (records) {
        result.training.push({ step: t, loss: records.map((r) => r.loss), maxLogit: records.map((r) => r.maxLogit) });
        if (records[0].isotropy) {
          const matrices: Record<string, { weights: IsotropyFigures; update: IsotropyFigures }[]> = {};
          for (const name of Object.keys(records[0].isotropy))
            matrices[name] = records.map((r) => ({
              weights: figures(r.isotropy![name].weights),
              update: figures(r.isotropy![name].update),
            }));
          result.isotropy.push({ step: t, matrices });
        }
      }
      if ((t + 1) % Math.max(1, Math.floor(steps / 10)) === 0) options.progress?.(`${config.name}: step ${t + 1}/${steps}`);
    }
    await validate(steps);
    const final = await trainer.evaluate();
    result.training.push({ step: steps, loss: final.map((r) => r.loss), maxLogit: final.map((r) => r.maxLogit) });
    if (options.probes && knowledge) {
      options.progress?.(`${config.name}: FTA probes (${knowledge.individuals} individuals × ${knowledge.attributes} attributes)`);
      const { batches, probes } = knowledge.qaProbes(rows, T);
      const outputs = await trainer.evaluateBatches(batches.map((b) => Array.from({ length: R }, () => b)));
      const correct = Array.from({ length: R }, () => new Array<number>(knowledge.individuals).fill(0));
      for (const p of probes) for (let r = 0; r < R; r++) correct[r][p.individual] += outputs[p.batch][r].correct[p.row * T + p.position];
      result.knowledge = {
        attributes: knowledge.attributes,
        correct,
        exposures: Array.from({ length: R }, (_, r) => Array.from(knowledge.exposures(r, steps, rows, T).individual)),
      };
    }
    if (options.probes && regression) {
      const K = regression.config.tasks;
      const dx = regression.config.inputDim;
      const perTask = options.rowsPerTask ?? 2;
      options.progress?.(`${config.name}: accuracy per task (${K} tasks × ${perTask} sequences)`);
      const correct = Array.from({ length: R }, () => new Array<number>(K).fill(0));
      // Scored x positions: pair index k ≥ dx (enough pairs to determine w in context).
      const pairs = Math.floor(T / 2);
      const positions = Math.max(0, pairs - dx) * perTask;
      const rowTasks: number[] = [];
      for (let j = 0; j < K; j++) for (let e = 0; e < perTask; e++) rowTasks.push(j);
      for (let start = 0; start < rowTasks.length; start += rows) {
        // One batch of `rows` rows, each forced to its task; rows past the end repeat task 0 and are not scored.
        const parts = Array.from({ length: rows }, (_, b) => regression.evaluationBatch(start + b, 1, T, rowTasks[start + b] ?? 0));
        const batch: TokenBatch = {
          inputs: concat(
            parts.map((p) => p.inputs),
            Uint32Array,
          ),
          targets: concat(
            parts.map((p) => p.targets),
            Uint32Array,
          ),
          weights: concat(
            parts.map((p) => p.weights),
            Float32Array,
          ),
          readIn: concat(
            parts.map((p) => p.readIn!),
            Float32Array,
          ),
        };
        const [outs] = await trainer.evaluateBatches([Array.from({ length: R }, () => batch)]);
        for (let b = 0; b < rows && start + b < rowTasks.length; b++) {
          for (let k = dx; k < pairs; k++) for (let r = 0; r < R; r++) correct[r][rowTasks[start + b]] += outs[r].correct[b * T + 2 * k];
        }
      }
      result.regression = {
        positions,
        correct,
        exposures: Array.from({ length: R }, (_, r) => Array.from(regression.exposures(r, steps, rows, T))),
      };
    }
    result.elapsedMs = performance.now() - started;
    result.tokensPerSecond = (steps * R * rows * T) / (result.elapsedMs / 1000);
    return result;
  } finally {
    trainer.destroy();
  }
}

function concat<A extends Uint32Array<ArrayBuffer> | Float32Array<ArrayBuffer>>(parts: readonly A[], Type: { new (n: number): A }): A {
  const out = new Type(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p as never, at);
    at += p.length;
  }
  return out;
}
