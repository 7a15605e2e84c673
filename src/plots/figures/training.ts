/**
 * The figures of a config run (`muonlab run CONFIG.json`, the page's live plots): loss per run
 * (median over seeds with the min–max band, one panel per sweep cell), head vs tail pCorrect and
 * accuracy, Δ against loss (one point per run and metric step), capacity against d with fitted and
 * [C]'s predicted slopes, and the top singular-value energy shares of W and of the update. Built from
 * the metric records muonlab writes (metrics.jsonl, the page's run state), in TRAINING_FIGURES order;
 * the same functions draw the page live and write plots/ on disk.
 */
import type { ExperimentConfig } from '../../experiments/config';
import { fitPowerLaw } from '../../metrics/fits';
import type { Isotropy } from '../../metrics/isotropy';
import type { TrainMetricsRecord } from '../../train/records';
import {
  colorEncoding,
  seedRangeLayer,
  dashLegend,
  figureSpec,
  logEncoding,
  fittedScale,
  legendFor,
  noteLayers,
  noteRows,
  ONLY_DATA,
  PANEL,
  powerLawRows,
  referenceLayers,
  slopeNote,
  ZOOM_PARAM,
  type Figure,
  type SpecObject,
} from '../spec';
import { colorScale, VARIANT_DASHES, variantDashes } from '../style';

export const TRAINING_FIGURES = ['loss', 'bucket-pcorrect', 'bucket-accuracy', 'delta-loss', 'capacity-d', 'spectra'] as const;
export type TrainingFigureId = (typeof TRAINING_FIGURES)[number];

/** One sweep cell's records, as metrics.jsonl and the page hold them. */
export interface TrainingCell {
  id: string;
  point: Record<string, unknown>;
  config: ExperimentConfig;
  records: readonly TrainMetricsRecord[];
}

