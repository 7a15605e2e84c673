/**
 * [C]'s capacity figures: items recovered after one step against d, one panel per a, with fitted and
 * predicted slopes and the Muon / GD / GPU-f32 variants ([C] Fig. 2, c-capacity-onestep); capacity
 * against d per number of steps t and along the long runs ([C] Fig. 4, c-multistep). Inputs are the
 * presets' measurement records, typed structurally (no GPU imports).
 */
import { fitPowerLaw } from '../../metrics/fits';
import {
  colorEncoding,
  seedRangeLayer,
  figureSpec,
  dashLegend,
  fittedScale,
  logEncoding,
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
import { colorScale, shadeRepeats, VARIANT_DASHES, VARIANT_SHAPES } from '../style';
import { legendLabel } from './balance';

/** One measured capacity of c-capacity-onestep (a measurement record). */
export interface CapacityRecord {
  a: number;
  d: number;
  seed: number;
  optimizer: string;
  capacity: number;
}

/** [C]'s one-step count exponent: Muon 1 + 1/(2a), GD 1/(2a); none for the f32 variant (not checked). */
export function oneStepExponent(optimizer: string, a: number): { slope: number; formula: string } | null {
  if (optimizer === 'GD') return { slope: 1 / (2 * a), formula: 'd^(1/2a)' };
  if (optimizer === 'Muon') return { slope: 1 + 1 / (2 * a), formula: 'd^(1+1/2a)' };
  return null;
}

function mean(values: readonly number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}

/**
 * Items recovered after one population step against d (log–log), one panel per a: the seeds' mean
 * as points with their min–max as a bar, a thin solid fitted power law labelled with its slope and
 * [C]'s predicted slope dashed through the fit's centre, labelled with its formula.
 *
 * @example
 * capacityVsDFigure(report.measurements, { N: 4096 });
 */
export function capacityVsDFigure(records: readonly CapacityRecord[], options: { N: number }): Figure {
  const rename = (o: string) => (o === 'Muon' ? 'Muon exact' : legendLabel(o));
  const as = [...new Set(records.map((r) => r.a))].sort((x, y) => x - y);
  const optimizers = [...new Set(records.map((r) => r.optimizer))];
  const main: SpecObject[] = [];
  const lines: SpecObject[] = [];
  let zeros = 0;
  const width = PANEL.facetWidth;
  const height = PANEL.facetHeight + 40;
  for (const a of as) {
    const notes: { text: string; optimizer: string }[] = [];
    for (const o of optimizers) {
      const mine = records.filter((r) => r.a === a && r.optimizer === o);
      const ds = [...new Set(mine.map((r) => r.d))].sort((x, y) => x - y);
      for (const d of ds) {
        const caps = mine.filter((r) => r.d === d).map((r) => r.capacity);
        const m = mean(caps);
        if (!(m > 0)) {
          zeros++;
          continue;
        }
        const positive = caps.filter((c) => c > 0);
        main.push({
          a: `a = ${a}`,
          aValue: a,
          d,
          optimizer: rename(o),
          label: o,
          capacity: m,
          lo: Math.min(...positive),
          hi: Math.max(...positive),
          seeds: caps.length,
          series: `${rename(o)} · a = ${a}`,
        });
      }
      const law = oneStepExponent(o, a);
      // The fit is over every seed's count (as the prediction records are), not over the means.
      const pts = mine.filter((r) => r.capacity > 0).map((r) => [r.d, r.capacity] as [number, number]);
      const fitted = powerLawRows(
        pts,
        { x: 'd', y: 'capacity' },
        {
          name: `${rename(o)} · a = ${a}`,
          fit: fitPowerLaw,
          predicted: law?.slope,
          formula: law?.formula,
          extra: { a: `a = ${a}`, optimizer: rename(o) },
        },
      );
      lines.push(...fitted.rows);
      notes.push({ text: slopeNote(rename(o), fitted.slope, law?.slope), optimizer: rename(o) });
    }
    lines.push(...noteRows(notes, { a: `a = ${a}` }, 'top-left', width, height));
  }
  const colors = colorScale(optimizers.map(rename));
  const ds = records.map((r) => r.d);
  const x = logEncoding('d', 'd (embedding dimension)', ds);
  const caps = main.flatMap((r) => [r.lo as number, r.hi as number]);
  const y = logEncoding('capacity', 'items recovered', caps);
  return {
    name: 'capacity-vs-d',
    title: `Items recovered after one step (N = ${options.N})`,
    caption:
      "Muon's counts (the GPU exact polar factor) climb with slope ≈ 1 + 1/(2a) (dashed: [C]'s prediction), far above GD's ≈ 1/(2a); the Float64 SVD cross-check series, where run, sits on Muon's.",
    spec: figureSpec({
      title: `Items recovered after one step against d (N = ${options.N})`,
      subtitle: `points: mean over task seeds (bars: min–max); solid: fitted power law; dashed: [C]'s prediction d^(1+1/2a) for Muon, d^(1/2a) for GD${zeros ? `; ${zeros} mean(s) of 0 items not drawn on the log axis` : ''}`,
      datasets: { main: [...main, ...lines] },
      body: {
        data: { name: 'main' },
        facet: {
          column: { field: 'a', type: 'nominal', title: null, sort: as.map((a) => `a = ${a}`), header: { labelFontWeight: 'bold' } },
        },
        spec: {
          width,
          height,
          layer: [
            seedRangeLayer({ mark: 'rule', transform: [ONLY_DATA], x, color: colorEncoding('optimizer', colors), description: 'series' }),
            {
              params: [ZOOM_PARAM],
              transform: [ONLY_DATA],
              // Hollow markers, one shape per series: Muon exact and the f32 variant coincide where
              // the power law is mild and must both stay visible.
              mark: { type: 'point', filled: false, size: 60, strokeWidth: 1.8, opacity: 1 },
              encoding: {
                x,
                y,
                color: colorEncoding('optimizer', colors),
                shape: {
                  field: 'optimizer',
                  type: 'nominal',
                  title: null,
                  scale: { domain: colors.domain, range: VARIANT_SHAPES.slice(0, colors.domain.length) },
                  legend: legendFor(colors.domain.length),
                },
                description: { field: 'series' },
                tooltip: [
                  { field: 'label', title: 'optimizer' },
                  { field: 'a' },
                  { field: 'd' },
                  { field: 'capacity', title: 'mean items', format: '.1f' },
                  { field: 'lo', title: 'min' },
                  { field: 'hi', title: 'max' },
                  { field: 'seeds' },
                ],
              },
            },
            ...referenceLayers({ x, y, kind: 'fit', colorField: { field: 'optimizer', scale: colors } }),
            ...referenceLayers({ x, y, colorField: { field: 'optimizer', scale: colors } }),
            ...noteLayers({ field: 'optimizer', scale: colors }),
          ],
        },
      },
    }),
  };
}

/** One capacity record of c-multistep (a measurement record). */
export interface MultistepRecord {
  a: number;
  d: number;
  seed: number;
  /** 'exact' (Float64 polar factor) or the GPU f32 series' name. */
  series: string;
  step: number;
  capacity: number;
  long: boolean;
}

/** [C]'s count exponent after t steps: 2 − (1 − 1/(2a))^t. */
export function multistepExponent(a: number, t: number): number {
  return 2 - (1 - 1 / (2 * a)) ** t;
}

/**
 * Capacity against d after t = 1 … T steps, one panel per t (rows per a when there are several):
 * the exact-polar Muon and, where run, the GPU f32 series, each with its fitted slope; [C]'s
 * d^{2 − (1 − 1/(2a))^t} dashed.
 *
 * @example
 * multistepCapacityFigure(report.measurements, { N: 2048, exact: 'exact polar (Float64)', steps: 4 });
 */
export function multistepCapacityFigure(
  records: readonly MultistepRecord[],
  options: { N: number; exact: string; steps: number; labels?: Record<string, string>; predicted?: readonly string[] },
): Figure {
  const as = [...new Set(records.map((r) => r.a))].sort((x, y) => x - y);
  const seriesNames = [...new Set(records.map((r) => r.series))];
  const label = (s: string) => options.labels?.[s] ?? (s === options.exact ? 'Muon exact' : 'Muon f32 PE');
  const predictedFor = (s: string) => (options.predicted ? options.predicted.includes(s) : s === options.exact);
  const main: SpecObject[] = [];
  const lines: SpecObject[] = [];
  for (const a of as) {
    for (let t = 1; t <= options.steps; t++) {
      const notes: { text: string; optimizer: string }[] = [];
      for (const s of seriesNames) {
        const mine = records.filter((r) => r.a === a && r.series === s && r.step === t);
        const ds = [...new Set(mine.map((r) => r.d))].sort((x, y) => x - y);
        for (const d of ds) {
          const m = mean(mine.filter((r) => r.d === d).map((r) => r.capacity));
          if (m > 0)
            main.push({
              a: `a = ${a}`,
              t: `t = ${t}`,
              d,
              optimizer: label(s),
              label: s,
              capacity: m,
              step: t,
              series: `${label(s)} · a = ${a} · t = ${t}`,
            });
        }
        const pts = mine.filter((r) => r.capacity > 0).map((r) => [r.d, r.capacity] as [number, number]);
        const exponent = multistepExponent(a, t);
        const fitted = powerLawRows(
          pts,
          { x: 'd', y: 'capacity' },
          {
            name: `${label(s)} · a = ${a} · t = ${t}`,
            fit: fitPowerLaw,
            predicted: predictedFor(s) ? exponent : null,
            formula: 'd^(2−(1−1/2a)^t)',
            extra: { a: `a = ${a}`, t: `t = ${t}`, optimizer: label(s) },
          },
        );
        lines.push(...fitted.rows);
        notes.push({
          text: `${options.labels ? label(s) : s === options.exact ? 'exact' : 'f32'}: ${fitted.slope === null ? '—' : fitted.slope.toFixed(2)}${predictedFor(s) ? ` (pred. ${exponent.toFixed(2)})` : ''}`,
          optimizer: label(s),
        });
      }
      lines.push(...noteRows(notes, { a: `a = ${a}`, t: `t = ${t}` }, 'top-left', 170, 190));
    }
  }
  const colors = shadeRepeats(colorScale(seriesNames.map(label)));
  const x = logEncoding(
    'd',
    'd',
    records.map((r) => r.d),
  );
  const y = logEncoding(
    'capacity',
    'items recovered',
    main.map((r) => r.capacity as number),
  );
  return {
    name: 'capacity-vs-d-per-t',
    title: `Items recovered after t steps against d (N = ${options.N})`,
    caption:
      "Each extra step steepens the slope towards 2, following [C]'s 2 − (1 − 1/(2a))^t (dashed) for Muon and muon-reg; the other series (GD, cross-checks) are drawn with their fitted slopes.",
    spec: figureSpec({
      title: `Items recovered after t steps of Muon against d (N = ${options.N}, η = 2√d)`,
      subtitle: "points: mean over seeds; solid: fitted slope; dashed: [C]'s predicted slope",
      datasets: { main: [...main, ...lines] },
      body: {
        data: { name: 'main' },
        facet: {
          column: { field: 't', type: 'nominal', title: null, header: { labelFontWeight: 'bold' } },
          ...(as.length > 1 ? { row: { field: 'a', type: 'nominal', title: null } } : {}),
        },
        spec: {
          width: 170,
          height: 190,
          layer: [
            {
              params: [ZOOM_PARAM],
              transform: [ONLY_DATA],
              mark: { type: 'point', filled: true, size: 45 },
              encoding: {
                x,
                y,
                color: colorEncoding('optimizer', colors),
                shape: {
                  field: 'optimizer',
                  type: 'nominal',
                  title: null,
                  scale: { domain: colors.domain, range: VARIANT_SHAPES.slice(0, colors.domain.length) },
                  legend: legendFor(colors.domain.length),
                },
                description: { field: 'series' },
                tooltip: [
                  { field: 'label', title: 'series' },
                  { field: 'a' },
                  { field: 't' },
                  { field: 'd' },
                  { field: 'capacity', title: 'items', format: '.1f' },
                ],
              },
            },
            ...referenceLayers({ x, y, kind: 'fit', colorField: { field: 'optimizer', scale: colors } }),
            ...referenceLayers({ x, y, colorField: { field: 'optimizer', scale: colors } }),
            ...noteLayers({ field: 'optimizer', scale: colors }),
          ],
        },
      },
    }),
  };
}

/**
 * Capacity along training (log–log), one line per d (dash pattern, labelled at its end) and colour
 * per series (exact polar factor, GPU f32), one panel per a; the long runs continue past t = 4 until
 * the gain over 10 steps falls below 0.5%.
 *
 * @example
 * multistepStepFigure(report.measurements, { N: 2048, exact: 'exact polar (Float64)' });
 */
export function multistepStepFigure(
  records: readonly MultistepRecord[],
  options: { N: number; exact: string; labels?: Record<string, string> },
): Figure {
  const shown = records.filter((r) => r.step >= 1);
  const as = [...new Set(shown.map((r) => r.a))].sort((x, y) => x - y);
  const ds = [...new Set(shown.map((r) => r.d))].sort((x, y) => x - y);
  const seriesNames = [...new Set(shown.map((r) => r.series))];
  const label = (s: string) => options.labels?.[s] ?? (s === options.exact ? 'Muon exact' : 'Muon f32 PE');
  const main: SpecObject[] = [];
  for (const a of as)
    for (const d of ds)
      for (const s of seriesNames) {
        const mine = shown.filter((r) => r.a === a && r.d === d && r.series === s);
        const steps = [...new Set(mine.map((r) => r.step))].sort((x, y) => x - y);
        steps.forEach((t, k) => {
          const m = mean(mine.filter((r) => r.step === t).map((r) => r.capacity));
          if (m > 0)
            main.push({
              a: `a = ${a}`,
              d: `d = ${d}`,
              dValue: d,
              step: t,
              capacity: m,
              optimizer: label(s),
              label: s,
              end: k === steps.length - 1 && s === options.exact,
              series: `${label(s)} · a = ${a} · d = ${d}`,
            });
        });
      }
  const colors = shadeRepeats(colorScale(seriesNames.map(label)));
  const dashes = { domain: ds.map((d) => `d = ${d}`), range: ds.map((_d, k) => VARIANT_DASHES[k % VARIANT_DASHES.length]) };
  const steps = main.map((r) => r.step as number);
  // Room right of the last step for the "d = …" labels at the lines' ends (×2 on the log axis), a little left of the first.
  const x = {
    ...logEncoding('step', 'step t', steps),
    scale: fittedScale(true, { domain: [0.85 * Math.min(...steps), 2 * Math.max(...steps)] }),
  };
  const y = logEncoding(
    'capacity',
    'items recovered',
    main.map((r) => r.capacity as number),
  );
  return {
    name: 'capacity-vs-step',
    title: `Items recovered along training (N = ${options.N})`,
    caption:
      'Capacity grows with every step and levels off where the 0.5%-per-10-steps rule stops the long runs; larger d climbs higher and longer.',
    spec: figureSpec({
      title: `Items recovered along training, population Muon (N = ${options.N}, η = 2√d)`,
      subtitle: 'one line per d (labelled at its end); long runs stop when the gain over 10 steps falls below 0.5%',
      datasets: { main },
      body: {
        data: { name: 'main' },
        facet: { column: { field: 'a', type: 'nominal', title: null, header: { labelFontWeight: 'bold' } } },
        spec: {
          width: PANEL.width - 40,
          height: PANEL.height,
          layer: [
            {
              params: [ZOOM_PARAM],
              mark: { type: 'line', point: true, clip: true },
              encoding: {
                x,
                y,
                color: colorEncoding('optimizer', colors),
                strokeDash: { field: 'd', type: 'nominal', scale: dashes, title: null, legend: dashLegend() },
                detail: { field: 'label', type: 'nominal' },
                description: { field: 'series' },
                tooltip: [
                  { field: 'label', title: 'series' },
                  { field: 'a' },
                  { field: 'd' },
                  { field: 'step' },
                  { field: 'capacity', title: 'items', format: '.1f' },
                ],
              },
            },
            {
              transform: [{ filter: 'datum.end' }],
              mark: { type: 'text', align: 'left', dx: 6, fontSize: 10 },
              encoding: { x, y, text: { field: 'd' }, color: colorEncoding('optimizer', colors), description: { field: 'series' } },
            },
          ],
        },
      },
    }),
  };
}
