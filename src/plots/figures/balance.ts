/**
 * [B]'s balance figures: Δ against population loss along a one-step η sweep, faceted by embedding
 * ([B] Fig. 4), ϱ_τ per optimizer as bars against GD's closed form and Muon's bound
 * (b-balance-onestep), and Δ and (max p̂, min p̂) along training (b-balance-multistep). Inputs are the
 * presets' own measurement records (summary.json `measurements`), typed structurally here so this
 * module does not import the presets' GPU code.
 */
import {
  colorEncoding,
  drawable,
  legendFor,
  figureSpec,
  logEncoding,
  fittedScale,
  ONLY_DATA,
  ONLY_REFS,
  PANEL,
  referenceLayers,
  referenceRows,
  round4,
  ZOOM_PARAM,
  type Figure,
  type SpecObject,
} from '../spec';
import { colorScale, REFERENCE_COLOR, REFERENCE_DASH, VARIANT_SHAPES } from '../style';

/** Probability axes: ticks every 0.2. */
const UNIT_TICKS = [0, 0.2, 0.4, 0.6, 0.8, 1];

/** One Δ-vs-loss curve of b-balance-onestep: the η grid and its (loss, Δ) points. */
export interface DeltaLossCurve {
  optimizer: string;
  embedding: string;
  etas: readonly number[];
  points: readonly (readonly [number, number])[];
}

/** Short legend names for the presets' optimizer labels (the full label stays in tooltips). */
export function legendLabel(label: string): string {
  if (label.startsWith('Adam (β=0')) return 'Adam (β₁=β₂=0)';
  if (label === 'Muon (GPU f32 Polar Express)') return 'Muon f32 PE';
  return label;
}

/**
 * The loss window shown: from the largest loss down to `decades` decades below it. Past a balance
 * threshold every optimizer's loss keeps falling geometrically with η (to 1e-28 at 10·η_0.01), where
 * Δ is already 0 and the points carry nothing but would squeeze the curves into the right edge; the
 * points left out are counted in the subtitle.
 */
export function lossWindow(losses: readonly number[], decades = 8): [number, number] {
  const ok = drawable(losses, true);
  const hi = Math.max(...ok);
  return [Math.max(Math.min(...ok), hi * 10 ** -decades), hi];
}

/**
 * Δ = max p̂ − min p̂ against population loss after one step at each η of the sweep, one panel per
 * embedding, one colour per optimizer ([B] Fig. 4).
 *
 * @example
 * const fig = deltaVsLossFigure(report.measurements.filter((m) => m.kind === 'delta-vs-loss'), { N: 300 });
 */
