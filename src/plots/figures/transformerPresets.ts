/**
 * The figures of the four transformer presets ([B] §2–§4 and [A]'s data scaling; issue 13): validation
 * loss along training per assignment or optimizer, FTA by frequency bucket per optimizer with α on
 * the axis, FTA (or the control's accuracy) by frequency decile, FTA against exposures, the ablation's
 * final losses per seed, eRank / Top10E of W_V, W_O and W_out along training, and the data-scaling
 * envelope. Every curve is the mean over seeds with the seeds' min–max as a band (or an error bar),
 * so the spread the records' intervals come from is visible. Inputs are plain records the presets
 * build from their measurements (src/experiments/presets/transformerClaims.ts); nothing here runs a
 * model or recomputes a prediction.
 */
import {
  colorEncoding,
  seedRangeLayer,
  figureSpec,
  logEncoding,
  fittedScale,
  legendFor,
  ONLY_DATA,
  PANEL,
  referenceLayers,
  referenceRows,
  ZOOM_PARAM,
  type Figure,
  type SpecObject,
} from '../spec';
import { colorScale, VARIANT_SHAPES, variantDashes } from '../style';

/** One seed's curve of a series in a panel (a validation-loss or isotropy trace). */
export interface SeedCurve {
  /** Colour and legend entry: an optimizer label or an ablation assignment. */
  series: string;
  /** Facet column (the MLP form, α, the matrix). */
  panel: string;
  seed: number;
  steps: readonly number[];
  values: readonly number[];
}

/** Bucket FTA of one seed of one optimizer at one α. */
export interface FtaBucketRecord {
  optimizer: string;
  alpha: number;
  seed: number;
  head: number;
  tail: number;
  all: number;
}

/** Decile profile (decile 1 = most frequent) of one seed of one optimizer in a panel. */
export interface DecileRecord {
  optimizer: string;
  panel: string;
  seed: number;
  deciles: readonly number[];
}

/** FTA of the individuals whose exposure count falls in [from, to), pooled over seeds. */
export interface ExposureBin {
  optimizer: string;
  from: number;
  to: number;
  fta: number;
  count: number;
}

/** The final validation loss of one seed of one assignment in a panel (the MLP form). */
export interface FinalLossRecord {
  series: string;
  panel: string;
  seed: number;
  loss: number;
}

/** One seed's final validation loss of one data-scaling cell. */
export interface ScalingRecord {
  optimizer: string;
  tokens: number;
  lrFactor: number;
  seed: number;
  loss: number;
}

