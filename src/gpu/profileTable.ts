/**
 * The run profile and bench rows as tables: what the CLI prints, the page shows and the CSV
 * exports hold — one formatting for all three. Node-safe (no DOM, no shaders).
 */
import type { RunProfile } from './runProfile';

export interface TextTable {
  headers: string[];
  rows: string[][];
}

const num = (x: number | null, digits: number) => (x === null || !Number.isFinite(x) ? '—' : x.toFixed(digits));
const pct = (x: number | null) => (x === null || !Number.isFinite(x) ? '—' : `${(100 * x).toFixed(1)}%`);

/** The profile's kernels as display text, largest share first. */
export function profileTable(profile: RunProfile): TextTable {
  return {
    headers: [
      'kernel',
      'variant',
      'dispatches',
      'per step',
      'share',
      'total ms',
      'median µs',
      'GFLOP/s',
      'of peak',
      'GB/s',
      'of bandwidth',
    ],
    rows: profile.kernels.map((k) => [
      k.label,
      k.variants.map((v) => v.split(':')[1] ?? v).join(', ') || '—',
      String(k.dispatches),
      num(k.dispatchesPerStep, 2),
      pct(k.share),
      num(k.totalMs, 3),
      num(k.medianUs, 1),
      num(k.gflops, 2),
      pct(k.peakFraction),
      num(k.gbps, 2),
      pct(k.bandwidthFraction),
    ]),
  };
}

/** One line under the table: steps, total GPU time, dropped/untimed passes, the peak. */
export function profileSummaryLine(profile: RunProfile): string {
  const parts = [
    `${profile.steps} command buffers (steps), ${profile.dispatches} dispatches, ${profile.totalGpuMs.toFixed(2)} ms GPU time (timestamp queries)`,
  ];
  if (profile.droppedPasses) parts.push(`${profile.droppedPasses} passes timed ≤ 0 and dropped`);
  if (profile.untimedPasses) parts.push(`${profile.untimedPasses} passes untimed (query set full)`);
  if (profile.peak)
    parts.push(
      `peak ${profile.peak.gflops.toFixed(2)} GFLOP/s${profile.peak.gbps !== null ? `, ${profile.peak.gbps.toFixed(2)} GB/s` : ''} (fma-peak)`,
    );
  return parts.join('; ');
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * CSV of objects: one row each, the given columns — fields of the row type — (raw numbers, empty
 * for null, arrays space-separated).
 *
 * @example
 * toCsv(['label', 'share'], profile.kernels); // 'label,share\nmatmul,0.5\n…'
 */
export function toCsv<Row extends object>(columns: readonly (keyof Row & string)[], rows: readonly Row[]): string {
  const lines = [columns.join(',')];
  for (const r of rows) {
    lines.push(
      columns
        .map((c) => {
          const value: unknown = r[c];
          return csvCell(Array.isArray(value) ? value.join(' ') : value);
        })
        .join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

export const PROFILE_CSV_COLUMNS = [
  'label',
  'variants',
  'dispatches',
  'steps',
  'dispatchesPerStep',
  'timedPasses',
  'totalMs',
  'medianUs',
  'share',
  'flops',
  'bytes',
  'gflops',
  'gbps',
  'peakFraction',
  'bandwidthFraction',
  'costModel',
] as const;

export const BENCH_CSV_COLUMNS = [
  'kernel',
  'variant',
  'shape',
  'runs',
  'medianMs',
  'minMs',
  'firstRunMs',
  'flops',
  'gflops',
  'peakFraction',
  'bytes',
  'gbps',
  'timing',
  'chosen',
  'note',
] as const;

/** The profile's kernels as CSV (raw numbers). */
export function profileCsv(profile: RunProfile): string {
  return toCsv(PROFILE_CSV_COLUMNS, profile.kernels);
}
