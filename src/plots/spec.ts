/**
 * Building blocks of every figure's Vega-Lite spec: the Figure record, the shared config (font,
 * sizes, legends that never truncate), scales fitted to the data, log-axis ticks, reference-line
 * layers, and the report markdown of a figure. Figure functions (src/plots/figures/) combine these;
 * nothing here knows about a preset.
 *
 * Data always travels inside the spec as named datasets (`datasets: { main: rows, ref: rows }`), so
 * a saved NAME.vl.json opens in the Vega editor as it is, and the page updates a live figure by
 * replacing a dataset's rows without recompiling the spec (src/plots/embed.ts).
 */
import type { TopLevelSpec } from 'vega-lite';
import { FONT, NEUTRAL_COLOR, REFERENCE_COLOR, REFERENCE_DASH } from './style';

/** A Vega-Lite spec under construction (checked against the schema by the tests, not by tsc). */
export type SpecObject = Record<string, unknown>;

/** One figure: its file stem, title, the one-line caption saying what to see, and its spec (data inlined). */
export interface Figure {
  /** File stem: plots/NAME.svg, NAME.png and NAME.vl.json. */
  name: string;
  title: string;
  /** One sentence under the figure in the report: what the reader should see. */
  caption: string;
  spec: TopLevelSpec;
}

/** Panel sizes in CSS pixels at 1× (a report column is ≈ 800 px wide; PNGs are written at 2×). */
export const PANEL = { width: 360, height: 240, facetWidth: 230, facetHeight: 190 } as const;

/** A legend with more entries than this goes under the plot in columns, so it never runs off the right edge. */
export const MAX_RIGHT_LEGEND = 8;

/** The shared config: font, sizes readable at 1×, light grid, legends with no label limit. */
export function baseConfig(): SpecObject {
  return {
    font: FONT,
    background: 'white',
    padding: 8,
    view: { stroke: '#999', strokeWidth: 1 },
    axis: {
      labelFontSize: 11,
      titleFontSize: 12,
      titleFontWeight: 'normal',
      gridColor: '#ececec',
      tickColor: '#888',
      domainColor: '#888',
      labelColor: '#222',
      titleColor: '#222',
      labelOverlap: true,
    },
    // labelLimit 0: a legend label is never cut ("Muon (GPU f32 Polar…" was).
    legend: {
      labelFontSize: 11,
      titleFontSize: 11,
      titleFontWeight: 'normal',
      labelLimit: 0,
      symbolStrokeWidth: 2,
      symbolSize: 80,
      symbolOpacity: 1,
      rowPadding: 3,
    },
    header: { labelFontSize: 12, titleFontSize: 12, titleFontWeight: 'normal', labelPadding: 4 },
    title: { fontSize: 13, fontWeight: 'bold', anchor: 'start', subtitleFontSize: 11, subtitleColor: '#444', offset: 6 },
    text: { font: FONT },
    line: { strokeWidth: 1.8 },
    point: { size: 36, filled: true },
  };
}

/**
 * A complete spec: schema, title, datasets, config, autosize that grows the image around legends and
 * labels (nothing drawn outside the image). `body` holds the layer/facet part.
 *
 * @example
 * figureSpec({ title: 'Δ vs loss', datasets: { main: rows }, body: { layer: [...] } });
 */
export function figureSpec(options: {
  title: string;
  subtitle?: string | string[];
  datasets: Record<string, SpecObject[]>;
  body: SpecObject;
  description?: string;
}): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description: options.description ?? options.title,
    title: options.subtitle ? { text: options.title, subtitle: options.subtitle } : { text: options.title },
    datasets: options.datasets,
    ...options.body,
    autosize: { type: 'pad', contains: 'padding' },
    config: baseConfig(),
  } as unknown as TopLevelSpec;
}

/** Finite values, and positive ones for a log axis. */
export function drawable(values: readonly number[], log: boolean): number[] {
  return values.filter((v) => Number.isFinite(v) && (!log || v > 0));
}

/**
 * Whether a positive quantity spans enough decades to need a log axis (max/min ≥ `ratio`, 30 by
 * default: about 1.5 decades). Any value ≤ 0 rules a log axis out.
 */
