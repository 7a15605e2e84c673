/**
 * [C]'s batch-size figures: capacity after one minibatch step against B with the population step as
 * the ceiling and the critical batch B* marked, one panel per d, and B* against d with fitted and
 * predicted slopes ([C] Fig. 3, c-critical-batch); capacity along training for population GD and
 * Muon and minibatch Muon per B, and the sample limit (B·t)^{1/a} ([C] Fig. 5, c-minibatch). Inputs
 * are the presets' measurement records, typed structurally.
 */
import { fitPowerLaw } from '../../metrics/fits';
import {
  colorEncoding,
  dashLegend,
  figureSpec,
  logEncoding,
  fittedScale,
  noteLayers,
  noteRows,
  ONLY_DATA,
  PANEL,
  powerLawRows,
  referenceLayers,
  referenceRows,
  slopeNote,
  ZOOM_PARAM,
  type Figure,
  type SpecObject,
} from '../spec';
import { colorScale, VARIANT_DASHES, VARIANT_SHAPES } from '../style';

/** One capacity of c-critical-batch (a measurement record); batchSize null is the population step. */
export interface BatchRecord {
  d: number;
  seed: number;
  optimizer: string;
  batchSize: number | null;
  distinct: number;
  capacity: number;
}

/** B* of one (d, optimizer) (the preset's `criticalBatches` setting). */
export interface CriticalBatch {
  d: number;
  optimizer: string;
  plateau: number;
  criticalBatch: number;
}

function mean(values: readonly number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}

/**
 * Capacity after one minibatch step against B (log–log), one panel per d: SGD and Muon (seed means),
 * the distinct items drawn (grey), each optimizer's population-step capacity as a dashed ceiling and
 * its critical batch B* as a vertical dotted rule.
 *
 * @example
 * capacityVsBatchFigure(report.measurements, report.settings.criticalBatches, { N: 2048, a: 1.5 });
 */
