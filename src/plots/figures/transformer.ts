/**
 * The transformer panel's live figures (issue 12, `muonlab.transformer/1` runs): training loss and
 * next-token accuracy against step, one line per replica (seed). A transformer run mixes optimizer
 * groups inside one model (Muon on the layers, AdamW on the rest), so its lines carry no optimizer
 * colour: they are NEUTRAL_COLOR, told apart by the variant dashes, with a marker per record.
 */
import { axisFor, figureSpec, fittedScale, legendFor, PANEL, spansDecades, ZOOM_PARAM, type Figure, type SpecObject } from '../spec';
import { NEUTRAL_COLOR, VARIANT_DASHES, VARIANT_SHAPES } from '../style';

/** The fields of a transformer metrics record these figures read (src/model/trainer.ts). */
export interface TransformerPoint {
  replica: number;
  seed: number;
  step: number;
  loss: number;
  accuracy: number;
}

export const TRANSFORMER_FIGURES = ['transformer-loss', 'transformer-accuracy'] as const;

/**
 * Loss or accuracy against step, one series per replica named `seed S` (its aria-label in the SVG).
 * The loss axis turns logarithmic when the loss spans more than ≈ 1.5 decades; accuracy runs on
 * [0, 1].
 *
 * @example
 * const fig = transformerFigure(records, 'loss'); // name 'transformer-loss'
 */
export function transformerFigure(records: readonly TransformerPoint[], metric: 'loss' | 'accuracy'): Figure {
  const rows: SpecObject[] = records
    .filter((r) => Number.isFinite(r[metric]))
    .map((r) => ({ series: `seed ${r.seed}`, replica: r.replica, seed: r.seed, step: r.step, value: r[metric] }))
    .sort((a, b) => a.replica - b.replica || a.step - b.step);
  const seeds = [...new Set(rows.map((r) => r.series as string))];
  const values = rows.map((r) => r.value as number);
  const log = metric === 'loss' && spansDecades(values);
  const x = { field: 'step', type: 'quantitative', scale: fittedScale(false), axis: axisFor('step', [], false, { tickMinStep: 1 }) };
  const y =
    metric === 'accuracy'
      ? {
          field: 'value',
          type: 'quantitative',
          scale: { ...fittedScale(false, { domain: [0, 1] }), padding: 6 },
          axis: { title: 'next-token accuracy' },
        }
      : { field: 'value', type: 'quantitative', scale: fittedScale(log), axis: axisFor('cross-entropy loss', values, log) };
  const legend = { ...legendFor(seeds.length), title: null };
  const title = metric === 'loss' ? 'Training loss per replica' : 'Next-token accuracy per replica';
  return {
    name: `transformer-${metric}`,
    title,
    caption:
      metric === 'loss'
        ? 'The cross-entropy of each replica (one seed each) along training; replicas that agree lie on one another.'
        : 'Strict argmax accuracy over the targets of each replica along training.',
    spec: figureSpec({
      title,
      subtitle: rows.length ? undefined : 'waiting for data',
      datasets: { main: rows },
      body: {
        data: { name: 'main' },
        width: PANEL.width,
        height: PANEL.height,
        layer: [
          {
            params: [ZOOM_PARAM],
            mark: {
              type: 'line',
              color: NEUTRAL_COLOR,
              point: { filled: false, size: 45, strokeWidth: 1.4, color: NEUTRAL_COLOR },
              clip: true,
            },
            encoding: {
              x,
              y,
              strokeDash: {
                field: 'series',
                type: 'nominal',
                sort: seeds,
                scale: { domain: seeds, range: seeds.map((_s, k) => VARIANT_DASHES[k % VARIANT_DASHES.length]) },
                legend,
              },
              shape: {
                field: 'series',
                type: 'nominal',
                sort: seeds,
                scale: { domain: seeds, range: seeds.map((_s, k) => VARIANT_SHAPES[k % VARIANT_SHAPES.length]) },
                legend,
              },
              description: { field: 'series' },
              tooltip: [{ field: 'series', title: 'replica' }, { field: 'step' }, { field: 'value', title: metric, format: '.4g' }],
            },
          },
        ],
      },
    }),
  };
}