export function spansDecades(values: readonly number[], ratio = 30): boolean {
  const finite = values.filter(Number.isFinite);
  if (!finite.length || finite.some((v) => v <= 0)) return false;
  return Math.max(...finite) / Math.min(...finite) >= ratio;
}

/**
 * A scale fitted to the data: no "nice" rounding (Vega rounds a log domain out to whole decades,
 * which put 64–256 on a 10–1000 axis) and a few pixels of padding so edge points are not cut.
 * `domain` fixes it (probabilities: [0, 1]).
 */
export function fittedScale(log: boolean, options: { domain?: [number, number]; zero?: boolean } = {}): SpecObject {
  if (options.domain)
    return log
      ? { type: 'log', domain: options.domain, nice: false }
      : { type: 'linear', domain: options.domain, nice: false, zero: false };
  // "zero" does not apply to a log scale (Vega-Lite warns and drops it).
  return log ? { type: 'log', nice: false, padding: 8 } : { type: 'linear', nice: false, zero: options.zero ?? false, padding: 8 };
}

/**
 * Tick values for a log axis over [lo, hi]: the distinct sweep values when there are few (d = 64,
 * 128, 256 labelled as such), else whole decades when the range spans ≥ 2 of them (thinned to at
 * most 7), else 1–2–5 steps.
 *
 * @example
 * logTicks([64, 128, 256]); // [64, 128, 256]
 * logTicks([3e-9, 0.7]); // [1e-8, 1e-7, …, 0.1] thinned to ≤ 7
 * logTicks([0.86, 0.99, 1.12, 1.23, 1.29, 1.33, 1.6, 1.7, 1.76]); // [1, 1.2, 1.5]
 */
export function logTicks(values: readonly number[], maxDistinct = 8): number[] {
  const v = drawable(values, true);
  if (!v.length) return [];
  const distinct = [...new Set(v)].sort((a, b) => a - b);
  if (distinct.length <= maxDistinct) return distinct;
  const lo = distinct[0];
  const hi = distinct[distinct.length - 1];
  const k0 = Math.ceil(Math.log10(lo) - 1e-9);
  const k1 = Math.floor(Math.log10(hi) + 1e-9);
  if (k1 - k0 >= 2) {
    const step = Math.ceil((k1 - k0 + 1) / 7);
    const out: number[] = [];
    for (let k = k0; k <= k1; k += step) out.push(Number(`1e${k}`));
    return out;
  }
  // Less than two decades: 1–2–5 steps, or finer mantissas when the range is under a factor ≈ 2.5
  // (validation losses 0.86 … 1.76 get 1, 1.2, 1.5 rather than their raw ends).
  for (const mantissas of [
    [1, 2, 5],
    [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8],
    [1, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.8, 2, 2.2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9],
  ]) {
    const out: number[] = [];
    for (let k = k0 - 1; k <= k1; k++)
      for (const m of mantissas) {
        const t = m * 10 ** k;
        if (t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9)) out.push(Number(t.toPrecision(6)));
      }
    if (out.length >= 2) return out;
  }
  return [lo, hi].map((x) => Number(x.toPrecision(3)));
}

/**
 * An axis definition: title, and for log axes explicit ticks with a compact format.
 *
 * @example
 * axisFor('d', [64, 128, 256], true); // { title: 'd', values: [64, 128, 256], format: '~g' }
 */
export function axisFor(title: string, values: readonly number[], log: boolean, extra: SpecObject = {}): SpecObject {
  return log ? { title, values: logTicks(values), format: '~g', ...extra } : { title, ...extra };
}

/**
 * A quantitative position encoding on a log scale fitted to the data, its axis ticked for `values`.
 *
 * @example
 * const x = logEncoding('d', 'd (embedding dimension)', [64, 128, 256]);
 */
export function logEncoding(field: string, title: string, values: readonly number[]): SpecObject {
  return { field, type: 'quantitative', scale: fittedScale(true), axis: axisFor(title, values, true) };
}

/**
 * A colour encoding on `field` with a fixed scale; the legend goes under the plot when it has many
 * entries.
 */
export function colorEncoding(field: string, scale: { domain: string[]; range: string[] }, title: string | null = null): SpecObject {
  return { field, type: 'nominal', scale, title, legend: legendFor(scale.domain.length) };
}