export function capacityVsBatchFigure(
  records: readonly BatchRecord[],
  critical: readonly CriticalBatch[],
  options: { N: number; a: number; fraction: number },
): Figure {
  const ds = [...new Set(records.map((r) => r.d))].sort((x, y) => x - y);
  const optimizers = [...new Set(records.map((r) => r.optimizer))];
  const batches = [...new Set(records.map((r) => r.batchSize).filter((b): b is number => b !== null))].sort((x, y) => x - y);
  const rows: SpecObject[] = [];
  for (const d of ds) {
    for (const o of optimizers) {
      for (const B of batches) {
        const sel = records.filter((r) => r.d === d && r.optimizer === o && r.batchSize === B);
        const c = mean(sel.map((r) => r.capacity));
        if (c > 0) rows.push({ panel: `d = ${d}`, d, optimizer: o, B, capacity: c, series: `${o} · d = ${d}` });
      }
      const cb = critical.find((c) => c.d === d && c.optimizer === o);
      if (cb && cb.plateau > 0)
        rows.push(
          ...referenceRows(
            `${o} population step`,
            [
              [batches[0], cb.plateau],
              [batches[batches.length - 1], cb.plateau],
            ],
            { x: 'B', y: 'capacity' },
            { panel: `d = ${d}`, optimizer: o, label: `${o} B = ∞` },
          ),
        );
      if (cb && Number.isFinite(cb.criticalBatch))
        rows.push({ kind: 'critical', panel: `d = ${d}`, optimizer: o, B: cb.criticalBatch, label: `${o} B*`, ref: `${o} B* · d = ${d}` });
    }
    for (const B of batches) {
      const sel = records.filter((r) => r.d === d && r.batchSize === B && r.optimizer === optimizers[0]);
      const drawn = mean(sel.map((r) => r.distinct));
      if (drawn > 0) rows.push({ kind: 'drawn', panel: `d = ${d}`, B, capacity: drawn, series: `distinct items drawn · d = ${d}` });
    }
  }
  const colors = colorScale(optimizers);
  const x = logEncoding('B', 'batch size B', batches);
  const y = logEncoding(
    'capacity',
    'items recovered',
    rows.filter((r) => r.capacity).map((r) => r.capacity as number),
  );
  return {
    name: 'capacity-vs-batch',
    title: `Items recovered after one minibatch step (N = ${options.N}, a = ${options.a})`,
    caption:
      'SGD saturates at a handful of draws; Muon keeps recovering about every distinct item drawn (grey) up to its critical batch B* (dotted), orders of magnitude later.',
    spec: figureSpec({
      title: `Items recovered after one minibatch step against B (N = ${options.N}, a = ${options.a})`,
      subtitle: `dashed: the population step (B = ∞); dotted: B*, where the mean reaches ${options.fraction * 100}% of it; grey: distinct items drawn`,
      datasets: { main: rows },
      body: {
        data: { name: 'main' },
        facet: {
          column: { field: 'panel', type: 'nominal', title: null, sort: ds.map((d) => `d = ${d}`), header: { labelFontWeight: 'bold' } },
        },
        spec: {
          width: PANEL.facetWidth,
          height: PANEL.facetHeight + 30,
          layer: [
            {
              transform: [{ filter: "datum.kind === 'drawn'" }],
              mark: { type: 'line', color: '#9a9a9a', strokeWidth: 1.2, clip: true },
              encoding: {
                x,
                y,
                description: { field: 'series' },
                tooltip: [{ field: 'B' }, { field: 'capacity', title: 'distinct drawn', format: '.1f' }],
              },
            },
            {
              params: [ZOOM_PARAM],
              transform: [ONLY_DATA],
              mark: { type: 'line', point: true, clip: true },
              encoding: {
                x,
                y,
                color: colorEncoding('optimizer', colors),
                description: { field: 'series' },
                tooltip: [{ field: 'optimizer' }, { field: 'd' }, { field: 'B' }, { field: 'capacity', title: 'items', format: '.1f' }],
              },
            },
            ...referenceLayers({ x, y, colorField: { field: 'optimizer', scale: colors } }),
            {
              transform: [{ filter: "datum.kind === 'critical'" }],
              mark: { type: 'rule', strokeDash: [2, 2], strokeWidth: 1.2 },
              encoding: {
                x: { field: 'B', type: 'quantitative' },
                color: { field: 'optimizer', type: 'nominal', scale: colors },
                description: { field: 'ref' },
                tooltip: [{ field: 'label' }, { field: 'B', format: '.4g' }],
              },
            },
          ],
        },
      },
    }),
  };
}

/**
 * B* against d (log–log) for SGD and Muon: measured points, fitted slopes, and [C]'s predicted
 * exponents (a + 1/2 for Muon, 1/2 for SGD) dashed through each fit's centre.
 *
 * @example
 * criticalBatchFigure(report.settings.criticalBatches, { a: 1.5 });
 */
