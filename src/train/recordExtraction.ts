/**
 * Record extraction: a metric step's staged copies (src/train/stepRecording.ts) turned into one
 * metrics record per run and the per-item arrays of every run, with what has to carry across metric
 * steps: each run's divergence and first τ-crossings, and the history the stop rules read.
 *
 * A run whose loss is not finite is frozen by the GPU's loss guard in the same command buffer
 * (after the update), so the flag only shows in the next readback of the run parameters: the record
 * says so at once. So does a loss past training.divergence.lossMultiple × the run's step-0 loss
 * (divergedReason 'loss-growth'). A diverged run gets one record with `diverged: true` and none after it; the
 * others go on.
 */
import { unpackRunParams } from '../gpu/runParams';
import { singularValues } from '../cpu/polar';
import { itemOutputs, outputColumn, SOFTMAX_OUTPUT_COLUMNS } from '../kernels/softmaxGrad/softmaxGrad';
import { F32_EPSILON, isotropy, singularValueThreshold, type Isotropy } from '../metrics/isotropy';
import { balanceGap, bucketStats, capacity, capacityPrefix } from '../metrics/recall';
import type { DivergedReason, PerItemArrays, RunInfo, RunOutcome, TrainHooks, TrainMetricsRecord } from './records';
import type { StagingSet } from './readback';
import type { RunGroup } from './runGroup';
import { weightedLoss, type RunSnapshot } from './rules';
import { STAGED } from './stepRecording';

const OUTPUT_COLUMNS = SOFTMAX_OUTPUT_COLUMNS.length;
const COL_LOSS = outputColumn('loss');

export interface ExtractionSettings {
  /** p_i (Float64): the population loss is Σ_i p_i·loss_i. */
  frequencies: Float64Array;
  /** The items the recall metrics cover: the first metrics.evalItems by frequency rank. */
  evalOrder: Uint32Array;
  /** Bucket name of each evaluated item (evalOrder order). */
  evalBuckets: string[];
  /** metrics.tau: thresholds whose first crossing max p̂ ≥ 1 − τ is tracked per run. */
  taus: readonly number[];
  /** training.divergence.lossMultiple: a loss above this × the run's step-0 loss is divergence. */
  lossMultiple: number;
}

interface RunState {
  diverged: boolean;
  divergedAtStep: number | null;
  divergedReason: DivergedReason | null;
  /** Its diverged record is out: no more records. */
  reported: boolean;
  crossing: Record<string, number | null>;
}

/**
 * Turns staged metric steps into records, in step order. Keeps every record and the stop rules'
 * history; calls `hooks.onRecord` / `hooks.onPerItem` as each record is made.
 *
 * @example
 * const extractor = new RecordExtractor(runs, groups, settings, hooks);
 * const perItem = extractor.extract(stagingSet, t, t < T); // every run's arrays at step t
 * stopDecision(extractor.history, config.training.stop);
 */
export class RecordExtractor {
  readonly records: TrainMetricsRecord[] = [];
  /** Per run: a snapshot per metric step (what stopDecision reads). */
  readonly history: RunSnapshot[][];
  private readonly state: RunState[];

  constructor(
    private readonly runs: readonly RunInfo[],
    private readonly groups: readonly RunGroup[],
    private readonly settings: ExtractionSettings,
    private readonly hooks: Pick<TrainHooks, 'onRecord' | 'onPerItem'> = {},
  ) {
    this.history = runs.map(() => []);
    this.state = runs.map(() => ({
      diverged: false,
      divergedAtStep: null,
      divergedReason: null,
      reported: false,
      crossing: Object.fromEntries(settings.taus.map((tau) => [String(tau), null])),
    }));
  }