/** Legend placement for `entries` entries: right of the plot, or under it in columns when long. */
export function legendFor(entries: number): SpecObject {
  return entries > MAX_RIGHT_LEGEND
    ? { orient: 'bottom', direction: 'horizontal', columns: Math.min(3, Math.ceil(entries / 4)) }
    : { orient: 'right' };
}

/**
 * The legend of a line-style (strokeDash) encoding on a field other than the colour's: each entry a
 * short grey line drawn with its dash pattern, not a circle outline (which hides the pattern).
 *
 * @example
 * strokeDash: { field: 'd', type: 'nominal', scale: dashes, title: null, legend: dashLegend() }
 */
export function dashLegend(extra: SpecObject = {}): SpecObject {
  return { orient: 'right', symbolType: 'stroke', symbolStrokeWidth: 1.6, symbolStrokeColor: NEUTRAL_COLOR, symbolSize: 300, ...extra };
}

/**
 * The spread over seeds as a layer: a band (`area`, under a line) or a vertical bar (`rule`, through
 * a point) from each row's `lo` to its `hi`, coloured like its series.
 *
 * @example
 * seedRangeLayer({ mark: 'area', x, color: colorEncoding('optimizer', colors), description: 'series', detail: 'series' });
 */
export function seedRangeLayer(o: {
  mark: 'area' | 'rule';
  x: SpecObject;
  color: SpecObject;
  /** The field naming the row's series (the mark's description). */
  description: string;
  /** A field splitting bands that share a colour. */
  detail?: string;
  opacity?: number;
  transform?: SpecObject[];
}): SpecObject {
  const mark =
    o.mark === 'area'
      ? { type: 'area', opacity: o.opacity ?? 0.18, clip: true }
      : { type: 'rule', strokeWidth: 1.5, opacity: o.opacity ?? 0.7 };
  return {
    ...(o.transform ? { transform: o.transform } : {}),
    mark,
    encoding: {
      x: o.x,
      y: { field: 'lo', type: 'quantitative' },
      y2: { field: 'hi' },
      color: o.color,
      ...(o.detail ? { detail: { field: o.detail, type: 'nominal' } } : {}),
      description: { field: o.description },
    },
  };
}

/** The page's zoom and pan (drag to pan, wheel to zoom; double-click resets). */
export const ZOOM_PARAM: SpecObject = { name: 'zoom', select: 'interval', bind: 'scales' };

/**
 * Data layers keep the measured rows (no `kind`); reference layers the `kind: 'ref'` rows and fit
 * layers the `kind: 'fit'` rows of the same dataset.
 */
export const ONLY_DATA: SpecObject = { filter: 'datum.kind == null' };
export const ONLY_REFS: SpecObject = { filter: "datum.kind === 'ref'" };
export const ONLY_FITS: SpecObject = { filter: "datum.kind === 'fit'" };

/**
 * Two layers that draw the reference lines of the dataset — rows with `kind: 'ref'` made by
 * referenceRows, one polyline per `ref` — thin and dashed, each labelled with its formula at one end.
 * References live in the same dataset as the data (facets split both alike). `x` and `y` are the data
 * layer's position encodings (same fields, same scales); `color` colours every reference the same,
 * `colorField` by a field on the optimizer's colour scale.
 *
 * @example
 * referenceLayers({ x: { field: 'step', type: 'quantitative' }, y: { field: 'loss', type: 'quantitative' } });
 */