export function criticalBatchFigure(critical: readonly CriticalBatch[], options: { a: number }): Figure {
  const usable = critical.filter((c) => Number.isFinite(c.criticalBatch) && c.criticalBatch > 0);
  const main: SpecObject[] = usable.map((c) => ({
    optimizer: c.optimizer,
    d: c.d,
    B: c.criticalBatch,
    plateau: c.plateau,
    series: c.optimizer,
  }));
  const lines: SpecObject[] = [];
  const notes: { text: string; optimizer: string }[] = [];
  for (const o of [...new Set(usable.map((c) => c.optimizer))]) {
    const law = o === 'Muon' ? { slope: options.a + 0.5, formula: 'd^(a+1/2)' } : { slope: 0.5, formula: 'd^(1/2)' };
    const fitted = powerLawRows(
      usable.filter((c) => c.optimizer === o).map((c) => [c.d, c.criticalBatch] as [number, number]),
      { x: 'd', y: 'B' },
      { name: o, fit: fitPowerLaw, predicted: law.slope, formula: law.formula, extra: { optimizer: o } },
    );
    lines.push(...fitted.rows);
    notes.push({ text: slopeNote(o, fitted.slope, law.slope), optimizer: o });
  }
  lines.push(...noteRows(notes, {}, 'top-left', PANEL.width - 60, PANEL.height));
  const colors = colorScale(critical.map((c) => c.optimizer));
  const x = logEncoding(
    'd',
    'd',
    critical.map((c) => c.d),
  );
  const y = logEncoding(
    'B',
    'critical batch B*',
    main.map((r) => r.B as number),
  );
  return {
    name: 'critical-batch-vs-d',
    title: `Critical batch B* against d (a = ${options.a})`,
    caption:
      "Muon's critical batch grows steeply with d (predicted d^(a+1/2), dashed) while SGD's stays near √d: Muon profits from batches far larger than SGD can use.",
    spec: figureSpec({
      title: `Critical batch B* against d (a = ${options.a})`,
      subtitle: "points: measured; solid: fitted power law; dashed: [C]'s d^(a+1/2) for Muon, d^(1/2) for SGD",
      datasets: { main: [...main, ...lines] },
      body: {
        data: { name: 'main' },
        width: PANEL.width - 60,
        height: PANEL.height,
        layer: [
          {
            params: [ZOOM_PARAM],
            transform: [ONLY_DATA],
            mark: { type: 'point', filled: true, size: 55 },
            encoding: {
              x,
              y,
              color: colorEncoding('optimizer', colors),
              description: { field: 'series' },
              tooltip: [
                { field: 'optimizer' },
                { field: 'd' },
                { field: 'B', title: 'B*', format: '.4g' },
                { field: 'plateau', title: 'population capacity', format: '.1f' },
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

/** One record of c-minibatch: a series ('GD (rising η)', 'Muon', 'Muon B=16') at a step. */
export interface MinibatchRecord {
  series: string;
  batchSize: number | null;
  seed: number;
  step: number;
  capacity: number;
  distinctSeen?: number | null;
  samplesSeen?: number | null;
}

/**
 * Capacity along training (log y): population GD (rising η) and Muon solid, minibatch Muon per B in
 * Muon's colour with one dash pattern per B.
 *
 * @example
 * minibatchCapacityFigure(report.measurements, { N: 2048, d: 64, a: 1.5 });
 */
export function minibatchCapacityFigure(records: readonly MinibatchRecord[], options: { N: number; d: number; a: number }): Figure {
  const names = [...new Set(records.map((r) => r.series))];
  const batches = [...new Set(records.map((r) => r.batchSize).filter((b): b is number => b !== null))].sort((x, y) => x - y);
  const variantOf = (r: MinibatchRecord) => (r.batchSize === null ? 'population' : `B = ${r.batchSize}`);
  const optimizerOf = (series: string) => (series.startsWith('GD') ? 'GD (rising η)' : 'Muon');
  const rows: SpecObject[] = [];
  for (const s of names) {
    const mine = records.filter((r) => r.series === s && r.step >= 1);
    for (const t of [...new Set(mine.map((r) => r.step))].sort((x, y) => x - y)) {
      const at = mine.filter((r) => r.step === t);
      const c = mean(at.map((r) => r.capacity));
      if (c > 0)
        rows.push({
          optimizer: optimizerOf(s),
          variant: variantOf(at[0]),
          step: t,
          capacity: c,
          series: `${optimizerOf(s)} · ${variantOf(at[0])}`,
        });
    }
  }
  const colors = colorScale(names.map(optimizerOf));
  const variants = ['population', ...batches.map((B) => `B = ${B}`)];
  const x = { field: 'step', type: 'quantitative', scale: fittedScale(false), axis: { title: 'step t' } };
  const y = logEncoding(
    'capacity',
    'items recovered',
    rows.map((r) => r.capacity as number),
  );
  return {
    name: 'capacity-vs-step',
    title: `Items recovered along training (N = ${options.N}, d = ${options.d}, a = ${options.a})`,
    caption:
      'Population Muon stays far above GD with a rising step size; minibatch Muon follows the population run only as far as its draws allow, small batches lagging most.',
    spec: figureSpec({
      title: `Items recovered along training (N = ${options.N}, d = ${options.d}, a = ${options.a})`,
      subtitle: 'population GD (η_t = 0.01√d·2^(t−1)) and Muon (η = √d) solid; minibatch Muon per batch size B dashed',
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
              x,
              y,
              color: colorEncoding('optimizer', colors),
              strokeDash: {
                field: 'variant',
                type: 'nominal',
                title: null,
                scale: { domain: variants, range: variants.map((_v, k) => VARIANT_DASHES[k % VARIANT_DASHES.length]) },
                legend: dashLegend(),
              },
              description: { field: 'series' },
              tooltip: [
                { field: 'optimizer' },
                { field: 'variant' },
                { field: 'step' },
                { field: 'capacity', title: 'items', format: '.1f' },
              ],
            },
          },
        ],
      },
    }),
  };
}

/**
 * The sample limit of minibatch Muon: items recovered (points, one shape per B) and distinct items
 * seen (grey line) against the samples drawn B·t, with (B·t)^{1/a} dashed.
 *
 * @example
 * sampleLimitFigure(report.measurements, { a: 1.5 });
 */
export function sampleLimitFigure(records: readonly MinibatchRecord[], options: { a: number }): Figure {
  const mini = records.filter((r) => r.batchSize !== null && r.step >= 1 && r.samplesSeen != null);
  const batches = [...new Set(mini.map((r) => r.batchSize!))].sort((x, y) => x - y);
  const rows: SpecObject[] = [];
  for (const B of batches) {
    const mine = mini.filter((r) => r.batchSize === B);
    for (const t of [...new Set(mine.map((r) => r.step))].sort((x, y) => x - y)) {
      const at = mine.filter((r) => r.step === t);
      const c = mean(at.map((r) => r.capacity));
      const seen = mean(at.map((r) => r.distinctSeen ?? NaN));
      if (c > 0) rows.push({ optimizer: 'Muon', B: `B = ${B}`, samples: B * t, items: c, seen, series: `Muon · B = ${B}` });
      if (seen > 0) rows.push({ kind: 'seen', B: `B = ${B}`, samples: B * t, items: seen, series: `distinct seen · B = ${B}` });
    }
  }
  const samples = rows.map((r) => r.samples as number);
  const lo = Math.min(...samples);
  const hi = Math.max(...samples);
  rows.push(
    ...referenceRows(
      '(B·t)^(1/a)',
      Array.from({ length: 12 }, (_, k) => lo * (hi / lo) ** (k / 11)).map((s) => [s, s ** (1 / options.a)] as [number, number]),
      { x: 'samples', y: 'items' },
    ),
  );
  const colors = colorScale(['Muon']);
  const x = logEncoding('samples', 'samples drawn B·t', samples);
  const y = logEncoding(
    'items',
    'items',
    rows.map((r) => r.items as number),
  );
  return {
    name: 'sample-limit',
    title: 'Minibatch Muon against its sample limit',
    caption:
      'Minibatch Muon recovers about every distinct item it has seen (grey), which grows as (B·t)^(1/a) (dashed): the samples, not the optimizer, limit it.',
    spec: figureSpec({
      title: `Minibatch Muon: items recovered and distinct items seen against samples B·t (a = ${options.a})`,
      datasets: { main: rows },
      body: {
        data: { name: 'main' },
        width: PANEL.width,
        height: PANEL.height,
        layer: [
          {
            transform: [{ filter: "datum.kind === 'seen'" }],
            mark: { type: 'line', color: '#9a9a9a', strokeWidth: 1.2, clip: true },
            encoding: {
              x,
              y,
              detail: { field: 'B', type: 'nominal' },
              description: { field: 'series' },
              tooltip: [{ field: 'B' }, { field: 'samples' }, { field: 'items', title: 'distinct seen', format: '.1f' }],
            },
          },
          {
            params: [ZOOM_PARAM],
            transform: [ONLY_DATA],
            mark: { type: 'point', filled: false, size: 55, strokeWidth: 1.5 },
            encoding: {
              x,
              y,
              color: colorEncoding('optimizer', colors),
              shape: {
                field: 'B',
                type: 'nominal',
                title: 'batch size',
                scale: { domain: batches.map((B) => `B = ${B}`), range: batches.map((_B, k) => VARIANT_SHAPES[k % VARIANT_SHAPES.length]) },
              },
              description: { field: 'series' },
              tooltip: [
                { field: 'B' },
                { field: 'samples' },
                { field: 'items', title: 'recovered', format: '.1f' },
                { field: 'seen', title: 'distinct seen', format: '.1f' },
              ],
            },
          },
          ...referenceLayers({ x, y }),
        ],
      },
    }),
  };
}
