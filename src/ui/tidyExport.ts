/**
 * Exports of a page run: the whole state as JSON, and a tidy CSV with one row per
 * cell × run × step × metric (`cell,run,optimizer,runSeed,step,metric,value`). Nested record fields
 * become dotted metric names (`bucket.head.meanPCorrect`, `isotropy.w.eRank`, `isotropy.update.topE.1`);
 * a value that is null (undefined isotropy, not yet diverged) is an empty cell, never 0.
 * Preset runs export their measurement rows (no step: the presets are one-step experiments).
 */
import { measurementRows, recordRows, type TidyRow } from '../experiments/tidyCsv';
import { allRecords, type RunState } from './runState';

export { CSV_HEADER, recordMetrics, toCsv, type TidyRow } from '../experiments/tidyCsv';

/** The tidy rows of a run (training records, or a preset's measurements). */
export function tidyRows(state: RunState): TidyRow[] {
  const rows: TidyRow[] = [];
  for (const { cell, record } of allRecords(state)) rows.push(...recordRows(cell.id, [record]));
  const report = state.presetReport;
  if (report) rows.push(...measurementRows(report.preset, report.measurements));
  return rows;
}

/** The run as versioned JSON: source (config or preset), status, every cell's records, the preset report. */
export function runJson(state: RunState, env: unknown): string {
  const { version: _version, ...rest } = state;
  return JSON.stringify(
    { schema: 'muonlab.page-run/1', exportedAt: new Date().toISOString(), env, ...rest },
    (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v),
    2,
  );
}