/** The envelope of an optimizer: per budget the lowest seed-mean loss over η. */
export interface EnvelopePoint {
  optimizer: string;
  tokens: number;
  lrFactor: number;
  mean: number;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Mean over seeds with min and max per (panel, series, step): the rows of a band figure. */
function bandRows(curves: readonly SeedCurve[]): SpecObject[] {
  const groups = new Map<string, { panel: string; series: string; step: number; values: number[]; seeds: number[] }>();
  for (const c of curves)
    c.steps.forEach((step, k) => {
      const v = c.values[k];
      if (!Number.isFinite(v)) return;
      const key = JSON.stringify([c.panel, c.series, step]);
      const g = groups.get(key) ?? { panel: c.panel, series: c.series, step, values: [], seeds: [] };
      g.values.push(v);
      g.seeds.push(c.seed);
      groups.set(key, g);
    });
  return [...groups.values()]
    .sort((a, b) => a.step - b.step)
    .map((g) => ({
      panel: g.panel,
      series: g.series,
      step: g.step,
      value: mean(g.values),
      lo: Math.min(...g.values),
      hi: Math.max(...g.values),
      seeds: g.seeds.join(', '),
      label: `${g.series} · ${g.panel}`,
    }));
}

/** Colour by series (optimizer colours; labels sharing one colour get dashes and shapes). */
function seriesStyle(order: readonly string[]) {
  const colors = colorScale(order);
  const dashes = variantDashes(colors);
  const shapes = { domain: colors.domain, range: colors.domain.map((_l, k) => VARIANT_SHAPES[k % VARIANT_SHAPES.length]) };
  return { colors, dashes, shapes };
}

/**
 * Mean-over-seeds curves with a min–max seed band, one colour per series, one panel per `panel`.
 * The band is drawn only where a series has more than one seed.
 */
function bandFigure(
  curves: readonly SeedCurve[],
  options: {
    name: string;
    title: string;
    subtitle: string;
    caption: string;
    xTitle: string;
    yTitle: string;
    seriesOrder?: readonly string[];
    panelOrder?: readonly string[];
    yDomain?: [number, number];
  },
): Figure {
  const rows = bandRows(curves);
  const order = options.seriesOrder ?? [...new Set(curves.map((c) => c.series))];
  const panels = options.panelOrder ?? [...new Set(curves.map((c) => c.panel))];
  const { colors, dashes } = seriesStyle(order);
  const seeds = Math.max(
    0,
    ...[...new Set(curves.map((c) => `${c.panel}|${c.series}`))].map((k) => curves.filter((c) => `${c.panel}|${c.series}` === k).length),
  );
  const x = { field: 'step', type: 'quantitative', scale: fittedScale(false), axis: { title: options.xTitle } };
  const y = {
    field: 'value',
    type: 'quantitative',
    scale: fittedScale(false, options.yDomain ? { domain: options.yDomain } : {}),
    axis: { title: options.yTitle },
  };
  const layers: SpecObject[] = [
    ...(seeds > 1
      ? [seedRangeLayer({ mark: 'area', opacity: 0.16, x, color: colorEncoding('series', colors), detail: 'series', description: 'label' })]
      : []),
    {
      params: [ZOOM_PARAM],
      mark: { type: 'line', point: true, clip: true },
      encoding: {
        x,
        y,
        color: colorEncoding('series', colors),
        strokeDash: { field: 'series', type: 'nominal', scale: dashes, title: null, legend: legendFor(colors.domain.length) },
        description: { field: 'label' },
        tooltip: [
          { field: 'series', title: 'series' },
          { field: 'panel', title: 'panel' },
          { field: 'step' },
          { field: 'value', title: 'seed mean', format: '.4f' },
          { field: 'lo', title: 'seed min', format: '.4f' },
          { field: 'hi', title: 'seed max', format: '.4f' },
          { field: 'seeds' },
        ],
      },
    },
  ];
  return {
    name: options.name,
    title: options.title,
    caption: options.caption,
    spec: figureSpec({
      title: options.title,
      subtitle: rows.length ? options.subtitle : 'no data',
      datasets: { main: rows },
      body: {
        data: { name: 'main' },
        facet: { column: { field: 'panel', type: 'nominal', title: null, sort: [...panels], header: { labelFontWeight: 'bold' } } },
        spec: { width: PANEL.facetWidth, height: PANEL.facetHeight, layer: layers },
      },
    }),
  };
}

/**
 * Validation loss along training, one colour per series (ablation assignment or optimizer), one
 * panel per `panel` (MLP form or α); line: seed mean, band: seed min–max.
 *
 * @example
 * validationLossFigure(curves, { title: 'Validation loss per assignment', panelOrder: ['plain MLP (ReLU²)', 'gated MLP (SwiGLU)'] });
 */
export function validationLossFigure(
  curves: readonly SeedCurve[],
  options: { title: string; caption: string; seriesOrder?: readonly string[]; panelOrder?: readonly string[] },
): Figure {
  const seeds = new Set(curves.map((c) => c.seed)).size;
  return bandFigure(curves, {
    name: 'validation-loss',
    title: options.title,
    subtitle: `held-out statement orders; line: mean over ${seeds} seed${seeds === 1 ? '' : 's'}, band: min–max over seeds`,
    caption: options.caption,
    xTitle: 'step',
    yTitle: 'validation loss (nats)',
    seriesOrder: options.seriesOrder,
    panelOrder: options.panelOrder,
  });
}

const BUCKETS = [
  { key: 'head', label: 'head (10 % most frequent)' },
  { key: 'tail', label: 'tail (50 % least frequent)' },
  { key: 'all', label: 'all individuals' },
] as const;

/**
 * FTA by frequency bucket (head, tail, all: one panel each) per optimizer against α: the seed mean
 * as a line with points, the seeds' min–max as an error bar at each α; dotted: the 0.9 head line.
 *
 * @example
 * ftaVsAlphaFigure(records, { optimizerOrder: ['Muon', 'AdamW', 'SGD+momentum'] });
 */
export function ftaVsAlphaFigure(
  records: readonly FtaBucketRecord[],
  options: { optimizerOrder?: readonly string[]; headMin?: number } = {},
): Figure {
  const rows: SpecObject[] = [];
  const optimizers = options.optimizerOrder ?? [...new Set(records.map((r) => r.optimizer))];
  const alphas = [...new Set(records.map((r) => r.alpha))].sort((a, b) => a - b);
  for (const b of BUCKETS)
    for (const optimizer of optimizers)
      for (const alpha of alphas) {
        const vs = records.filter((r) => r.optimizer === optimizer && r.alpha === alpha).map((r) => r[b.key]);
        if (!vs.length) continue;
        rows.push({
          bucket: b.label,
          optimizer,
          alpha,
          value: mean(vs),
          lo: Math.min(...vs),
          hi: Math.max(...vs),
          seeds: vs.length,
          label: `${optimizer} · ${b.key}`,
        });
      }
  const headMin = options.headMin;
  const refs: SpecObject[] =
    headMin != null && alphas.length > 1
      ? referenceRows(
          `head FTA ≥ ${headMin}`,
          [
            [alphas[0], headMin],
            [alphas[alphas.length - 1], headMin],
          ],
          { x: 'alpha', y: 'value' },
          { bucket: BUCKETS[0].label, labelPos: 'below' },
        )
      : [];
  const { colors } = seriesStyle(optimizers);
  const x = { field: 'alpha', type: 'quantitative', scale: fittedScale(false), axis: { title: 'α (frequency ∝ rank^−α)', values: alphas } };
  const y = {
    field: 'value',
    type: 'quantitative',
    scale: fittedScale(false, { domain: [0, 1] }),
    axis: { title: 'FTA', values: [0, 0.2, 0.4, 0.6, 0.8, 1] },
  };
  return {
    name: 'fta-vs-alpha',
    title: 'FTA by frequency bucket against α',
    caption:
      '[B]: every optimizer learns the head (FTA ≥ 0.9) while on the tail Muon > AdamW > SGD, the more so the heavier the tail (larger α).',
    spec: figureSpec({
      title: 'First-token accuracy by frequency bucket against α',
      subtitle: rows.length ? 'line: mean over seeds; bar: min–max over seeds; dashed: the head threshold' : 'no data',
      datasets: { main: [...rows, ...refs] },
      body: {
        data: { name: 'main' },
        facet: {
          column: { field: 'bucket', type: 'nominal', title: null, sort: BUCKETS.map((b) => b.label), header: { labelFontWeight: 'bold' } },
        },
        spec: {
          width: PANEL.facetWidth,
          height: PANEL.facetHeight,
          layer: [
            // No filter here (one more made Vega-Lite's dataflow optimizer give up): reference rows
            // have no lo/hi, so they draw no bar.
            seedRangeLayer({ mark: 'rule', x, color: colorEncoding('optimizer', colors), description: 'label' }),
            {
              params: [ZOOM_PARAM],
              transform: [ONLY_DATA],
              mark: { type: 'line', point: true, clip: true },
              encoding: {
                x,
                y,
                color: colorEncoding('optimizer', colors),
                description: { field: 'label' },
                tooltip: [
                  { field: 'optimizer' },
                  { field: 'bucket' },
                  { field: 'alpha', title: 'α' },
                  { field: 'value', title: 'seed mean', format: '.3f' },
                  { field: 'lo', title: 'seed min', format: '.3f' },
                  { field: 'hi', title: 'seed max', format: '.3f' },
                  { field: 'seeds' },
                ],
              },
            },
            ...referenceLayers({ x, y }),
          ],
        },
      },
    }),
  };
}

/**
 * A decile profile (decile 1 = the 10 % most frequent individuals or tasks), one panel per `panel`,
 * one colour per optimizer: seed mean with points and the seeds' min–max band.
 *
 * @example
 * decileFigure(records, { name: 'fta-by-decile', title: 'FTA by frequency decile', yTitle: 'FTA', caption: '…' });
 */
export function decileFigure(
  records: readonly DecileRecord[],
  options: {
    name: string;
    title: string;
    yTitle: string;
    caption: string;
    optimizerOrder?: readonly string[];
    panelOrder?: readonly string[];
  },
): Figure {
  return bandFigure(
    records.map((r) => ({ series: r.optimizer, panel: r.panel, seed: r.seed, steps: r.deciles.map((_v, k) => k + 1), values: r.deciles })),
    {
      name: options.name,
      title: options.title,
      subtitle: 'decile 1 = most frequent; line: mean over seeds, band: min–max over seeds',
      caption: options.caption,
      xTitle: 'frequency decile',
      yTitle: options.yTitle,
      seriesOrder: options.optimizerOrder,
      panelOrder: options.panelOrder,
      yDomain: [0, 1],
    },
  );
}

/**
 * FTA against the exact number of statements an individual was seen in (bins of exposures, pooled
 * over seeds; bins starting at 0 exposures are left off the log axis).
 *
 * @example
 * ftaVsExposuresFigure(bins, { alpha: 1 });
 */
export function ftaVsExposuresFigure(bins: readonly ExposureBin[], options: { alpha: number; optimizerOrder?: readonly string[] }): Figure {
  const rows: SpecObject[] = bins
    .filter((b) => b.from > 0 && Number.isFinite(b.fta))
    .map((b) => ({ optimizer: b.optimizer, from: b.from, to: b.to, fta: b.fta, count: b.count, label: b.optimizer }));
  const { colors } = seriesStyle(options.optimizerOrder ?? [...new Set(bins.map((b) => b.optimizer))]);
  const xs = rows.map((r) => r.from as number);
  return {
    name: 'fta-vs-exposures',
    title: `FTA against exposures (α = ${options.alpha})`,
    caption:
      'How many statements about an individual each optimizer needs before it answers: Muon reaches a given FTA with fewer exposures.',
    spec: figureSpec({
      title: `First-token accuracy against exposures (α = ${options.alpha})`,
      subtitle: rows.length ? 'individuals binned by the statements they were seen in, all seeds pooled' : 'no data',
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
              x: logEncoding('from', 'statements seen (bin start)', xs),
              y: { field: 'fta', type: 'quantitative', scale: fittedScale(false, { domain: [0, 1] }), axis: { title: 'FTA' } },
              color: colorEncoding('optimizer', colors),
              description: { field: 'label' },
              tooltip: [
                { field: 'optimizer' },
                { field: 'from', title: 'exposures from' },
                { field: 'to', title: 'to' },
                { field: 'fta', title: 'FTA', format: '.3f' },
                { field: 'count', title: 'individuals × seeds' },
              ],
            },
          },
        ],
      },
    }),
  };
}