export function deltaVsLossFigure(curves: readonly DeltaLossCurve[], options: { N: number; decades?: number }): Figure {
  const all = curves.flatMap((c) => c.points.map(([loss]) => loss));
  const [lo] = lossWindow(all, options.decades);
  const main: SpecObject[] = [];
  let hidden = 0;
  for (const c of curves) {
    c.points.forEach(([loss, delta], k) => {
      if (!(Number.isFinite(loss) && Number.isFinite(delta) && loss > 0)) return void hidden++;
      if (loss < lo) return void hidden++;
      const optimizer = legendLabel(c.optimizer);
      main.push({
        optimizer,
        label: c.optimizer,
        embedding: c.embedding,
        eta: round4(c.etas[k]),
        loss,
        delta,
        series: `${optimizer} · ${c.embedding}`,
      });
    });
  }
  const colors = colorScale(curves.map((c) => legendLabel(c.optimizer)));
  const x = logEncoding(
    'loss',
    'population loss after one step',
    main.map((r) => r.loss as number),
  );
  const y = {
    field: 'delta',
    type: 'quantitative',
    // 6 px beyond 0 and 1: markers at Δ = 0 (SignGD on identity) are drawn whole, not cut by the frame.
    scale: { ...fittedScale(false, { domain: [0, 1] }), padding: 6 },
    axis: { title: 'Δ = max p̂ − min p̂', values: UNIT_TICKS },
  };
  const embeddings = [...new Set(curves.map((c) => c.embedding))];
  return {
    name: 'delta-vs-loss',
    title: `Δ against loss along a one-step η sweep (N = d = ${options.N})`,
    caption:
      "Exact Muon stays balanced (Δ near 0) at every loss on both embeddings (the ns5 polynomial less so mid-sweep); GD's Δ rises towards 1 before the loss is small; SignGD and Adam(β=0) match Muon on identity but not on coupled-rotation.",
    spec: figureSpec({
      title: `Δ against loss along a one-step η sweep (N = d = ${options.N})`,
      subtitle: hidden ? `${hidden} point(s) with loss below ${lo.toExponential(0)} (Δ ≈ 0 there) or not finite are not drawn` : undefined,
      datasets: { main },
      body: {
        data: { name: 'main' },
        facet: { column: { field: 'embedding', type: 'nominal', title: null, sort: embeddings, header: { labelFontWeight: 'bold' } } },
        spec: {
          width: PANEL.facetWidth + 40,
          height: PANEL.facetHeight + 20,
          layer: [
            {
              params: [ZOOM_PARAM],
              // Hollow markers of one shape per optimizer: series that coincide (Adam(β=0) = SignGD;
              // SignGD = Muon on identity) stay visible one over the other.
              mark: { type: 'line', point: { filled: false, size: 55, strokeWidth: 1.4 }, clip: true },
              encoding: {
                x,
                y,
                color: colorEncoding('optimizer', colors),
                shape: {
                  field: 'optimizer',
                  type: 'nominal',
                  scale: { domain: colors.domain, range: VARIANT_SHAPES.slice(0, colors.domain.length) },
                  title: null,
                  legend: legendFor(colors.domain.length),
                },
                order: { field: 'eta', type: 'quantitative' },
                description: { field: 'series' },
                tooltip: [
                  { field: 'label', title: 'optimizer' },
                  { field: 'embedding' },
                  { field: 'eta', title: 'η' },
                  { field: 'loss', format: '.3g' },
                  { field: 'delta', title: 'Δ', format: '.4f' },
                ],
              },
            },
          ],
        },
      },
    }),
  };
}

/** One ϱ_τ search of b-balance-onestep (a `kind: 'balance'` measurement). */
export interface BalanceBar {
  optimizer: string;
  embedding: string;
  tau: number;
  rho: number;
  etaTau: number;
  rhoInfimum?: number;
}

/**
 * ϱ_τ (min p̂ where max p̂ first reaches 1 − τ) per optimizer as bars, one panel per τ × embedding,
 * with GD's closed form and Muon's lower bound 1 − τ(1 + 2 ln N/N) as labelled dashed rules.
 *
 * @example
 * rhoBarsFigure(report.measurements.filter((m) => m.kind === 'balance'), { N: 300, gdClosedForm: (tau) => 0.00545 });
 */
