/**
 * Tidy CSV of training records, shared by the page's export and the CLI's `metrics.csv`: one row per
 * cell × run × step × metric (`cell,run,optimizer,runSeed,step,metric,value`). Nested record fields
 * become dotted metric names (`bucket.head.meanPCorrect`, `isotropy.w.eRank`, `isotropy.update.topE.1`);
 * a value that is null (undefined isotropy, not yet diverged) is an empty cell, never 0.
 * Node-safe (no shader imports).
 *
 * @example
 * toCsv(recordMetrics(record).map(([metric, value]) => ({ cell: 'c0', run: record.run,
 *   optimizer: record.optimizer, runSeed: record.runSeed, step: record.step, metric, value })));
 */
import type { TrainMetricsRecord } from '../train/records';
import type { Isotropy } from '../metrics/isotropy';

export const CSV_HEADER = ['cell', 'run', 'optimizer', 'runSeed', 'step', 'metric', 'value'] as const;

export interface TidyRow {
  cell: string;
  run: number;
  optimizer: string;
  runSeed: number | null;
  step: number | null;
  metric: string;
  value: number | string | null;
}

function isotropyMetrics(prefix: string, iso: Isotropy): [string, number | null][] {
  return [
    [`${prefix}.n`, iso.n],
    [`${prefix}.hNorm`, iso.hNorm],
    [`${prefix}.eRank`, iso.eRank],
    [`${prefix}.q75over25`, iso.q75over25],
    ...iso.topE.map((e, k): [string, number] => [`${prefix}.topE.${k + 1}`, e]),
  ];
}

/** A record's metrics as (name, value) pairs, in a fixed order. */
export function recordMetrics(r: TrainMetricsRecord): [string, number | null][] {
  const out: [string, number | null][] = [
    ['lr', r.lr],
    ['loss', r.loss],
  ];
  if (r.minibatchLoss !== undefined) out.push(['minibatchLoss', r.minibatchLoss]);
  out.push(
    ['evalItems', r.evalItems],
    ['capacity', r.capacity],
    ['capacityPrefix', r.capacityPrefix],
    ['delta', r.delta],
    ['maxPCorrect', r.maxPCorrect],
    ['minPCorrect', r.minPCorrect],
    ['diverged', r.diverged ? 1 : 0],
    ['divergedAtStep', r.divergedAtStep],
  );
  for (const b of r.buckets) {
    out.push(
      [`bucket.${b.bucket}.items`, b.items],
      [`bucket.${b.bucket}.meanPCorrect`, b.meanPCorrect],
      [`bucket.${b.bucket}.accuracy`, b.accuracy],
    );
  }
  if (r.isotropy) {
    out.push(...isotropyMetrics('isotropy.w', r.isotropy.w));
    if (r.isotropy.update) out.push(...isotropyMetrics('isotropy.update', r.isotropy.update));
  }
  if (r.orthExact) {
    out.push(['orthExact.steps', r.orthExact.steps], ['orthExact.stepChange', r.orthExact.stepChange]);
    if (r.orthExact.converged !== undefined) out.push(['orthExact.converged', r.orthExact.converged ? 1 : 0]);
  }
  return out;
}

/** The tidy rows of one cell's records (a record's missing optional fields give no row). */
export function recordRows(cell: string, records: readonly TrainMetricsRecord[]): TidyRow[] {
  const rows: TidyRow[] = [];
  for (const record of records) {
    for (const [metric, value] of recordMetrics(record)) {
      rows.push({ cell, run: record.run, optimizer: record.optimizer, runSeed: record.runSeed, step: record.step, metric, value });
    }
  }
  return rows;
}

/** A preset's measurement rows (no step: one row per measured field of each measurement). */
export function measurementRows(preset: string, measurements: readonly Record<string, unknown>[]): TidyRow[] {
  const rows: TidyRow[] = [];
  measurements.forEach((m, index) => {
    const optimizer = typeof m.optimizer === 'string' ? m.optimizer : '';
    for (const [metric, value] of Object.entries(m)) {
      if (metric === 'optimizer') continue;
      if (typeof value === 'number' || typeof value === 'string' || value === null) {
        rows.push({ cell: preset, run: index, optimizer, runSeed: null, step: null, metric, value });
      }
    }
  });
  return rows;
}

function csvField(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  const text = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : v;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** RFC 4180 CSV (quoted where needed: cell ids of sweeps contain commas). */
export function toCsv(rows: readonly TidyRow[]): string {
  const lines = [CSV_HEADER.join(',')];
  for (const r of rows) lines.push([r.cell, r.run, r.optimizer, r.runSeed, r.step, r.metric, r.value].map(csvField).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