/**
 * The ablation's final validation losses: one row per assignment, one panel per MLP form, a point per
 * seed (hollow, one shape per assignment) and a tick at the seed mean.
 *
 * @example
 * finalLossFigure(records, { seriesOrder: ['all-Muon', …, 'Muon(W_out) only'] });
 */
export function finalLossFigure(
  records: readonly FinalLossRecord[],
  options: { seriesOrder?: readonly string[]; panelOrder?: readonly string[]; reference?: Record<string, number> } = {},
): Figure {
  const order = options.seriesOrder ?? [...new Set(records.map((r) => r.series))];
  const panels = options.panelOrder ?? [...new Set(records.map((r) => r.panel))];
  const points: SpecObject[] = records
    .filter((r) => Number.isFinite(r.loss))
    .map((r) => ({
      kind: 'seed',
      series: r.series,
      panel: r.panel,
      seed: r.seed,
      loss: r.loss,
      label: `${r.series} · ${r.panel} · seeds`,
    }));
  const means: SpecObject[] = [];
  for (const panel of panels)
    for (const series of order) {
      const vs = records.filter((r) => r.panel === panel && r.series === series && Number.isFinite(r.loss)).map((r) => r.loss);
      if (vs.length) means.push({ kind: 'mean', series, panel, loss: mean(vs), seeds: vs.length, label: `${series} · ${panel} · mean` });
    }
  const { colors, shapes } = seriesStyle(order);
  const y = { field: 'series', type: 'nominal', sort: [...order], axis: { title: null, labelLimit: 0 } };
  const x = { field: 'loss', type: 'quantitative', scale: fittedScale(false), axis: { title: 'final validation loss (nats)' } };
  return {
    name: 'final-loss',
    title: 'Final validation loss per assignment',
    caption: '[B]: all-Muon ≤ Muon(V,O,MLP) < … < Muon(Q,K) only ≈ all-Adam — the gain comes from V, O and the MLP, not from Q and K.',
    spec: figureSpec({
      title: 'Final validation loss per assignment',
      subtitle: points.length ? 'hollow: one seed each; tick: seed mean' : 'no data',
      datasets: { main: [...points, ...means] },
      body: {
        data: { name: 'main' },
        facet: { column: { field: 'panel', type: 'nominal', title: null, sort: [...panels], header: { labelFontWeight: 'bold' } } },
        spec: {
          width: PANEL.facetWidth,
          height: { step: 22 },
          layer: [
            {
              transform: [{ filter: "datum.kind === 'seed'" }],
              mark: { type: 'point', filled: false, size: 50, strokeWidth: 1.5 },
              encoding: {
                x,
                y,
                color: { field: 'series', type: 'nominal', scale: colors, legend: null },
                shape: { field: 'series', type: 'nominal', scale: shapes, legend: null },
                description: { field: 'label' },
                tooltip: [
                  { field: 'series', title: 'assignment' },
                  { field: 'panel', title: 'MLP' },
                  { field: 'seed' },
                  { field: 'loss', format: '.4f' },
                ],
              },
            },
            {
              transform: [{ filter: "datum.kind === 'mean'" }],
              mark: { type: 'tick', thickness: 2.5, size: 16 },
              encoding: {
                x,
                y,
                color: { field: 'series', type: 'nominal', scale: colors, legend: null },
                description: { field: 'label' },
                tooltip: [
                  { field: 'series', title: 'assignment' },
                  { field: 'panel', title: 'MLP' },
                  { field: 'loss', title: 'seed mean', format: '.4f' },
                  { field: 'seeds' },
                ],
              },
            },
          ],
        },
      },
    }),
  };
}

