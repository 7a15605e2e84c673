/**
 * [A]'s training-dynamics figures: group loss curves against the predicted laws N·e^{−ηt} (Muon,
 * TRA-SignGD) and N/(ηt) (GD) (a-noiseless), and the excess loss against the horizon T with fitted
 * and predicted exponents (a-noisy-scaling). Inputs are the presets' measurement records.
 */
import { fitPowerLaw } from '../../metrics/fits';
import {
  axisFor,
  colorEncoding,
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
  round4,
  slopeNote,
  spansDecades,
  ZOOM_PARAM,
  type Figure,
  type SpecObject,
} from '../spec';
import { colorScale } from '../style';

/** One optimizer's loss curve of a-noiseless: metric steps, population loss, loss per frequency group. */
export interface GroupCurve {
  label: string;
  steps: readonly number[];
  loss: readonly number[];
  groupLoss: readonly (readonly number[])[];
}

/**
 * Per-group loss against step for some optimizers, one panel each: groups in the optimizer's colour
 * from opaque (group 1, the head) to faint (group M, the tail), the population loss as a thick line,
 * and each panel's predicted law dashed and labelled with its formula.
 *
 * @example
 * groupLossFigure([muon, tra], { name: 'muon-groups', title: '…', caption: '…', xLog: false,
 *   law: (c) => ({ formula: 'N·e^{−ηt}', at: (t) => N * Math.exp(-eta * t) }) });
 */
export function groupLossFigure(
  curves: readonly GroupCurve[],
  options: {
    name: string;
    title: string;
    subtitle?: string;
    caption: string;
    xLog: boolean;
    law: (curve: GroupCurve) => { formula: string; at: (t: number) => number; labelPos?: 'above' | 'below' } | null;
  },
): Figure {
  const rows: SpecObject[] = [];
  const M = Math.max(0, ...curves.map((c) => c.groupLoss[0]?.length ?? 0));
  const groupName = (g: number) => `group ${g + 1}${g === 0 ? ' (head)' : g === M - 1 ? ' (tail)' : ''}`;
  for (const c of curves) {
    c.steps.forEach((t, k) => {
      if (options.xLog && !(t > 0)) return;
      if (c.loss[k] > 0)
        rows.push({ optimizer: c.label, panel: c.label, step: t, loss: c.loss[k], curve: 'population', series: `${c.label} · population` });
      c.groupLoss[k].forEach((l, g) => {
        if (l > 0)
          rows.push({ optimizer: c.label, panel: c.label, step: t, loss: l, curve: groupName(g), series: `${c.label} · ${groupName(g)}` });
      });
    });
    const law = options.law(c);
    if (law) {
      const steps = c.steps.filter((t) => !options.xLog || t > 0);
      const pts = steps.map((t) => [t, law.at(t)] as [number, number]).filter(([, y]) => y > 0);
      // The law is drawn down to the smallest measured loss, not to 1e-300.
      const floor = Math.min(...rows.filter((r) => r.panel === c.label).map((r) => r.loss as number)) / 3;
      rows.push(
        ...referenceRows(
          law.formula,
          pts.filter(([, y]) => y >= floor),
          { x: 'step', y: 'loss' },
          { panel: c.label, labelPos: law.labelPos ?? 'above' },
          'middle',
        ),
      );
    }
  }
  const colors = colorScale(curves.map((c) => c.label));
  const groupNames = Array.from({ length: M }, (_, g) => groupName(g));
  const x = {
    field: 'step',
    type: 'quantitative',
    scale: fittedScale(options.xLog),
    axis: options.xLog
      ? axisFor(
          'step t',
          rows.map((r) => r.step as number),
          true,
        )
      : { title: 'step t' },
  };
  const y = logEncoding(
    'loss',
    'loss',
    rows.filter((r) => r.kind == null).map((r) => r.loss as number),
  );
  return {
    name: options.name,
    title: options.title,
    caption: options.caption,
    spec: figureSpec({
      title: options.title,
      subtitle: options.subtitle ?? 'thick: population loss; thin: each frequency group (faint: the tail); dashed: the predicted law',
      datasets: { main: rows },
      body: {
        data: { name: 'main' },
        facet: {
          column: { field: 'panel', type: 'nominal', title: null, sort: curves.map((c) => c.label), header: { labelFontWeight: 'bold' } },
        },
        spec: {
          width: curves.length > 1 ? PANEL.facetWidth + 30 : PANEL.width,
          height: PANEL.height,
          layer: [
            {
              // Groups: thin, from opaque (the head) to faint (the tail).
              params: [ZOOM_PARAM],
              transform: [ONLY_DATA, { filter: "datum.curve !== 'population'" }],
              mark: { type: 'line', strokeWidth: 1.4, clip: true },
              encoding: {
                x,
                y,
                color: colorEncoding('optimizer', colors),
                detail: { field: 'curve', type: 'nominal' },
                opacity: {
                  field: 'curve',
                  type: 'ordinal',
                  sort: groupNames,
                  title: 'frequency group',
                  scale: { domain: groupNames, range: [1, 0.3] },
                  legend: { orient: 'right', symbolType: 'stroke', symbolStrokeColor: '#333' },
                },
                description: { field: 'series' },
                tooltip: [{ field: 'optimizer' }, { field: 'curve' }, { field: 'step' }, { field: 'loss', format: '.4g' }],
              },
            },
            {
              // The population loss: the thick line the law is about.
              transform: [ONLY_DATA, { filter: "datum.curve === 'population'" }],
              mark: { type: 'line', strokeWidth: 3, clip: true },
              encoding: {
                x,
                y,
                color: colorEncoding('optimizer', colors),
                description: { field: 'series' },
                tooltip: [{ field: 'optimizer' }, { field: 'curve' }, { field: 'step' }, { field: 'loss', format: '.4g' }],
              },
            },
            ...referenceLayers({ x, y }),
          ],
        },
      },
    }),
  };
}

