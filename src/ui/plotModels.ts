/**
 * The live plots of a training run, computed from the metric records read back so far (RunState):
 * loss per run (log–log, one colour per optimizer, the seeds' spread as a band), head vs tail
 * pCorrect and accuracy over steps, Δ vs loss, capacity vs d (log–log, fitted power laws next to the
 * predicted slopes of [C] for power-law frequencies) and the top singular-value energy shares of W
 * and of the update with their isotropy numbers. Pure functions of the state: no DOM.
 */
import { fitPowerLaw } from '../metrics/fits';
import type { Isotropy } from '../metrics/isotropy';
import type { TrainMetricsRecord } from '../train/records';
import { pickColor, type LivePlotSpec, type LiveSeries } from './plotSvg';
import type { CellState, RunState } from './runState';

export const PLOT_IDS = ['loss', 'bucket-pcorrect', 'bucket-accuracy', 'delta-loss', 'capacity-d', 'spectra'] as const;
export type PlotId = (typeof PLOT_IDS)[number];

const CELL_DASHES = ['', '7 4', '2 3', '10 3 2 3'];

/** Colour per optimizer label: the optimizer's own colour unless two labels share one optimizer. */
function colorsOf(state: RunState): Map<string, string> {
  const labels = new Map<string, string>();
  for (const cell of state.cells) for (const r of cell.records) if (!labels.has(r.optimizer)) labels.set(r.optimizer, r.optimizerName);
  const perName = new Map<string, number>();
  for (const name of labels.values()) perName.set(name, (perName.get(name) ?? 0) + 1);
  const colors = new Map<string, string>();
  [...labels.entries()].forEach(([label, name], k) => colors.set(label, pickColor(perName.get(name) === 1 ? name : `#${label}`, k)));
  return colors;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = out.get(k);
    if (list) list.push(it);
    else out.set(k, [it]);
  }
  return out;
}