export function rhoBarsFigure(bars: readonly BalanceBar[], options: { N: number; gdClosedForm: (tau: number) => number }): Figure {
  const main = bars
    .filter((b) => Number.isFinite(b.rho))
    .map((b) => {
      const optimizer = legendLabel(b.optimizer);
      return {
        optimizer,
        label: b.optimizer,
        embedding: b.embedding,
        tau: `τ = ${b.tau}`,
        rho: b.rho,
        etaTau: round4(b.etaTau),
        series: `${optimizer} · ${b.embedding} · τ = ${b.tau}`,
      };
    });
  const taus = [...new Set(bars.map((b) => b.tau))];
  const embeddings = [...new Set(bars.map((b) => b.embedding))];
  const ref: SpecObject[] = [];
  for (const tau of taus) {
    for (const embedding of embeddings) {
      const bound = 1 - tau * (1 + (2 * Math.log(options.N)) / options.N);
      ref.push({ kind: 'ref', tau: `τ = ${tau}`, embedding, ref: MUON_BOUND, rho: bound });
      ref.push({ kind: 'ref', tau: `τ = ${tau}`, embedding, ref: GD_FORM, rho: options.gdClosedForm(tau) });
    }
  }
  const colors = colorScale(main.map((m) => m.optimizer as string));
  return {
    name: 'rho-bars',
    title: `Balance ϱ_τ after one step (N = d = ${options.N})`,
    caption:
      "Muon's bars reach its bound 1 − τ(1 + 2 ln N/N) on both embeddings; GD sits on its closed form near 0; SignGD and Adam(β=0) fall only on coupled-rotation.",
    spec: figureSpec({
      title: `Balance ϱ_τ after one step (N = d = ${options.N})`,
      subtitle: 'ϱ_τ = min p̂ at the smallest η where max p̂ = 1 − τ; dashed rules: the predictions',
      datasets: { main: [...main, ...ref] },
      body: {
        facet: {
          row: { field: 'tau', type: 'nominal', title: null, sort: taus.map((t) => `τ = ${t}`) },
          column: { field: 'embedding', type: 'nominal', title: null, sort: embeddings, header: { labelFontWeight: 'bold' } },
        },
        data: { name: 'main' },
        spec: {
          width: PANEL.facetWidth,
          height: 150,
          layer: [
            {
              transform: [ONLY_DATA],
              mark: { type: 'bar' },
              encoding: {
                x: {
                  field: 'optimizer',
                  type: 'nominal',
                  sort: colors.domain,
                  axis: { title: null, labelAngle: -35, labelOverlap: false },
                },
                y: { field: 'rho', type: 'quantitative', scale: { domain: [0, 1] }, axis: { title: 'ϱ_τ', values: UNIT_TICKS } },
                color: colorEncoding('optimizer', colors),
                description: { field: 'series' },
                tooltip: [
                  { field: 'label', title: 'optimizer' },
                  { field: 'embedding' },
                  { field: 'tau', title: 'τ' },
                  { field: 'rho', title: 'ϱ_τ', format: '.4f' },
                  { field: 'etaTau', title: 'η_τ' },
                ],
              },
            },
            {
              // The predictions as dashed rules, named with their formulas in a legend of their own.
              transform: [ONLY_REFS],
              mark: { type: 'rule', strokeWidth: 1.2, color: REFERENCE_COLOR },
              encoding: {
                y: { field: 'rho', type: 'quantitative' },
                strokeDash: {
                  field: 'ref',
                  type: 'nominal',
                  title: 'predicted',
                  scale: { domain: [MUON_BOUND, GD_FORM], range: [REFERENCE_DASH, [2, 2]] },
                  legend: { orient: 'right', symbolStrokeColor: REFERENCE_COLOR, symbolStrokeWidth: 1.2 },
                },
                description: { field: 'ref' },
                tooltip: [
                  { field: 'ref', title: 'prediction' },
                  { field: 'rho', title: 'ϱ_τ', format: '.4f' },
                ],
              },
            },
          ],
        },
      },
    }),
  };
}

const MUON_BOUND = 'Muon ≥ 1 − τ(1 + 2 ln N/N)';
const GD_FORM = 'GD = x/(x + N − 1), x = ((1−τ)(N−1)/τ)^(p_tail/p_head)';

/** One run of b-balance-multistep (a `kind: 'balance-along-training'` measurement). */
export interface BalanceRun {
  optimizer: string;
  embedding: string;
  steps: readonly number[];
  delta: readonly number[];
  maxPCorrect: readonly number[];
  minPCorrect: readonly number[];
}

/** Rows of every run at every step, with the series name the SVG carries. */
function runRows(runs: readonly BalanceRun[]): SpecObject[] {
  return runs.flatMap((r) =>
    r.steps.map((t, k) => ({
      optimizer: legendLabel(r.optimizer),
      label: r.optimizer,
      embedding: r.embedding,
      step: t,
      delta: r.delta[k],
      max: r.maxPCorrect[k],
      min: r.minPCorrect[k],
      series: `${legendLabel(r.optimizer)} · ${r.embedding}`,
    })),
  );
}

/**
 * Δ along training, one panel per embedding, one colour per optimizer.
 *
 * @example
 * deltaVsStepFigure(runs, { N: 150, headCount: 30 });
 */