/**
 * eRank or Top10E of W_V, W_O and W_out (layers' mean; one panel per matrix) along training, Muon
 * against AdamW: seed mean with the seeds' min–max band.
 *
 * @example
 * isotropyAlongTrainingFigure(curves, { metric: 'eRank', dModel: 32 });
 */
export function isotropyAlongTrainingFigure(
  curves: readonly SeedCurve[],
  options: { metric: 'eRank' | 'Top10E'; dModel: number; optimizerOrder?: readonly string[] },
): Figure {
  const seeds = new Set(curves.map((c) => c.seed)).size;
  const erank = options.metric === 'eRank';
  return bandFigure(curves, {
    name: erank ? 'erank-along-training' : 'top10e-along-training',
    title: `${options.metric} of W_V, W_O and W_out along training`,
    subtitle: `layers' mean; line: mean over ${seeds} seed${seeds === 1 ? '' : 's'}, band: min–max over seeds${erank ? `; eRank ≤ d = ${options.dModel}` : ''}`,
    caption: erank
      ? "[B]: Muon's W_V, W_O and W_out keep a higher effective rank than AdamW's all along training, and vary less across seeds."
      : "[B]: less of Muon's spectral energy sits in the top 10 directions (lower Top10E) than AdamW's.",
    xTitle: 'step',
    yTitle: erank ? 'eRank = exp(entropy of σ²/Σσ²)' : 'Top10E = share of σ² in the top 10',
    seriesOrder: options.optimizerOrder,
    panelOrder: ['W_V', 'W_O', 'W_out'].filter((p) => curves.some((c) => c.panel === p)),
    yDomain: erank ? undefined : [0, 1],
  });
}