/** A short name for a cell: its axis values without the paths' prefixes (`dIn=32,dOut=32`). */
export function cellLabel(cell: CellState): string {
  const entries = Object.entries(cell.point);
  if (entries.length === 0) return cell.config.name;
  return entries.map(([p, v]) => `${p.split('.').pop()}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(',');
}

/** Median over seeds per step with the [min, max] band; x = step + 1 so step 0 sits on a log axis. */
function seedSeries(records: TrainMetricsRecord[], value: (r: TrainMetricsRecord) => number): Pick<LiveSeries, 'points' | 'band'> {
  const bySteps = groupBy(records.filter((r) => Number.isFinite(value(r))), (r) => String(r.step));
  const points: [number, number][] = [];
  const band: [number, number, number][] = [];
  const seeds = new Set(records.map((r) => r.runSeed)).size;
  for (const rs of [...bySteps.values()].sort((a, b) => a[0].step - b[0].step)) {
    const vs = rs.map(value);
    points.push([rs[0].step + 1, median(vs)]);
    if (seeds > 1) band.push([rs[0].step + 1, Math.min(...vs), Math.max(...vs)]);
  }
  return seeds > 1 ? { points, band } : { points };
}

function lossPlot(state: RunState, colors: Map<string, string>): LivePlotSpec {
  const many = state.cells.length > 1;
  const series: LiveSeries[] = [];
  state.cells.forEach((cell, c) => {
    for (const [label, records] of groupBy(cell.records, (r) => r.optimizer)) {
      // Same colour per optimizer in every cell; the cells differ by dash pattern.
      const dash = CELL_DASHES[c % CELL_DASHES.length];
      series.push({ name: many ? `${label} · ${cellLabel(cell)}` : label, color: colors.get(label)!, dash: dash || undefined, ...seedSeries(records, (r) => r.loss) });
    }
  });
  const seeds = Math.max(0, ...state.cells.map((c) => new Set(c.records.map((r) => r.runSeed)).size));
  return {
    id: 'loss',
    title: 'Population loss per run',
    subtitle: seeds > 1 ? `line: median over ${seeds} seeds; band: min–max over seeds` : undefined,
    xLabel: 'step + 1',
    yLabel: 'loss',
    xLog: true,
    yLog: true,
    series,
  };
}

function bucketPlot(state: RunState, colors: Map<string, string>, which: 'meanPCorrect' | 'accuracy'): LivePlotSpec {
  const cell = [...state.cells].reverse().find((c) => c.records.length > 0);
  const series: LiveSeries[] = [];
  let names: string[] = [];
  // Records without buckets (none configured) draw no bucket series.
  if (cell && cell.records[0].buckets.length > 0) {
    const buckets = cell.records[0].buckets;
    // Buckets come in frequency-rank order: the first is the head; the tail is the last bucket
    // holding at least a quarter of the largest one's items (log-rank buckets end in a stub).
    const largest = Math.max(...buckets.map((b) => b.items));
    const tail = [...buckets].reverse().find((b) => b.items * 4 >= largest) ?? buckets[buckets.length - 1];
    names = buckets.length > 1 && tail !== buckets[0] ? [buckets[0].bucket, tail.bucket] : [buckets[0].bucket];
    for (const [label, records] of groupBy(cell.records, (r) => r.optimizer)) {
      names.forEach((bucket, k) => {
        const value = (r: TrainMetricsRecord) => r.buckets.find((b) => b.bucket === bucket)?.[which] ?? NaN;
        series.push({ name: `${label} · ${bucket}`, color: colors.get(label)!, dashed: k > 0, ...seedSeries(records, value) });
      });
    }
  }
  const what = which === 'meanPCorrect' ? 'mean p̂(y(i)|i)' : 'accuracy (fraction recovered)';
  return {
    id: which === 'meanPCorrect' ? 'bucket-pcorrect' : 'bucket-accuracy',
    title: `${which === 'meanPCorrect' ? 'pCorrect' : 'Accuracy'} by frequency bucket: head vs tail`,
    subtitle: cell ? `${state.cells.length > 1 ? `cell ${cellLabel(cell)}; ` : ''}solid: ${names[0] ?? '—'}${names[1] ? `, dashed: ${names[1]}` : ''}` : undefined,
    xLabel: 'step + 1',
    yLabel: what,
    xLog: true,
    series,
  };
}

function deltaLossPlot(state: RunState, colors: Map<string, string>): LivePlotSpec {
  const series: LiveSeries[] = [];
  const records = state.cells.flatMap((c) => c.records);
  for (const [label, rs] of groupBy(records, (r) => r.optimizer)) {
    series.push({ name: label, color: colors.get(label)!, style: 'points', points: rs.map((r) => [r.loss, r.delta]) });
  }
  return {
    id: 'delta-loss',
    title: 'Balance gap Δ vs loss',
    subtitle: 'one point per run per metric step; Δ = max pCorrect − min pCorrect',
    xLabel: 'loss',
    yLabel: 'Δ',
    xLog: true,
    series,
  };
}

/** [C]'s one-step capacity exponents for power-law frequencies p_i ∝ i^(−a). */
function predictedSlope(optimizerName: string, a: number): number | null {
  if (optimizerName === 'muon') return 1 + 1 / (2 * a);
  if (optimizerName === 'gd' || optimizerName === 'sgd') return 1 / (2 * a);
  return null;
}

function capacityPlot(state: RunState, colors: Map<string, string>): LivePlotSpec {
  const dOf = (c: CellState) => Math.min(c.config.task.dIn, c.config.task.dOut);
  const ds = new Set(state.cells.filter((c) => c.records.length > 0).map(dOf));
  const series: LiveSeries[] = [];
  const notes: string[] = [];
  if (ds.size >= 2) {
    // Final capacity of each run of each cell (the last record), median over seeds.
    const finals = state.cells.flatMap((cell) => {
      const last = new Map<number, TrainMetricsRecord>();
      for (const r of cell.records) last.set(r.run, r);
      return [...last.values()].map((r) => ({ d: dOf(cell), r, cell }));
    });
    for (const [label, rows] of groupBy(finals, (f) => f.r.optimizer)) {
      const color = colors.get(label)!;
      const byD = groupBy(rows, (f) => String(f.d));
      const points = [...byD.values()].map((fs): [number, number] => [fs[0].d, median(fs.map((f) => f.r.capacity))]).sort((a, b) => a[0] - b[0]);
      series.push({ name: label, color, style: 'points', points });
      const positive = points.filter((p) => p[1] > 0);
      if (positive.length >= 2) {
        const fit = fitPowerLaw(positive.map((p) => p[0]), positive.map((p) => p[1]));
        const xs = [positive[0][0], positive[positive.length - 1][0]];
        series.push({ name: `${label} fit`, color, style: 'line', points: xs.map((d): [number, number] => [d, Math.exp(fit.intercept) * d ** fit.slope]) });
        const freq = rows[0].cell.config.task.frequency;
        const slope = freq.kind === 'power' ? predictedSlope(rows[0].r.optimizerName, freq.powerExponent) : null;
        notes.push(`${label} ${fit.slope.toFixed(2)}${slope !== null ? ` ([C] one-step: ${slope.toFixed(2)})` : ''}`);
        if (slope !== null) {
          // The predicted slope through the fit's centre (geometric means), so only the slope is compared.
          const lx = positive.reduce((s, p) => s + Math.log(p[0]), 0) / positive.length;
          const ly = positive.reduce((s, p) => s + Math.log(p[1]), 0) / positive.length;
          series.push({ name: `${label} predicted`, color, style: 'line', dashed: true, points: xs.map((d): [number, number] => [d, Math.exp(ly + slope * (Math.log(d) - lx))]) });
        }
      }
    }
  }
  return {
    id: 'capacity-d',
    title: 'Capacity vs d (final step)',
    subtitle: ds.size >= 2 ? (notes.length ? `slopes: ${notes.join(' · ')}` : 'need 2 d values with capacity > 0 to fit') : 'needs a sweep over task.dIn/dOut (≥ 2 values of d)',
    xLabel: 'd = min(dIn, dOut)',
    yLabel: 'recovered items',
    xLog: true,
    yLog: true,
    series,
  };
}

/** σ_k² / Σσ² for k = 1 … topK, from the cumulative top-k energy shares. */
export function energyShares(iso: Isotropy): number[] {
  return iso.topE.map((e, k) => e - (k > 0 ? iso.topE[k - 1] : 0));
}

function spectraPlot(state: RunState, colors: Map<string, string>): LivePlotSpec {
  const cell = [...state.cells].reverse().find((c) => c.records.some((r) => r.isotropy));
  const series: LiveSeries[] = [];
  const notes: string[] = [];
  let step = -1;
  if (cell) {
    for (const [label, records] of groupBy(cell.records.filter((r) => r.isotropy), (r) => r.optimizer)) {
      const firstSeed = records[0].runSeed;
      // The latest metric step whose record has an update spectrum (the last step has none).
      const mine = records.filter((r) => r.runSeed === firstSeed);
      const rec = [...mine].reverse().find((r) => r.isotropy!.update) ?? mine[mine.length - 1];
      step = Math.max(step, rec.step);
      const color = colors.get(label)!;
      const w = rec.isotropy!.w;
      series.push({ name: `${label} W`, color, style: 'both', points: energyShares(w).map((s, k): [number, number] => [k + 1, s]) });
      const u = rec.isotropy!.update;
      if (u) series.push({ name: `${label} update`, color, style: 'both', dashed: true, points: energyShares(u).map((s, k): [number, number] => [k + 1, s]) });
      const h = (v: number | null) => (v === null ? '—' : v.toFixed(2));
      notes.push(`${label}: W eRank ${w.eRank.toFixed(1)} H ${h(w.hNorm)}${u ? `, update eRank ${u.eRank.toFixed(1)} H ${h(u.hNorm)}` : ''}`);
    }
  }
  return {
    id: 'spectra',
    title: cell ? `Singular-value energy of W and of the update (step ${step})` : 'Singular-value energy of W and of the update',
    subtitle: cell ? notes.join('\n') : 'set metrics.isotropy: true to record spectra',
    xLabel: 'k (singular value rank)',
    yLabel: 'σ_k² / Σσ²',
    yLog: true,
    series,
  };
}

/** Every live plot of a training run, in PLOT_IDS order. */
export function buildPlots(state: RunState): LivePlotSpec[] {
  const colors = colorsOf(state);
  return [lossPlot(state, colors), bucketPlot(state, colors, 'meanPCorrect'), bucketPlot(state, colors, 'accuracy'), deltaLossPlot(state, colors), capacityPlot(state, colors), spectraPlot(state, colors)];
}