export function referenceLayers(options: {
  x: SpecObject;
  y: SpecObject;
  color?: string;
  colorField?: { field: string; scale: { domain: string[]; range: string[] } };
  kind?: 'ref' | 'fit';
}): SpecObject[] {
  const fit = options.kind === 'fit';
  const only = fit ? ONLY_FITS : ONLY_REFS;
  // The same field and scale as the data's colour: Vega-Lite merges them into the data's legend.
  const color = options.colorField ? { color: { field: options.colorField.field, type: 'nominal', scale: options.colorField.scale } } : {};
  const fixed = options.colorField ? {} : { color: options.color ?? REFERENCE_COLOR };
  const strip = (enc: SpecObject) => ({ field: enc.field, type: enc.type, ...(enc.scale ? { scale: enc.scale } : {}) });
  // Each row says where its label goes (labelAt: first or last point; labelPos: above or below the
  // line), chosen by powerLawRows from the line's direction so the text never crosses its own line.
  const text = (at: 'first' | 'last', pos: 'above' | 'below') => ({
    transform: [
      only,
      { filter: `datum.labelled && datum.labelAt === '${at}' && (datum.labelPos || '${fit ? 'below' : 'above'}') === '${pos}'` },
    ],
    mark: {
      type: 'text',
      align: at === 'first' ? 'left' : 'right',
      baseline: pos === 'below' ? 'top' : 'bottom',
      dx: at === 'first' ? 3 : -3,
      dy: pos === 'below' ? 4 : -4,
      fontSize: 10,
      fontStyle: fit ? 'normal' : 'italic',
      ...fixed,
    },
    encoding: { x: strip(options.x), y: strip(options.y), text: { field: 'label' }, description: { field: 'ref' }, ...color },
  });
  return [
    {
      transform: [only],
      mark: {
        type: 'line',
        strokeDash: fit ? [1, 0] : REFERENCE_DASH,
        strokeWidth: fit ? 1.3 : 1.1,
        opacity: fit ? 0.85 : 1,
        clip: true,
        ...fixed,
      },
      encoding: {
        x: strip(options.x),
        y: strip(options.y),
        detail: { field: 'ref', type: 'nominal' },
        order: { field: 'order', type: 'quantitative' },
        description: { field: 'ref' },
        ...color,
      },
    },
    text('first', 'above'),
    text('first', 'below'),
    text('last', 'above'),
    text('last', 'below'),
  ];
}

/**
 * The rows of one reference line in a figure's dataset: its points under the data's own x and y
 * field names, one of them (the last, or the first) carrying the label.
 *
 * @example
 * referenceRows('N·e^{−ηt}', [[0, 256], [16, 2.9e-5]], { x: 'step', y: 'loss' });
 * // [{ kind: 'ref', ref: 'N·e^{−ηt}', step: 0, loss: 256, label: 'N·e^{−ηt}', labelled: false, order: 0 }, …]
 */
export function referenceRows(
  label: string,
  points: readonly (readonly [number, number])[],
  fields: { x: string; y: string },
  extra: SpecObject = {},
  labelAt: 'last' | 'first' | 'middle' = 'last',
  kind: 'ref' | 'fit' = 'ref',
): SpecObject[] {
  const ok = points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  // 'middle' labels the point 40% along and reads rightwards from it (as 'first' does): next to a
  // steep line that runs through the panel's corners, the only clear spot.
  const at = labelAt === 'last' ? ok.length - 1 : labelAt === 'first' ? 0 : Math.floor((ok.length - 1) * 0.4);
  return ok.map(([x, y], i) => ({
    kind,
    ref: label,
    [fields.x]: x,
    [fields.y]: y,
    label,
    labelled: i === at,
    labelAt: labelAt === 'last' ? 'last' : 'first',
    order: i,
    ...extra,
  }));
}

/**
 * A fitted power law y = C·x^k over the data's x range (rows of kind 'fit', labelled with the
 * slope) and, when a slope is predicted, the predicted law through the fit's centre (geometric
 * means of the points, so only the slopes differ), as rows of kind 'ref' labelled with `formula`.
 * Needs ≥ 2 distinct positive x; returns no rows otherwise.
 *
 * @example
 * powerLawRows(points, { x: 'd', y: 'capacity' }, { predicted: 4 / 3, formula: 'd^(1+1/2a)', extra: { optimizer: 'Muon' } });
 */
