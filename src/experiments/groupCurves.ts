/**
 * Loss curves per run and per item group from one training cell (src/train/trainCell.ts): the
 * population loss of every metric record, and the mean per-item loss of each group (the frequency
 * groups of [A]'s hierarchical family, head / tail of [B]'s two-class family), computed in Float64
 * from the GPU's per-item losses as they are read back.
 */
import type { Gpu } from '../gpu/device';
import { fitLine, type LinearFit } from '../metrics/fits';
import type { CellResult, TrainMetricsRecord } from '../train/records';
import { trainCell } from '../train/trainCell';
import type { ExperimentConfigInput } from './config';

export interface LossCurve {
  run: number;
  optimizer: string;
  runSeed: number;
  /** Metric steps t (W_t after t updates). */
  steps: number[];
  /** Population loss at each metric step. */
  loss: number[];
  /** groupLoss[k][g]: mean per-item loss of group g at steps[k]. */
  groupLoss: number[][];
  records: TrainMetricsRecord[];
}

/**
 * Trains one cell and returns each run's loss curve and per-group loss curves. `groupOf(i)` is item
 * i's group in 0 … groups − 1.
 *
 * @example
 * const { curves } = await trainGroupCurves(gpu, config, (i) => Math.floor(i / C), M, (m) => console.log(m));
 */
export async function trainGroupCurves(
  gpu: Gpu,
  config: ExperimentConfigInput,
  groupOf: (item: number) => number,
  groups: number,
  progress: (message: string) => void = () => {},
): Promise<{ result: CellResult; curves: LossCurve[] }> {
  const group = new Map<string, number[]>();
  let groupIndex: Int32Array | undefined;
  let groupSize: Float64Array | undefined;
  let lastReported = -1;
  const result = await trainCell(gpu, config, {
    onPerItem: (arrays) => {
      const N = arrays.loss.length;
      if (!groupIndex || !groupSize) {
        groupIndex = Int32Array.from({ length: N }, (_, i) => groupOf(i));
        groupSize = new Float64Array(groups);
        for (const g of groupIndex) {
          if (!(g >= 0 && g < groups)) throw new RangeError(`trainGroupCurves: groupOf returned ${g}, allowed 0 … ${groups - 1}`);
          groupSize[g]++;
        }
      }
      const sums = new Float64Array(groups);
      for (let i = 0; i < N; i++) sums[groupIndex[i]] += arrays.loss[i];
      group.set(
        `${arrays.run}|${arrays.step}`,
        Array.from(sums, (s, g) => s / groupSize![g]),
      );
    },
    onProgress: (e) => {
      const bucket = Math.floor((10 * e.step) / Math.max(1, e.steps));
      if (bucket !== lastReported) {
        lastReported = bucket;
        progress(`${config.name}: step ${e.step}/${e.steps}`);
      }
    },
  });
  const byRun = new Map<number, TrainMetricsRecord[]>();
  for (const r of result.records) byRun.set(r.run, [...(byRun.get(r.run) ?? []), r]);
  const curves: LossCurve[] = result.runs.map((run) => {
    const records = (byRun.get(run.run) ?? []).sort((a, b) => a.step - b.step);
    return {
      run: run.run,
      optimizer: run.optimizer,
      runSeed: run.runSeed,
      steps: records.map((r) => r.step),
      loss: records.map((r) => r.loss),
      groupLoss: records.map((r) => group.get(`${run.run}|${r.step}`) ?? new Array<number>(groups).fill(NaN)),
      records,
    };
  });
  return { result, curves };
}

/** The exponential decay rate of y(t) over the points with lo ≤ window(t) ≤ hi: −slope of ln y vs t. */
export interface DecayFit {
  rate: number;
  ci: [number, number];
  steps: number[];
  fit: LinearFit | null;
}

/**
 * Fits y ≈ A·e^{−rate·t} by least squares of ln y on t over the steps where `inWindow[k]` holds.
 * With fewer than two points the rate is NaN.
 */
export function fitDecayRate(steps: readonly number[], y: readonly number[], inWindow: readonly boolean[]): DecayFit {
  const ts: number[] = [];
  const ln: number[] = [];
  steps.forEach((t, k) => {
    if (inWindow[k] && y[k] > 0 && Number.isFinite(y[k])) {
      ts.push(t);
      ln.push(Math.log(y[k]));
    }
  });
  if (ts.length < 2) return { rate: NaN, ci: [NaN, NaN], steps: ts, fit: null };
  const fit = fitLine(ts, ln);
  return { rate: -fit.slope, ci: [-fit.slopeCI[1], -fit.slopeCI[0]], steps: ts, fit };
}