/** One horizon's excess loss of a-noisy-scaling (a `kind: 'excess'` measurement). */
export interface ExcessRecord {
  T: number;
  optimizer: string;
  lr: number;
  excess: number;
}

/**
 * Excess loss (loss − label entropy) against the horizon T, log–log: Muon and the best GD per T as
 * points, each with its fitted slope and the predicted exponent dashed (T^−2 for Muon;
 * T^−(1−1/b) for GD, drawn only where the preset checks it).
 *
 * @example
 * excessVsTFigure(muonPoints, bestGdPoints, { N: 64, groups: 4, b: 2, noise: 0.1, checkGd: false });
 */
export function excessVsTFigure(
  muon: readonly ExcessRecord[],
  bestGd: readonly ExcessRecord[],
  options: { N: number; groups: number; b: number; noise: number; checkGd: boolean },
): Figure {
  const label = (o: string) => (o === 'GD' ? 'best GD' : o);
  const main: SpecObject[] = [...muon, ...bestGd]
    .filter((p) => p.excess > 0 && Number.isFinite(p.excess))
    .map((p) => ({ optimizer: label(p.optimizer), T: p.T, excess: p.excess, lr: round4(p.lr), series: label(p.optimizer) }));
  const lines: SpecObject[] = [];
  const notes: { text: string; optimizer: string }[] = [];
  for (const [name, pts, predicted, formula] of [
    ['Muon', muon, -2, 'T^−2'],
    ['best GD', bestGd, options.checkGd ? -(1 - 1 / options.b) : null, 'T^−(1−1/b)'],
  ] as const) {
    const usable = pts.filter((p) => p.excess > 0 && Number.isFinite(p.excess)).map((p) => [p.T, p.excess] as [number, number]);
    const fitted = powerLawRows(
      usable,
      { x: 'T', y: 'excess' },
      { name, fit: fitPowerLaw, predicted, formula, extra: { optimizer: name } },
    );
    lines.push(...fitted.rows);
    notes.push({ text: slopeNote(name, fitted.slope, predicted), optimizer: name });
  }
  lines.push(...noteRows(notes, {}, 'top-right', PANEL.width, PANEL.height));
  const colors = colorScale(main.map((r) => r.optimizer as string));
  const Ts = main.map((r) => r.T as number);
  const x = { field: 'T', type: 'quantitative', scale: fittedScale(spansDecades(Ts, 1)), axis: axisFor('horizon T (steps)', Ts, true) };
  const y = logEncoding(
    'excess',
    'loss − label entropy',
    main.map((r) => r.excess as number),
  );
  return {
    name: 'excess-vs-T',
    title: `Excess loss after T steps (N = ${options.N}, M = ${options.groups}, b = ${options.b}, ε = ${options.noise})`,
    caption: options.checkGd
      ? "Muon's excess falls as T^−2 (dashed) and stays below the best-tuned GD's, which follows T^−(1−1/b)."
      : "Muon's excess falls as T^−2 (dashed); the best-tuned GD is shown for completeness (its law needs many groups: not checked at this scale).",
    spec: figureSpec({
      title: `Excess loss after T steps (N = ${options.N}, M = ${options.groups}, b = ${options.b}, ε = ${options.noise})`,
      subtitle: `points: measured; solid: fitted power law; dashed: predicted T^−2 (Muon)${options.checkGd ? ', T^−(1−1/b) (GD)' : ''}`,
      datasets: { main: [...main, ...lines] },
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
              tooltip: [{ field: 'optimizer' }, { field: 'T' }, { field: 'lr', title: 'η' }, { field: 'excess', format: '.4g' }],
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
