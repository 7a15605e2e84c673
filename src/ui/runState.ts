/**
 * What the page knows about the current run: its source (a config or a preset at a scale), the
 * metric records of every sweep cell as they are read back, and where it stands. Plain data, so it
 * exports to JSON as is and survives a device loss (records already read back stay).
 */
import type { ExperimentConfig, ExperimentConfigInput } from '../experiments/config';
import type { PresetReport, Scale } from '../experiments/presets/types';
import type { TrainMetricsRecord } from '../train/records';

export type RunSource = { kind: 'config'; config: ExperimentConfigInput } | { kind: 'preset'; preset: string; scale: Scale };

export type RunStatus = 'idle' | 'running' | 'paused' | 'done' | 'cancelled' | 'failed' | 'device-lost';

export interface CellState {
  id: string;
  /** The sweep axes' values of this cell, by dotted path. */
  point: Record<string, unknown>;
  config: ExperimentConfig;
  records: TrainMetricsRecord[];
  stopped: string | null;
}

export interface RunState {
  source: RunSource | null;
  status: RunStatus;
  /** Why it failed or what was lost, in words. */
  message: string | null;
  startedAt: string | null;
  cells: CellState[];
  /** The cell being trained and its step. */
  progress: { cell: string; step: number; steps: number; cellIndex: number; cells: number } | null;
  /** Preset runs: the report (predictions, plots) once finished; progress lines meanwhile. */
  presetReport: PresetReport | null;
  presetLog: string[];
  /** Bumped on every change; the plot view redraws when it moved. */
  version: number;
}

/** A fresh, empty state. */
export function createRunState(): RunState {
  return {
    source: null,
    status: 'idle',
    message: null,
    startedAt: null,
    cells: [],
    progress: null,
    presetReport: null,
    presetLog: [],
    version: 0,
  };
}

/** Every record of every cell, with its cell id. */
export function allRecords(state: RunState): { cell: CellState; record: TrainMetricsRecord }[] {
  return state.cells.flatMap((cell) => cell.records.map((record) => ({ cell, record })));
}