export function powerLawRows(
  points: readonly (readonly [number, number])[],
  fields: { x: string; y: string },
  options: {
    predicted?: number | null;
    formula?: string;
    extra?: SpecObject;
    name: string;
    fit: (x: number[], y: number[]) => { slope: number; intercept: number };
  },
): { rows: SpecObject[]; slope: number | null } {
  const ok = points.filter(([x, y]) => x > 0 && y > 0 && Number.isFinite(x) && Number.isFinite(y));
  if (new Set(ok.map((p) => p[0])).size < 2) return { rows: [], slope: null };
  const fit = options.fit(
    ok.map((p) => p[0]),
    ok.map((p) => p[1]),
  );
  const xs = [Math.min(...ok.map((p) => p[0])), Math.max(...ok.map((p) => p[0]))];
  // Fitted and predicted slopes are not written on the lines (coinciding series made their labels
  // collide): figures list them in a corner note per panel (noteRows).
  const rows = referenceRows(
    `${options.name} fit`,
    xs.map((x) => [x, Math.exp(fit.intercept) * x ** fit.slope] as [number, number]),
    fields,
    { ...options.extra, label: `slope ${fit.slope.toFixed(2)}`, labelled: false },
    'last',
    'fit',
  );
  if (options.predicted != null && Number.isFinite(options.predicted)) {
    const lx = ok.reduce((s, p) => s + Math.log(p[0]), 0) / ok.length;
    const ly = ok.reduce((s, p) => s + Math.log(p[1]), 0) / ok.length;
    const k = options.predicted;
    rows.push(
      ...referenceRows(
        `${options.name} predicted`,
        xs.map((x) => [x, Math.exp(ly + k * (Math.log(x) - lx))] as [number, number]),
        fields,
        { ...options.extra, label: `${options.formula ?? 'predicted'} = ${k.toFixed(2)}`, labelled: false },
      ),
    );
  }
  return { rows, slope: fit.slope };
}

/**
 * A note in a corner of a panel, one line per entry (each in its optimizer's colour when the entry
 * names one): fitted against predicted slopes, where writing them on coinciding lines would
 * collide. Pixel positions inside the panel (`width` × `height`), as rows of kind 'note'.
 *
 * @example
 * noteRows([{ text: 'Muon exact 1.39 (pred. 1.33)', optimizer: 'Muon exact' }], { a: 'a = 1.5' }, 'top-left', 230, 190);
 */
export function noteRows(
  lines: readonly { text: string; optimizer?: string }[],
  extra: SpecObject,
  corner: 'top-left' | 'top-right' | 'bottom-right' | 'bottom-left',
  width: number,
  height: number,
): SpecObject[] {
  const right = corner.endsWith('right');
  const bottom = corner.startsWith('bottom');
  return lines.map((l, i) => ({
    kind: 'note',
    note: l.text,
    optimizer: l.optimizer ?? null,
    px: right ? width - 6 : 6,
    py: bottom ? height - 6 - 13 * (lines.length - 1 - i) : 6 + 13 * i,
    align: right ? 'right' : 'left',
    baseline: bottom ? 'bottom' : 'top',
    ...extra,
  }));
}

/** The text layers of noteRows (left- and right-aligned), coloured by `colorField` where a row names an optimizer. */
export function noteLayers(colorField?: { field: string; scale: { domain: string[]; range: string[] } }): SpecObject[] {
  return (['left', 'right'] as const).flatMap((align) =>
    (['top', 'bottom'] as const).map((baseline) => ({
      transform: [{ filter: `datum.kind === 'note' && datum.align === '${align}' && datum.baseline === '${baseline}'` }],
      mark: { type: 'text', align, baseline, fontSize: 10, color: REFERENCE_COLOR },
      encoding: {
        x: { field: 'px', type: 'quantitative', scale: null },
        y: { field: 'py', type: 'quantitative', scale: null },
        text: { field: 'note' },
        description: { field: 'note' },
        ...(colorField
          ? {
              color: {
                condition: { test: 'datum.optimizer != null', field: colorField.field, type: 'nominal', scale: colorField.scale },
                value: REFERENCE_COLOR,
              },
            }
          : {}),
      },
    })),
  );
}

/** One line of a slope note: fitted slope, and [C]'s or [A]'s when predicted. */
export function slopeNote(name: string, slope: number | null, predicted?: number | null): string {
  return `${name}: slope ${slope === null ? '—' : slope.toFixed(2)}${predicted != null ? ` (pred. ${predicted.toFixed(2)})` : ''}`;
}

/**
 * The report markdown of a figure: the SVG and a one-line caption in italics.
 *
 * @example
 * figureMarkdown(figure); // '![Δ vs loss](plots/delta-vs-loss.svg)\n\n*Figure: … what to see.*\n'
 */
export function figureMarkdown(figure: Pick<Figure, 'name' | 'title' | 'caption'>): string {
  return `![${figure.title}](plots/${figure.name}.svg)\n\n*${figure.caption}*\n`;
}

/** Rounds for display in labels and tooltips (4 significant digits, integers as they are). */
export function round4(v: number): number {
  return Number.isInteger(v) ? v : Number(v.toPrecision(4));
}