/**
 * The data-scaling envelope: per optimizer the lowest seed-mean validation loss over the η grid at
 * each budget (line with filled points), every η's seed mean as a hollow point behind it.
 *
 * @example
 * envelopeFigure(records, envelopes);
 */
export function envelopeFigure(records: readonly ScalingRecord[], envelopes: readonly EnvelopePoint[]): Figure {
  const cells = new Map<string, { optimizer: string; tokens: number; lrFactor: number; losses: number[] }>();
  for (const r of records) {
    const key = JSON.stringify([r.optimizer, r.tokens, r.lrFactor]);
    const c = cells.get(key) ?? { optimizer: r.optimizer, tokens: r.tokens, lrFactor: r.lrFactor, losses: [] };
    c.losses.push(r.loss);
    cells.set(key, c);
  }
  const grid: SpecObject[] = [...cells.values()].map((c) => ({
    kind: 'grid',
    optimizer: c.optimizer,
    tokens: c.tokens,
    lrFactor: c.lrFactor,
    loss: mean(c.losses),
    seeds: c.losses.length,
    label: `${c.optimizer} · every η`,
  }));
  const env: SpecObject[] = envelopes.map((e) => ({
    kind: 'envelope',
    optimizer: e.optimizer,
    tokens: e.tokens,
    lrFactor: e.lrFactor,
    loss: e.mean,
    label: `${e.optimizer} · envelope`,
  }));
  const { colors } = seriesStyle([...new Set([...records.map((r) => r.optimizer), ...envelopes.map((e) => e.optimizer)])]);
  const all = [...grid, ...env];
  const x = logEncoding(
    'tokens',
    'tokens per seed',
    all.map((r) => r.tokens as number),
  );
  const y = logEncoding(
    'loss',
    'validation loss (nats)',
    all.map((r) => r.loss as number),
  );
  const tooltip = [
    { field: 'optimizer' },
    { field: 'tokens' },
    { field: 'lrFactor', title: 'η / base η', format: '.3g' },
    { field: 'loss', title: 'seed-mean loss', format: '.4f' },
  ];
  return {
    name: 'envelope',
    title: 'Data scaling: best validation loss over η against the budget',
    caption: "[A]: Muon's envelope lies below AdamW's at every budget and falls faster with more data.",
    spec: figureSpec({
      title: 'Data scaling: best validation loss over η against the budget',
      subtitle: all.length ? 'line: the envelope (best η per budget, seed mean); hollow: every η of the grid' : 'no data',
      datasets: { main: all },
      body: {
        data: { name: 'main' },
        width: PANEL.width,
        height: PANEL.height,
        layer: [
          {
            transform: [{ filter: "datum.kind === 'grid'" }],
            mark: { type: 'point', filled: false, size: 40, opacity: 0.8 },
            encoding: { x, y, color: colorEncoding('optimizer', colors), description: { field: 'label' }, tooltip },
          },
          {
            params: [ZOOM_PARAM],
            transform: [{ filter: "datum.kind === 'envelope'" }],
            mark: { type: 'line', point: true, clip: true },
            encoding: { x, y, color: colorEncoding('optimizer', colors), description: { field: 'label' }, tooltip },
          },
        ],
      },
    }),
  };
}