  /**
   * The records of metric step t from its mapped staging set (`update`: whether step t had an
   * update, so the `exact` polar report describes it). Returns every run's per-item arrays, in run
   * order — diverged runs' included, though no record is made for them any more.
   */
  extract(set: StagingSet, t: number, update: boolean): PerItemArrays[] {
    const { frequencies: p, evalOrder, evalBuckets, taus } = this.settings;
    const perItem: PerItemArrays[] = [];
    for (const [gi, g] of this.groups.entries()) {
      const N = p.length;
      const outputs = new Float32Array(set.get(STAGED.outputs(gi)));
      const params = unpackRunParams(set.get(STAGED.params(gi)), g.runs.length);
      const minibatchOutputs = set.has(STAGED.minibatchOutputs(gi)) ? new Float32Array(set.get(STAGED.minibatchOutputs(gi))) : undefined;
      const weightsBefore = set.has(STAGED.weightsBefore(gi)) ? new Float32Array(set.get(STAGED.weightsBefore(gi))) : undefined;
      const weightsAfter = set.has(STAGED.weightsAfter(gi)) ? new Float32Array(set.get(STAGED.weightsAfter(gi))) : undefined;
      const readback = g.optimizer.exactPolarReadback;
      const exact = update && readback && set.has(STAGED.exactPolar(gi)) ? readback.decode(set.get(STAGED.exactPolar(gi))) : undefined;
      const B = g.minibatch?.items.rows ?? 0;
      for (const [k, run] of g.runs.entries()) {
        const { pCorrect, correct, loss: itemLoss } = itemOutputs(outputs, k, N);
        const arrays: PerItemArrays = { run: run.run, step: t, pCorrect, correct, loss: itemLoss };
        perItem.push(arrays);
        const o = this.state[run.run];
        const loss = weightedLoss(p, outputs, k * N * OUTPUT_COLUMNS, OUTPUT_COLUMNS, COL_LOSS);
        if (params[k].diverged && !o.diverged) {
          o.diverged = true;
          o.divergedAtStep = params[k].divergedAtStep;
          o.divergedReason = 'non-finite';
        }
        if (!o.diverged && !Number.isFinite(loss)) {
          o.diverged = true;
          o.divergedAtStep = t;
          o.divergedReason = 'non-finite';
        }
        const history = this.history[run.run];
        // A finite loss can still have blown up (GD at η = 1e30 reaches 1e27): past lossMultiple ×
        // its step-0 loss the run counts as diverged. Decided on the recorded loss, so pipelined and
        // synchronous readback agree; the run is not frozen on the GPU (its later records are simply
        // not kept), which leaves the other runs untouched.
        const initialLoss = history[0]?.loss ?? loss;
        if (!o.diverged && initialLoss > 0 && loss > this.settings.lossMultiple * initialLoss) {
          o.diverged = true;
          o.divergedAtStep = t;
          o.divergedReason = 'loss-growth';
        }
        history.push({ step: t, loss, capacity: 0, diverged: o.diverged });
        if (o.reported) continue;
        const pEval = Float32Array.from(evalOrder, (i) => pCorrect[i]);
        const cEval = Uint8Array.from(evalOrder, (i) => correct[i]);
        const gap = balanceGap(pEval);
        const cap = capacity(cEval);
        history[history.length - 1].capacity = cap;
        for (const tau of taus) {
          if (o.crossing[String(tau)] === null && gap.max >= 1 - tau) o.crossing[String(tau)] = t;
        }
        const record: TrainMetricsRecord = {
          run: run.run,
          optimizer: run.optimizer,
          optimizerName: run.optimizerName,
          runSeed: run.runSeed,
          step: t,
          lr: params[k].lr,
          loss,
          evalItems: evalOrder.length,
          capacity: cap,
          capacityPrefix: capacityPrefix(cEval),
          delta: gap.delta,
          maxPCorrect: gap.max,
          minPCorrect: gap.min,
          buckets: bucketStats(pEval, cEval, evalBuckets),
          diverged: o.diverged,
          divergedAtStep: o.divergedAtStep,
          divergedReason: o.divergedReason,
        };
        if (minibatchOutputs) {
          let s = 0;
          for (let b = 0; b < B; b++) s += minibatchOutputs[(k * B + b) * OUTPUT_COLUMNS + COL_LOSS];
          record.minibatchLoss = s / B;
        }
        if (weightsBefore) record.isotropy = runIsotropy(weightsBefore, weightsAfter, k, g.W.rows, g.W.cols);
        if (exact) record.orthExact = exact[k];
        if (o.diverged) o.reported = true;
        this.records.push(record);
        this.hooks.onRecord?.(record);
        this.hooks.onPerItem?.(arrays);
      }
    }
    return perItem.sort((a, b) => a.run - b.run);
  }

  /** Each run with its divergence and first τ-crossings so far. */
  outcomes(): RunOutcome[] {
    return this.runs.map((r) => ({
      ...r,
      diverged: this.state[r.run].diverged,
      divergedAtStep: this.state[r.run].divergedAtStep,
      divergedReason: this.state[r.run].divergedReason,
      firstCrossing: this.state[r.run].crossing,
    }));
  }
}

/** Isotropy of W_t and of the update W_t − W_{t+1} (∝ η·D; isotropy is scale-free) of run k. */
function runIsotropy(
  before: Float32Array,
  after: Float32Array | undefined,
  k: number,
  rows: number,
  cols: number,
): { w: Isotropy; update: Isotropy | null } {
  const n = rows * cols;
  const of = (x: ArrayLike<number>) => {
    const sigma = Array.from(singularValues(x, rows, cols));
    return isotropy(sigma, { threshold: singularValueThreshold(sigma, rows, cols, F32_EPSILON) });
  };
  const w = before.subarray(k * n, (k + 1) * n);
  let update: Isotropy | null = null;
  if (after) {
    const d = new Float64Array(n);
    for (let i = 0; i < n; i++) d[i] = w[i] - after[k * n + i];
    update = of(d);
  }
  return { w: of(w), update };
}
