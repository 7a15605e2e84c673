/**
 * [B] §4.2's isotropy figures (b-isotropy): the normalized entropy H_norm of each update along
 * training, one panel per embedding, with Muon's prediction (every nonzero σ equal: H_norm = 1) as a
 * dashed reference; and the effective rank of the final weights against the step size. Inputs are
 * the preset's `isotropy-trace` measurement records.
 */
import {
  colorEncoding,
  figureSpec,
  logEncoding,
  fittedScale,
  ONLY_DATA,
  PANEL,
  referenceLayers,
  referenceRows,
  ZOOM_PARAM,
  type Figure,
  type SpecObject,
} from '../spec';
import { colorScale } from '../style';

/** One trace of b-isotropy: an optimizer on an embedding at a step-size factor. */
export interface IsotropyTraceRecord {
  optimizer: string;
  embedding: string;
  lrFactor: number;
  lr: number;
  steps: readonly number[];
  w: readonly { eRank: number; hNorm: number | null }[];
  update: readonly ({ eRank: number; hNorm: number | null } | null)[];
}

/**
 * H_norm of the update W_t − W_{t+1} along training at the base step sizes, one panel per embedding;
 * dashed: H_norm = 1, Muon's prediction (all nonzero singular values equal).
 *
 * @example
 * updateIsotropyFigure(traces, { N: 150 });
 */
export function updateIsotropyFigure(traces: readonly IsotropyTraceRecord[], options: { N: number }): Figure {
  const base = traces.filter((t) => t.lrFactor === 1);
  const rows: SpecObject[] = base.flatMap((t) =>
    t.steps.flatMap((step, k) => {
      const u = t.update[k];
      return u && u.hNorm != null && Number.isFinite(u.hNorm)
        ? [
            {
              optimizer: t.optimizer,
              embedding: t.embedding,
              step,
              hNorm: u.hNorm,
              eRank: u.eRank,
              series: `${t.optimizer} · ${t.embedding}`,
            },
          ]
        : [];
    }),
  );
  const embeddings = [...new Set(base.map((t) => t.embedding))];
  const steps = rows.map((r) => r.step as number);
  for (const embedding of embeddings)
    rows.push(
      ...referenceRows(
        'Muon: H_norm = 1',
        [
          [Math.min(...steps), 1],
          [Math.max(...steps), 1],
        ],
        { x: 'step', y: 'hNorm' },
        { embedding, labelPos: 'below' },
      ),
    );
  const colors = colorScale(base.map((t) => t.optimizer));
  const values = rows.map((r) => r.hNorm as number);
  const x = { field: 'step', type: 'quantitative', scale: fittedScale(false), axis: { title: 'step t' } };
  const y = {
    field: 'hNorm',
    type: 'quantitative',
    scale: fittedScale(false, { domain: [Math.max(0, Math.floor(Math.min(...values) * 10) / 10), 1.02] }),
    axis: { title: 'H_norm of the update' },
  };
  return {
    name: 'update-hnorm',
    title: `Isotropy of each update along training (N = d = ${options.N})`,
    caption:
      "Muon's updates stay exactly isotropic (H_norm = 1, dashed) at every step on both embeddings; GD's, SignGD's and Adam's concentrate their energy in fewer directions.",
    spec: figureSpec({
      title: `Isotropy of each update along training (N = d = ${options.N}, base η)`,
      subtitle: 'H_norm = normalized entropy of the squared singular values of W_t − W_{t+1}',
      datasets: { main: rows },
      body: {
        data: { name: 'main' },
        facet: { column: { field: 'embedding', type: 'nominal', title: null, sort: embeddings, header: { labelFontWeight: 'bold' } } },
        spec: {
          width: PANEL.facetWidth,
          height: PANEL.facetHeight,
          layer: [
            {
              params: [ZOOM_PARAM],
              transform: [ONLY_DATA],
              mark: { type: 'line', point: true, clip: true },
              encoding: {
                x,
                y,
                color: colorEncoding('optimizer', colors),
                description: { field: 'series' },
                tooltip: [
                  { field: 'optimizer' },
                  { field: 'embedding' },
                  { field: 'step' },
                  { field: 'hNorm', title: 'H_norm', format: '.4f' },
                  { field: 'eRank', title: 'eRank', format: '.1f' },
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
 * Effective rank of the final weights against the step size (relative to each optimizer's base η),
 * one panel per embedding; dashed: N − 1, the most a rank-(N − 1) gradient direction can reach.
 *
 * @example
 * finalRankVsEtaFigure(traces, { N: 150, steps: 6 });
 */
export function finalRankVsEtaFigure(traces: readonly IsotropyTraceRecord[], options: { N: number; steps: number }): Figure {
  const rows: SpecObject[] = traces
    .map((t) => ({
      optimizer: t.optimizer,
      embedding: t.embedding,
      factor: t.lrFactor,
      lr: t.lr,
      eRank: t.w[t.w.length - 1].eRank,
      series: `${t.optimizer} · ${t.embedding}`,
    }))
    .filter((r) => r.eRank > 0);
  const embeddings = [...new Set(traces.map((t) => t.embedding))];
  const factors = [...new Set(traces.map((t) => t.lrFactor))].sort((a, b) => a - b);
  for (const embedding of embeddings)
    rows.push(
      ...referenceRows(
        'N − 1',
        [
          [factors[0], options.N - 1],
          [factors[factors.length - 1], options.N - 1],
        ],
        { x: 'factor', y: 'eRank' },
        { embedding, labelPos: 'below' },
      ),
    );
  const colors = colorScale(traces.map((t) => t.optimizer));
  const ranks = rows.map((r) => r.eRank as number);
  const x = logEncoding('factor', 'η / base η', factors);
  const y = logEncoding('eRank', `eRank(W) after ${options.steps} steps`, ranks);
  return {
    name: 'w-erank-vs-eta',
    title: `Effective rank of the final weights against η (N = d = ${options.N})`,
    caption:
      "Muon's weights keep a high effective rank at every step size on both embeddings; GD's stay concentrated on the head items' directions.",
    spec: figureSpec({
      title: `Effective rank of W after ${options.steps} steps against η (N = d = ${options.N})`,
      subtitle: "η relative to each optimizer's base step size; dashed: N − 1",
      datasets: { main: rows },
      body: {
        data: { name: 'main' },
        facet: { column: { field: 'embedding', type: 'nominal', title: null, sort: embeddings, header: { labelFontWeight: 'bold' } } },
        spec: {
          width: PANEL.facetWidth,
          height: PANEL.facetHeight,
          layer: [
            {
              params: [ZOOM_PARAM],
              transform: [ONLY_DATA],
              mark: { type: 'line', point: true, clip: true },
              encoding: {
                x,
                y,
                color: colorEncoding('optimizer', colors),
                description: { field: 'series' },
                tooltip: [
                  { field: 'optimizer' },
                  { field: 'embedding' },
                  { field: 'factor', title: 'η / base η' },
                  { field: 'lr', title: 'η', format: '.4g' },
                  { field: 'eRank', format: '.1f' },
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
