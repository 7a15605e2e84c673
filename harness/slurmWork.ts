/**
 * What a `muonlab slurm` submission runs — a cellular preset at a scale, or an experiment config —
 * as a list of cells with the same costs and shard split that `muonlab run --shard k/N` computes on
 * each node (shardByCost over presetRun's / run.ts's cells), and a test of whether a cell is finished
 * in a shard's run folder (the files `--resume` looks for). Planned in Node, without a browser.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ExperimentConfig } from '../src/experiments/config';
import { estimateCellCost, expandSweep, shardByCost } from '../src/experiments/sweep';
import type { Scale } from '../src/experiments/presets/types';
import { isPresetName, PRESET_NAMES, presetCells } from '../src/experiments/presets/catalog';
import { readPresetCell } from './presetRun';
import { cellDirectory } from './run';

export type SlurmWork = { kind: 'preset'; preset: string; scale: Scale } | { kind: 'config'; config: ExperimentConfig };

export interface WorkCell {
  id: string;
  cost: number;
  /** Whether the cell's result is on disk in `runDir` (a shard's run folder). */
  isFinishedIn(runDir: string): boolean;
}

export interface WorkPlan {
  /** In words, for messages: "b-balance-onestep at scale ci" or "config balance-demo". */
  label: string;
  /** The run folder `muonlab run` writes inside its --out: `<preset>-<scale>` or the config's name. */
  runFolder: string;
  cells: WorkCell[];
}

/**
 * The cells of `work`, in the order `muonlab run` keeps them.
 *
 * @example
 * const plan = await planWork({ kind: 'preset', preset: 'b-balance-onestep', scale: 'ci' });
 * plan.cells.map((c) => c.id); // ['identity', 'coupled-rotation']
 */
export async function planWork(work: SlurmWork): Promise<WorkPlan> {
  if (work.kind === 'config') {
    const cells = expandSweep(work.config).map((cell) => ({
      id: cell.id,
      cost: estimateCellCost(cell.config),
      isFinishedIn: (runDir: string) => existsSync(join(cellDirectory(runDir, cell), 'summary.json')),
    }));
    return { label: `config ${work.config.name}`, runFolder: work.config.name, cells };
  }
  // Every preset is split into cells, planned in Node from its settings (no GPU code is loaded).
  if (!isPresetName(work.preset)) throw new RangeError(`unknown preset "${work.preset}"; presets: ${PRESET_NAMES.join(', ')}`);
  const cells = presetCells(work.preset, work.scale).map((cell) => ({
    id: cell.id,
    cost: cell.cost,
    isFinishedIn: (runDir: string) => readPresetCell(runDir, cell) !== null,
  }));
  return { label: `${work.preset} at scale ${work.scale}`, runFolder: `${work.preset}-${work.scale}`, cells };
}

/**
 * The cells of each shard (index 0 = `--shard 1/N`), split exactly as every task splits them.
 *
 * @example
 * splitShards(plan.cells, 2).map((s) => s.length); // [1, 1] for b-balance-onestep
 */
export function splitShards(cells: readonly WorkCell[], shards: number): WorkCell[][] {
  return Array.from({ length: shards }, (_, k) => shardByCost(cells, (c) => c.cost, k + 1, shards));
}

/**
 * The folder array task `index` (0-based) writes with `--out`.
 *
 * @example
 * shardOut('/shared/sweep', 3); // '/shared/sweep/shard-3'
 */
export function shardOut(out: string, index: number): string {
  return join(out, `shard-${index}`);
}

export interface ShardProgress {
  index: number;
  cells: number;
  finished: number;
}

/**
 * How many of each shard's cells are finished on disk under `out`.
 *
 * @example
 * shardProgress('/shared/sweep', plan, 2); // [{ index: 0, cells: 1, finished: 1 }, { index: 1, cells: 1, finished: 0 }]
 */
export function shardProgress(out: string, plan: WorkPlan, shards: number): ShardProgress[] {
  return splitShards(plan.cells, shards).map((cells, index) => {
    const runDir = join(shardOut(out, index), plan.runFolder);
    return { index, cells: cells.length, finished: cells.filter((c) => c.isFinishedIn(runDir)).length };
  });
}
