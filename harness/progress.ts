/**
 * The terminal progress bar of `muonlab run`: cells done, the current cell's steps, and an ETA for
 * everything left — the current cell's own ETA (from the scheduler's progress events) plus the
 * cells after it at the mean time of the cells finished so far (or the current cell's projected
 * total before one has finished). On a TTY the line is redrawn in place; elsewhere (CI logs) one
 * line every `logEvery` steps and at each cell's end.
 */
import type { TrainProgress } from '../src/train/records';

export interface ProgressState {
  cellIndex: number;
  cells: number;
  cell: string;
  step: number;
  steps: number;
  cellElapsedMs: number;
  cellEtaMs: number | null;
  finishedCellMs: number[];
}

/** "1h 02m", "3m 05s", "42s". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s >= 3600) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** Remaining time of the whole run, or null before anything can be estimated. */
export function overallEtaMs(p: ProgressState): number | null {
  if (p.cellEtaMs === null) return null;
  const after = p.cells - p.cellIndex - 1;
  const perCell =
    p.finishedCellMs.length > 0 ? p.finishedCellMs.reduce((a, b) => a + b, 0) / p.finishedCellMs.length : p.cellElapsedMs + p.cellEtaMs;
  return p.cellEtaMs + after * perCell;
}

/** One line: bar over all steps of all cells (cells weighted equally), counts and ETA. */
export function formatProgress(p: ProgressState, width = 24): string {
  const cellFraction = p.steps > 0 ? Math.min(1, (p.step + 1) / (p.steps + 1)) : 1;
  const fraction = Math.min(1, (p.cellIndex + cellFraction) / Math.max(1, p.cells));
  const filled = Math.round(fraction * width);
  const eta = overallEtaMs(p);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%  cell ${p.cellIndex + 1}/${p.cells} ${p.cell}  step ${p.step}/${p.steps}  ETA ${eta === null ? '…' : formatDuration(eta)}`;
}

export interface ProgressBar {
  /** A scheduler progress event of the current cell. */
  update(event: TrainProgress): void;
  /** The current cell finished (after its last event). */
  cellDone(elapsedMs: number): void;
  /** Ends the bar's line (TTY). */
  end(): void;
}

export function createProgressBar(cells: number, stream: NodeJS.WriteStream = process.stderr, logEvery = 10): ProgressBar {
  const state: ProgressState = { cellIndex: 0, cells, cell: '', step: 0, steps: 0, cellElapsedMs: 0, cellEtaMs: null, finishedCellMs: [] };
  let drawn = false;
  const draw = (force: boolean) => {
    const line = formatProgress(state);
    if (stream.isTTY) {
      const cols = Math.max(40, (stream.columns ?? 100) - 1);
      stream.write(`\r${line.slice(0, cols).padEnd(cols)}`);
      drawn = true;
    } else if (force || state.step % logEvery === 0) stream.write(`  … ${line}\n`);
  };
  return {
    update(event) {
      state.cell = event.cell;
      state.step = event.step;
      state.steps = event.steps;
      state.cellElapsedMs = event.elapsedMs;
      state.cellEtaMs = event.etaMs;
      draw(event.step === event.steps);
    },
    cellDone(elapsedMs) {
      state.finishedCellMs.push(elapsedMs);
      state.cellIndex = Math.min(state.cellIndex + 1, cells);
      if (stream.isTTY && drawn) {
        stream.write('\n');
        drawn = false;
      }
    },
    end() {
      if (stream.isTTY && drawn) stream.write('\n');
      drawn = false;
    },
  };
}
