/**
 * What a training cell runs, resolved from its config before any GPU object exists (so a bad
 * optimizer entry fails with nothing to clean up): one run per optimizer entry × runSeed, with its
 * parsed optimizer config, learning-rate schedule and initial run parameters; and the runs grouped by
 * the optimizer kernel they need — entries of the same optimizer (and orth) share one GPU batch,
 * their learning rates and betas being per-run parameters (docs/architecture.md §3.1).
 */
import type { RunParamValues } from '../gpu/runParams';
import { parseOptimizerConfig, runParamsFor, type OptimizerConfig } from '../optim';
import type { ExperimentConfig } from '../experiments/config';
import type { RunInfo } from './records';

export interface CellRuns {
  /** Run r = entry·seeds + seed index. */
  runs: RunInfo[];
  /** Run r's initial run parameters (η_1, betas, flags, seed…), as createRunParams takes them. */
  initial: Partial<RunParamValues>[];
}

/**
 * Every optimizer entry × runSeed of a (sweep-free) config, in run order.
 *
 * @example
 * const { runs, initial } = planRuns(parseExperimentConfig(json));
 * runs.map((r) => `${r.optimizer} seed ${r.runSeed}`); // ['gd seed 0', 'muon seed 0', …]
 */
export function planRuns(config: ExperimentConfig): CellRuns {
  const { dIn, dOut, N } = config.task;
  const dims = { d_in: dIn, d_out: dOut, N };
  const runs: RunInfo[] = [];
  const initial: Partial<RunParamValues>[] = [];
  config.optimizers.forEach((entry, k) => {
    const { label, ...raw } = entry as typeof entry & { label?: string };
    const cfg = parseOptimizerConfig(raw, `optimizers.${k}`);
    config.training.runSeeds.forEach((runSeed, s) => {
      const { params, schedule } = runParamsFor(cfg, { rows: dOut, cols: dIn, dims, steps: config.training.steps, seed: runSeed });
      runs.push({
        run: runs.length,
        optimizer: label ?? cfg.name,
        optimizerName: cfg.name,
        optimizerIndex: k,
        runSeed,
        seedIndex: s,
        config: cfg,
        schedule,
      });
      initial.push(params);
    });
  });
  return { runs, initial };
}

/**
 * The optimizer kernel a config needs: entries with equal keys can share one batch.
 *
 * @example
 * kernelKey(parseOptimizerConfig({ name: 'muon', lr: 1, orth: 'exact' })); // 'muon:"exact"'
 */
export function kernelKey(config: OptimizerConfig): string {
  switch (config.name) {
    case 'muon':
      return `muon:${JSON.stringify(config.orth)}`;
    case 'muon-reg':
      return `muon-reg:${config.maxIterations}`;
    default:
      return config.name;
  }
}

/**
 * The runs grouped by kernelKey: groups in order of their first run, runs in run order.
 *
 * @example
 * groupRunsByKernel(runs).map((g) => [g.key, g.runs.length]); // [['gd', 2], ['muon:"exact"', 2]]
 */
export function groupRunsByKernel(runs: readonly RunInfo[]): { key: string; runs: RunInfo[] }[] {
  const byKey = new Map<string, RunInfo[]>();
  for (const r of runs) {
    const key = kernelKey(r.config);
    byKey.set(key, [...(byKey.get(key) ?? []), r]);
  }
  return [...byKey].map(([key, members]) => ({ key, runs: members }));
}