/** A short name for a cell: its axis values without the paths' prefixes (`dIn=32,dOut=32`). */
export function cellLabel(cell: Pick<TrainingCell, 'point' | 'config'>): string {
  const entries = Object.entries(cell.point);
  if (entries.length === 0) return cell.config.name;
  return entries.map(([p, v]) => `${p.split('.').pop()}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(',');
}

function median(values: readonly number[]): number {
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

/** Optimizer colours and variant dashes for the labels of these cells (config optimizers by label). */
function styleOf(cells: readonly TrainingCell[]): {
  colors: { domain: string[]; range: string[] };
  dashes: { domain: string[]; range: number[][] };
} {
  const info = new Map<string, { name: string; orth?: string }>();
  for (const cell of cells)
    for (const o of cell.config.optimizers)
      info.set(o.label ?? o.name, { name: o.name, orth: 'orth' in o ? (o.orth as string | undefined) : undefined });
  for (const cell of cells) for (const r of cell.records) if (!info.has(r.optimizer)) info.set(r.optimizer, { name: r.optimizerName });
  const labels = [...new Set(cells.flatMap((c) => c.records.map((r) => r.optimizer)))];
  const colors = colorScale(labels.length ? labels : [...info.keys()], (l) => info.get(l) ?? {});
  return { colors, dashes: variantDashes(colors) };
}

/** Median over seeds per step with min and max; x = step + 1 so step 0 sits on a log axis. */
function seedRows(records: readonly TrainMetricsRecord[], value: (r: TrainMetricsRecord) => number, extra: SpecObject): SpecObject[] {
  const bySteps = groupBy(
    records.filter((r) => Number.isFinite(value(r))),
    (r) => String(r.step),
  );
  return [...bySteps.values()]
    .sort((a, b) => a[0].step - b[0].step)
    .map((rs) => {
      const vs = rs.map(value);
      return {
        ...extra,
        step: rs[0].step,
        x: rs[0].step + 1,
        value: median(vs),
        lo: Math.min(...vs),
        hi: Math.max(...vs),
        seeds: rs.length,
        run: rs.map((r) => r.run).join(', '),
      };
    });
}

function emptyNote(rows: readonly SpecObject[], what: string): string | undefined {
  return rows.length ? undefined : what;
}

function lossFigure(cells: readonly TrainingCell[]): Figure {
  const { colors, dashes } = styleOf(cells);
  const many = cells.length > 1;
  const rows: SpecObject[] = [];
  for (const cell of cells) {
    for (const [label, records] of groupBy(cell.records, (r) => r.optimizer)) {
      rows.push(
        ...seedRows(records, (r) => (r.loss > 0 ? r.loss : NaN), {
          optimizer: label,
          cell: cellLabel(cell),
          series: many ? `${label} · ${cellLabel(cell)}` : label,
        }),
      );
    }
  }
  const seeds = Math.max(0, ...cells.map((c) => new Set(c.records.map((r) => r.runSeed)).size));
  const x = logEncoding(
    'x',
    'step + 1',
    rows.map((r) => r.x as number),
  );
  const y = logEncoding(
    'value',
    'population loss',
    rows.flatMap((r) => [r.lo as number, r.hi as number]),
  );
  const layers = [
    ...(seeds > 1
      ? [seedRangeLayer({ mark: 'area', x, color: colorEncoding('optimizer', colors), detail: 'series', description: 'series' })]
      : []),
    {
      params: [ZOOM_PARAM],
      mark: { type: 'line', point: rows.length <= 400, clip: true },
      encoding: {
        x,
        y,
        color: colorEncoding('optimizer', colors),
        strokeDash: { field: 'optimizer', type: 'nominal', scale: dashes, title: null, legend: legendFor(colors.domain.length) },
        description: { field: 'series' },
        tooltip: [
          { field: 'run' },
          { field: 'optimizer' },
          { field: 'step' },
          { field: 'value', title: seeds > 1 ? 'median loss' : 'loss', format: '.4g' },
          ...(seeds > 1
            ? [
                { field: 'lo', title: 'min', format: '.4g' },
                { field: 'hi', title: 'max', format: '.4g' },
              ]
            : []),
          ...(many ? [{ field: 'cell' }] : []),
        ],
      },
    },
  ];
  return {
    name: 'loss',
    title: 'Population loss per run',
    caption: 'The loss of every optimizer along training (log–log), one colour per optimizer; where seeds differ the band spans them.',
    spec: figureSpec({
      title: 'Population loss per run',
      subtitle:
        emptyNote(rows, 'waiting for data') ?? (seeds > 1 ? `line: median over ${seeds} seeds; band: min–max over seeds` : undefined),
      datasets: { main: rows },
      body: many
        ? {
            data: { name: 'main' },
            facet: { field: 'cell', type: 'nominal', title: null, header: { labelFontWeight: 'bold' } },
            columns: 3,
            spec: { width: PANEL.facetWidth, height: PANEL.facetHeight, layer: layers },
          }
        : { data: { name: 'main' }, width: PANEL.width, height: PANEL.height, layer: layers },
    }),
  };
}

function bucketFigure(cells: readonly TrainingCell[], which: 'meanPCorrect' | 'accuracy'): Figure {
  const { colors } = styleOf(cells);
  const cell = [...cells].reverse().find((c) => c.records.length > 0);
  const rows: SpecObject[] = [];
  // Records without buckets (none configured) draw no bucket series.
  if (cell && cell.records[0].buckets.length > 0) {
    const buckets = cell.records[0].buckets;
    // Buckets come in frequency-rank order: the first is the head; the tail is the last bucket
    // holding at least a quarter of the largest one's items (log-rank buckets end in a stub).
    const largest = Math.max(...buckets.map((b) => b.items));
    const tail = [...buckets].reverse().find((b) => b.items * 4 >= largest) ?? buckets[buckets.length - 1];
    const names = buckets.length > 1 && tail !== buckets[0] ? [buckets[0].bucket, tail.bucket] : [buckets[0].bucket];
    for (const [label, records] of groupBy(cell.records, (r) => r.optimizer)) {
      names.forEach((bucket, k) => {
        const value = (r: TrainMetricsRecord) => r.buckets.find((b) => b.bucket === bucket)?.[which] ?? NaN;
        rows.push(
          ...seedRows(records, value, {
            optimizer: label,
            bucket: `${k === 0 ? 'head' : 'tail'}: ${bucket}`,
            series: `${label} · ${bucket}`,
          }),
        );
      });
    }
  }
  const what = which === 'meanPCorrect' ? 'mean p̂(y(i)|i)' : 'accuracy (fraction recovered)';
  const bucketNames = [...new Set(rows.map((r) => r.bucket as string))];
  const x = logEncoding(
    'x',
    'step + 1',
    rows.map((r) => r.x as number),
  );
  const y = {
    field: 'value',
    type: 'quantitative',
    scale: fittedScale(false, { domain: [0, 1] }),
    axis: { title: what, values: [0, 0.2, 0.4, 0.6, 0.8, 1] },
  };
  return {
    name: which === 'meanPCorrect' ? 'bucket-pcorrect' : 'bucket-accuracy',
    title: `${which === 'meanPCorrect' ? 'pCorrect' : 'Accuracy'} by frequency bucket: head vs tail`,
    caption: 'Head items (solid) against tail items (dashed) per optimizer: a balanced optimizer learns both together.',
    spec: figureSpec({
      title: `${which === 'meanPCorrect' ? 'pCorrect' : 'Accuracy'} by frequency bucket: head vs tail`,
      subtitle:
        emptyNote(rows, 'waiting for data (or no frequency buckets)') ?? (cells.length > 1 && cell ? `cell ${cellLabel(cell)}` : undefined),
      datasets: { main: rows },
      body: {
        data: { name: 'main' },
        width: PANEL.width,
        height: PANEL.height,
        layer: [
          {
            params: [ZOOM_PARAM],
            mark: { type: 'line', point: rows.length <= 400, clip: true },
            encoding: {
              x,
              y,
              color: colorEncoding('optimizer', colors),
              strokeDash: {
                field: 'bucket',
                type: 'nominal',
                title: null,
                scale: { domain: bucketNames, range: bucketNames.map((_b, k) => VARIANT_DASHES[k]) },
                legend: dashLegend(),
              },
              detail: { field: 'series', type: 'nominal' },
              description: { field: 'series' },
              tooltip: [
                { field: 'run' },
                { field: 'optimizer' },
                { field: 'bucket' },
                { field: 'step' },
                { field: 'value', title: which === 'meanPCorrect' ? 'pCorrect' : 'accuracy', format: '.4f' },
              ],
            },
          },
        ],
      },
    }),
  };
}

function deltaLossFigure(cells: readonly TrainingCell[]): Figure {
  const { colors } = styleOf(cells);
  const rows: SpecObject[] = cells.flatMap((cell) =>
    cell.records
      .filter((r) => r.loss > 0 && Number.isFinite(r.loss) && Number.isFinite(r.delta))
      .map((r) => ({
        optimizer: r.optimizer,
        run: r.run,
        step: r.step,
        loss: r.loss,
        delta: r.delta,
        cell: cellLabel(cell),
        series: r.optimizer,
      })),
  );
  const x = logEncoding(
    'loss',
    'population loss',
    rows.map((r) => r.loss as number),
  );
  const y = {
    field: 'delta',
    type: 'quantitative',
    scale: fittedScale(false, { domain: [0, 1] }),
    axis: { title: 'Δ = max p̂ − min p̂', values: [0, 0.2, 0.4, 0.6, 0.8, 1] },
  };
  return {
    name: 'delta-loss',
    title: 'Balance gap Δ against loss',
    caption: 'One point per run and metric step: a balanced optimizer keeps Δ near 0 while its loss falls.',
    spec: figureSpec({
      title: 'Balance gap Δ against loss',
      subtitle: emptyNote(rows, 'waiting for data') ?? 'one point per run per metric step; Δ = max pCorrect − min pCorrect',
      datasets: { main: rows },
      body: {
        data: { name: 'main' },
        width: PANEL.width,
        height: PANEL.height,
        layer: [
          {
            params: [ZOOM_PARAM],
            mark: { type: 'point', filled: true, size: 30, opacity: 0.85 },
            encoding: {
              x,
              y,
              color: colorEncoding('optimizer', colors),
              description: { field: 'series' },
              tooltip: [
                { field: 'run' },
                { field: 'optimizer' },
                { field: 'step' },
                { field: 'loss', format: '.4g' },
                { field: 'delta', title: 'Δ', format: '.4f' },
                { field: 'cell' },
              ],
            },
          },
        ],
      },
    }),
  };
}

/** [C]'s one-step capacity exponents for power-law frequencies p_i ∝ i^(−a). */
function predictedSlope(optimizerName: string, a: number): { slope: number; formula: string } | null {
  if (optimizerName === 'muon') return { slope: 1 + 1 / (2 * a), formula: 'd^(1+1/2a)' };
  if (optimizerName === 'gd' || optimizerName === 'sgd') return { slope: 1 / (2 * a), formula: 'd^(1/2a)' };
  return null;
}

function capacityFigure(cells: readonly TrainingCell[]): Figure {
  const { colors } = styleOf(cells);
  const dOf = (c: TrainingCell) => Math.min(c.config.task.dIn, c.config.task.dOut);
  const ds = new Set(cells.filter((c) => c.records.length > 0).map(dOf));
  const rows: SpecObject[] = [];
  const notes: string[] = [];
  const corner: { text: string; optimizer: string }[] = [];
  if (ds.size >= 2) {
    // Final capacity of each run of each cell (the last record), median over seeds.
    const finals = cells.flatMap((cell) => {
      const last = new Map<number, TrainMetricsRecord>();
      for (const r of cell.records) last.set(r.run, r);
      return [...last.values()].map((r) => ({ d: dOf(cell), r, cell }));
    });
    for (const [label, fs] of groupBy(finals, (f) => f.r.optimizer)) {
      const byD = [...groupBy(fs, (f) => String(f.d)).values()].sort((a, b) => a[0].d - b[0].d);
      const points = byD.map((g): [number, number] => [g[0].d, median(g.map((f) => f.r.capacity))]);
      for (const g of byD)
        rows.push({
          optimizer: label,
          d: g[0].d,
          capacity: median(g.map((f) => f.r.capacity)),
          step: g[0].r.step,
          run: g.map((f) => f.r.run).join(', '),
          series: label,
        });
      const freq = fs[0].cell.config.task.frequency;
      const law = freq.kind === 'power' ? predictedSlope(fs[0].r.optimizerName, freq.powerExponent) : null;
      const { rows: lines, slope } = powerLawRows(
        points,
        { x: 'd', y: 'capacity' },
        { name: label, fit: fitPowerLaw, predicted: law?.slope, formula: law?.formula, extra: { optimizer: label } },
      );
      rows.push(...lines);
      if (slope !== null) {
        notes.push(`${label} ${slope.toFixed(2)}${law ? ` ([C] one-step: ${law.slope.toFixed(2)})` : ''}`);
        corner.push({ text: slopeNote(label, slope, law?.slope), optimizer: label });
      }
    }
    rows.push(...noteRows(corner, {}, 'top-left', PANEL.width, PANEL.height));
  }
  const drawn = rows.filter((r) => r.kind == null && (r.capacity as number) > 0);
  const x = logEncoding('d', 'd = min(dIn, dOut)', [...ds]);
  const y = logEncoding(
    'capacity',
    'recovered items',
    drawn.map((r) => r.capacity as number),
  );
  return {
    name: 'capacity-d',
    title: 'Capacity against d (final step)',
    caption:
      "Recovered items against d per optimizer, with fitted slopes (solid) and [C]'s one-step predictions (dashed) for power-law frequencies.",
    spec: figureSpec({
      title: 'Capacity against d (final step)',
      subtitle:
        ds.size >= 2
          ? notes.length
            ? `slopes: ${notes.join(' · ')}`
            : 'need 2 d values with capacity > 0 to fit'
          : 'needs a sweep over task.dIn/dOut (≥ 2 values of d)',
      datasets: { main: rows.filter((r) => r.kind != null || (r.capacity as number) > 0) },
      body: {
        data: { name: 'main' },
        width: PANEL.width,
        height: PANEL.height,
        layer: [
          {
            params: [ZOOM_PARAM],
            transform: [ONLY_DATA],
            mark: { type: 'point', filled: true, size: 50 },
            encoding: {
              x,
              y,
              color: colorEncoding('optimizer', colors),
              description: { field: 'series' },
              tooltip: [
                { field: 'run' },
                { field: 'optimizer' },
                { field: 'step' },
                { field: 'd' },
                { field: 'capacity', title: 'items (median)' },
              ],
            },
          },
          ...referenceLayers({ x, y, kind: 'fit', colorField: { field: 'optimizer', scale: colors } }),
          ...referenceLayers({ x, y, colorField: { field: 'optimizer', scale: colors } }),
          ...noteLayers({ field: 'optimizer', scale: colors }),
        ],
      },
    }),
  };
}

/** σ_k² / Σσ² for k = 1 … topK, from the cumulative top-k energy shares. */
export function energyShares(iso: Isotropy): number[] {
  return iso.topE.map((e, k) => e - (k > 0 ? iso.topE[k - 1] : 0));
}

function spectraFigure(cells: readonly TrainingCell[]): Figure {
  const { colors } = styleOf(cells);
  const cell = [...cells].reverse().find((c) => c.records.some((r) => r.isotropy));
  const rows: SpecObject[] = [];
  const notes: string[] = [];
  let step = -1;
  if (cell) {
    for (const [label, records] of groupBy(
      cell.records.filter((r) => r.isotropy),
      (r) => r.optimizer,
    )) {
      const firstSeed = records[0].runSeed;
      // The latest metric step whose record has an update spectrum (the last step has none).
      const mine = records.filter((r) => r.runSeed === firstSeed);
      const rec = [...mine].reverse().find((r) => r.isotropy!.update) ?? mine[mine.length - 1];
      step = Math.max(step, rec.step);
      const w = rec.isotropy!.w;
      energyShares(w).forEach(
        (share, k) =>
          share > 0 && rows.push({ optimizer: label, matrix: 'W', k: k + 1, share, run: rec.run, step: rec.step, series: `${label} W` }),
      );
      const u = rec.isotropy!.update;
      if (u)
        energyShares(u).forEach(
          (share, k) =>
            share > 0 &&
            rows.push({ optimizer: label, matrix: 'update', k: k + 1, share, run: rec.run, step: rec.step, series: `${label} update` }),
        );
      const h = (v: number | null) => (v === null ? '—' : v.toFixed(2));
      notes.push(
        `${label}: W eRank ${w.eRank.toFixed(1)} H ${h(w.hNorm)}${u ? `, update eRank ${u.eRank.toFixed(1)} H ${h(u.hNorm)}` : ''}`,
      );
    }
  }
  const ks = rows.map((r) => r.k as number);
  const x = { field: 'k', type: 'quantitative', scale: fittedScale(false), axis: { title: 'k (singular value rank)', tickMinStep: 1 } };
  const y = logEncoding(
    'share',
    'σ_k² / Σσ²',
    rows.map((r) => r.share as number),
  );
  return {
    name: 'spectra',
    title: cell ? `Singular-value energy of W and of the update (step ${step})` : 'Singular-value energy of W and of the update',
    caption: 'The top singular-value energy shares of W (solid) and of the update (dashed): a flat profile is an isotropic matrix.',
    spec: figureSpec({
      title: cell ? `Singular-value energy of W and of the update (step ${step})` : 'Singular-value energy of W and of the update',
      subtitle: cell ? notes : 'set metrics.isotropy: true to record spectra',
      datasets: { main: rows },
      body: {
        data: { name: 'main' },
        width: PANEL.width,
        height: PANEL.height,
        layer: [
          {
            params: [ZOOM_PARAM],
            mark: { type: 'line', point: true, clip: true },
            encoding: {
              x: ks.length ? x : { ...x, scale: fittedScale(false, { domain: [1, 10] }) },
              y,
              color: colorEncoding('optimizer', colors),
              strokeDash: {
                field: 'matrix',
                type: 'nominal',
                title: null,
                scale: { domain: ['W', 'update'], range: [VARIANT_DASHES[0], VARIANT_DASHES[1]] },
                legend: dashLegend(),
              },
              detail: { field: 'series', type: 'nominal' },
              description: { field: 'series' },
              tooltip: [
                { field: 'run' },
                { field: 'optimizer' },
                { field: 'step' },
                { field: 'matrix' },
                { field: 'k' },
                { field: 'share', format: '.4g' },
              ],
            },
          },
        ],
      },
    }),
  };
}

/**
 * Every figure of a config run, in TRAINING_FIGURES order, from its cells' records. A figure with no
 * drawable data yet still has its frame and says what it waits for.
 *
 * @example
 * const figures = trainingFigures(state.cells); // loss, bucket-pcorrect, …, spectra
 */
export function trainingFigures(cells: readonly TrainingCell[]): Figure[] {
  return [
    lossFigure(cells),
    bucketFigure(cells, 'meanPCorrect'),
    bucketFigure(cells, 'accuracy'),
    deltaLossFigure(cells),
    capacityFigure(cells),
    spectraFigure(cells),
  ];
}