export function deltaVsStepFigure(runs: readonly BalanceRun[], options: { N: number; headCount: number }): Figure {
  const main = runRows(runs).filter((r) => Number.isFinite(r.delta as number));
  const colors = colorScale(main.map((r) => r.optimizer as string));
  const steps = main.map((r) => r.step as number);
  return {
    name: 'delta-vs-step',
    title: `Δ along training (N = d = ${options.N})`,
    caption:
      "Muon's Δ stays near 0 at every step on both embeddings; GD opens a large gap between head and tail items; SignGD is exactly balanced on identity only.",
    spec: figureSpec({
      title: `Δ = max p̂ − min p̂ along training (N = d = ${options.N}, ${options.headCount} head items)`,
      datasets: { main },
      body: {
        data: { name: 'main' },
        facet: { column: { field: 'embedding', type: 'nominal', title: null, header: { labelFontWeight: 'bold' } } },
        spec: {
          width: PANEL.facetWidth,
          height: PANEL.facetHeight,
          layer: [
            {
              params: [ZOOM_PARAM],
              mark: { type: 'line', point: true, clip: true },
              encoding: {
                x: {
                  field: 'step',
                  type: 'quantitative',
                  scale: fittedScale(false, { domain: [Math.min(...steps), Math.max(...steps)] }),
                  axis: { title: 'step t' },
                },
                y: {
                  field: 'delta',
                  type: 'quantitative',
                  scale: fittedScale(false, { domain: [0, 1] }),
                  axis: { title: 'Δ', values: UNIT_TICKS },
                },
                color: colorEncoding('optimizer', colors),
                description: { field: 'series' },
                tooltip: [
                  { field: 'label', title: 'optimizer' },
                  { field: 'embedding' },
                  { field: 'step' },
                  { field: 'delta', title: 'Δ', format: '.4f' },
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
 * min p̂ against max p̂ along training (each run a path from (1/N, 1/N) upwards), one panel per
 * embedding, with the diagonal min = max (perfect balance) as a dashed reference.
 *
 * @example
 * minVsMaxFigure(runs, { N: 150 });
 */
export function minVsMaxFigure(runs: readonly BalanceRun[], options: { N: number }): Figure {
  const main = runRows(runs).filter((r) => Number.isFinite(r.max as number) && Number.isFinite(r.min as number));
  const colors = colorScale(main.map((r) => r.optimizer as string));
  const embeddings = [...new Set(runs.map((r) => r.embedding))];
  const ref = embeddings.flatMap((embedding) =>
    referenceRows(
      'balanced: min = max',
      [
        [0, 0],
        [1, 1],
      ],
      { x: 'max', y: 'min' },
      { embedding, labelPos: 'below' },
    ),
  );
  const unit = fittedScale(false, { domain: [0, 1] });
  const x = { field: 'max', type: 'quantitative', scale: unit, axis: { title: 'max p̂', values: UNIT_TICKS } };
  const y = { field: 'min', type: 'quantitative', scale: unit, axis: { title: 'min p̂', values: UNIT_TICKS } };
  return {
    name: 'min-vs-max',
    title: `min p̂ against max p̂ along training (N = d = ${options.N})`,
    caption:
      'A balanced optimizer climbs the diagonal: Muon does on both embeddings; GD runs along the bottom (head items learned, tail items not).',
    spec: figureSpec({
      title: `min p̂ against max p̂ along training (N = d = ${options.N})`,
      datasets: { main: [...main, ...ref] },
      body: {
        facet: { column: { field: 'embedding', type: 'nominal', title: null, sort: embeddings, header: { labelFontWeight: 'bold' } } },
        data: { name: 'main' },
        spec: {
          width: PANEL.facetHeight + 20,
          height: PANEL.facetHeight + 20,
          layer: [
            {
              params: [ZOOM_PARAM],
              transform: [ONLY_DATA],
              mark: { type: 'line', point: true, clip: true },
              encoding: {
                x,
                y,
                color: colorEncoding('optimizer', colors),
                order: { field: 'step', type: 'quantitative' },
                description: { field: 'series' },
                tooltip: [
                  { field: 'label', title: 'optimizer' },
                  { field: 'embedding' },
                  { field: 'step' },
                  { field: 'max', title: 'max p̂', format: '.4f' },
                  { field: 'min', title: 'min p̂', format: '.4f' },
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
