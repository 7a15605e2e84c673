/**
 * The transformer presets' figures (src/plots/figures/transformerPresets.ts), in the style of
 * figures.node.test.ts: built from small hand-made records (no GPU), each spec validates against the
 * Vega-Lite schema, compiles without a warning, renders to SVG in Node, and the SVG holds the marks
 * expected per series — counted by aria-label, the counts worked out here from the input records —
 * and the plotted seed means and min–max bands are those of the inputs.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  decileFigure,
  envelopeFigure,
  finalLossFigure,
  ftaVsAlphaFigure,
  ftaVsExposuresFigure,
  isotropyAlongTrainingFigure,
  validationLossFigure,
  type DecileRecord,
  type FinalLossRecord,
  type FtaBucketRecord,
  type ScalingRecord,
  type SeedCurve,
} from '../src/plots/figures/transformerPresets';
import type { Figure } from '../src/plots/spec';
import { OPTIMIZER_STYLE } from '../src/plots/style';
import { checkFigure, compileVegaLiteSchema } from './figureCheck';
import { legendLabels, svgMarks } from './svgMarks';

beforeAll(compileVegaLiteSchema, 120_000);

/** The rows of the figure's main dataset. */
const rowsOf = (figure: Figure) => (figure.spec as unknown as { datasets: { main: Record<string, unknown>[] } }).datasets.main;

const ASSIGNMENTS = [
  'all-Muon',
  'all-Adam',
  'Muon(V,O,MLP)/Adam(Q,K)',
  'Muon(V,O + W_in)',
  'Muon(V,O + W_out)',
  'Muon(Q,K) only',
  'Muon(W_out) only',
];
const MLPS = ['plain MLP (ReLU²)', 'gated MLP (SwiGLU)'];
const OPTIMIZERS = ['Muon', 'AdamW', 'SGD+momentum'];

describe('b-transformer-ablation figures', { timeout: 60_000 }, () => {
  const steps = [0, 150, 300, 450];
  // Seed s of assignment a: loss 5 − step/200 + 0.1·a + 0.05·s (so the band is 0.1 wide with 3 seeds).
  const curves: SeedCurve[] = MLPS.flatMap((panel) =>
    ASSIGNMENTS.flatMap((series, a) =>
      [1, 2, 3].map((seed) => ({ series, panel, seed, steps, values: steps.map((t) => 5 - t / 200 + 0.1 * a + 0.05 * (seed - 1)) })),
    ),
  );

  it('validation loss: per assignment and MLP a line, a point per logged step and a seed band; the mean and band of the seeds', async () => {
    const figure = validationLossFigure(curves, {
      title: 'Validation loss per assignment',
      caption: 'What the ablation shows, in one sentence.',
      seriesOrder: ASSIGNMENTS,
      panelOrder: MLPS,
    });
    const { counts, svg } = await checkFigure(figure);
    for (const panel of MLPS)
      for (const series of ASSIGNMENTS)
        expect(counts[`${series} · ${panel}`], `${series} · ${panel}`).toEqual({ point: steps.length, 'line mark': 1, 'area mark': 1 });
    // Every assignment in the legend, whole.
    expect(new Set(legendLabels(svg))).toEqual(new Set(ASSIGNMENTS));
    const row = rowsOf(figure).find((r) => r.series === 'Muon(Q,K) only' && r.panel === MLPS[1] && r.step === 300)!;
    const a = ASSIGNMENTS.indexOf('Muon(Q,K) only');
    const seedValues = [1, 2, 3].map((s) => 5 - 300 / 200 + 0.1 * a + 0.05 * (s - 1));
    expect(row.value).toBeCloseTo((seedValues[0] + seedValues[1] + seedValues[2]) / 3, 12);
    expect(row.lo).toBeCloseTo(seedValues[0], 12);
    expect(row.hi).toBeCloseTo(seedValues[2], 12);
  });

  it('a single seed draws no band', async () => {
    const { counts } = await checkFigure(
      validationLossFigure(
        curves.filter((c) => c.seed === 1),
        { title: 'one seed', caption: 'A single seed: lines and points only.', seriesOrder: ASSIGNMENTS },
      ),
    );
    expect(counts[`all-Muon · ${MLPS[0]}`]).toEqual({ point: steps.length, 'line mark': 1 });
  });

  it('final loss: a hollow point per seed and a tick at the mean, per assignment and MLP', async () => {
    const records: FinalLossRecord[] = curves.map((c) => ({
      series: c.series,
      panel: c.panel,
      seed: c.seed,
      loss: c.values[c.values.length - 1],
    }));
    const figure = finalLossFigure(records, { seriesOrder: ASSIGNMENTS, panelOrder: MLPS });
    const { counts } = await checkFigure(figure);
    for (const panel of MLPS)
      for (const series of ASSIGNMENTS) {
        expect(counts[`${series} · ${panel} · seeds`], series).toEqual({ point: 3 });
        expect(counts[`${series} · ${panel} · mean`], series).toEqual({ tick: 1 });
      }
    const m = rowsOf(figure).find((r) => r.kind === 'mean' && r.series === 'all-Adam' && r.panel === MLPS[0])!;
    expect(m.loss).toBeCloseTo(5 - 450 / 200 + 0.1 + 0.05, 12);
  });
});

describe('b-heavy-tail-qa figures', { timeout: 60_000 }, () => {
  const alphas = [0, 0.5, 1, 1.5];
  // Head near 1 for everyone; tail falling with α, Muon > AdamW > SGD; seed offsets ±0.02.
  const records: FtaBucketRecord[] = OPTIMIZERS.flatMap((optimizer, o) =>
    alphas.flatMap((alpha) =>
      [1, 2, 3].map((seed) => {
        const tail = Math.max(0, 0.8 - alpha * (0.2 + 0.1 * o) + 0.02 * (seed - 2));
        return { optimizer, alpha, seed, head: 0.98 - 0.01 * o, tail, all: (0.98 + tail) / 2 };
      }),
    ),
  );

  it('FTA against α: per optimizer and bucket a line, a point per α and a min–max bar per α; the head threshold drawn once', async () => {
    const figure = ftaVsAlphaFigure(records, { optimizerOrder: OPTIMIZERS, headMin: 0.9 });
    const { counts, svg } = await checkFigure(figure);
    for (const optimizer of OPTIMIZERS)
      for (const bucket of ['head', 'tail', 'all'])
        expect(counts[`${optimizer} · ${bucket}`], `${optimizer} · ${bucket}`).toEqual({
          point: alphas.length,
          'line mark': 1,
          'rule mark': alphas.length,
        });
    // The threshold: a dashed line with its label, in the head panel only, and no min–max bar of its own.
    expect(counts['head FTA ≥ 0.9']).toEqual({ 'line mark': 1, 'text mark': 1 });
    // One colour per optimizer, the shared palette's.
    const stroke = (label: string) => svgMarks(svg).find((m) => m.label === label && m.role === 'line mark')!.stroke;
    expect(stroke('Muon · tail')).toBe(OPTIMIZER_STYLE['muon-exact'].color);
    expect(stroke('AdamW · tail')).toBe(OPTIMIZER_STYLE.adam.color);
    expect(stroke('SGD+momentum · tail')).toBe(OPTIMIZER_STYLE.sgd.color);
    const row = rowsOf(figure).find((r) => r.optimizer === 'AdamW' && r.alpha === 1 && r.label === 'AdamW · tail')!;
    expect(row.value).toBeCloseTo(0.8 - 0.3, 12);
    expect(row.lo).toBeCloseTo(0.8 - 0.3 - 0.02, 12);
    expect(row.hi).toBeCloseTo(0.8 - 0.3 + 0.02, 12);
  });

  it('FTA by decile: per optimizer and α panel a line with 10 points and a seed band', async () => {
    const deciles: DecileRecord[] = OPTIMIZERS.flatMap((optimizer, o) =>
      alphas.flatMap((alpha) =>
        [1, 2, 3].map((seed) => ({
          optimizer,
          panel: `α = ${alpha}`,
          seed,
          deciles: Array.from({ length: 10 }, (_, k) => Math.max(0, 1 - k * 0.05 * (1 + o) * alpha - 0.01 * seed)),
        })),
      ),
    );
    const { counts } = await checkFigure(
      decileFigure(deciles, {
        name: 'fta-by-decile',
        title: 'FTA by frequency decile',
        yTitle: 'FTA',
        caption: 'FTA falls from the head deciles to the tail ones.',
        optimizerOrder: OPTIMIZERS,
      }),
    );
    for (const optimizer of OPTIMIZERS)
      for (const alpha of alphas) expect(counts[`${optimizer} · α = ${alpha}`]).toEqual({ point: 10, 'line mark': 1, 'area mark': 1 });
  });

  it('FTA against exposures: bins from 0 exposures are left off the log axis', async () => {
    const bins = OPTIMIZERS.flatMap((optimizer, o) =>
      [0, 1, 2, 4, 8, 16, 32].map((from) => ({
        optimizer,
        from,
        to: Math.max(1, 2 * from),
        fta: Math.min(1, (from / 32) * (1 - 0.2 * o)),
        count: 10,
      })),
    );
    const { counts } = await checkFigure(ftaVsExposuresFigure(bins, { alpha: 1, optimizerOrder: OPTIMIZERS }));
    for (const optimizer of OPTIMIZERS)
      expect(counts[optimizer]).toEqual({ point: bins.filter((b) => b.optimizer === optimizer && b.from > 0).length, 'line mark': 1 });
  });
});

describe('b-transformer-isotropy figures', { timeout: 60_000 }, () => {
  const steps = [0, 100, 200, 300, 400];
  const curves: SeedCurve[] = ['Muon', 'AdamW'].flatMap((series, o) =>
    ['W_V', 'W_O', 'W_out'].flatMap((panel, p) =>
      [1, 2, 3, 4].map((seed) => ({
        series,
        panel,
        seed,
        steps,
        values: steps.map((t) => 20 + ((o === 0 ? 1 : -1) * t) / 100 + p + 0.3 * seed),
      })),
    ),
  );

  it('eRank and Top10E along training: a panel per matrix, per optimizer a line, a point per logged step and a seed band', async () => {
    for (const metric of ['eRank', 'Top10E'] as const) {
      const values = metric === 'eRank' ? curves : curves.map((c) => ({ ...c, values: c.values.map((v) => v / 40) }));
      const figure = isotropyAlongTrainingFigure(values, { metric, dModel: 32, optimizerOrder: ['Muon', 'AdamW'] });
      expect(figure.name).toBe(metric === 'eRank' ? 'erank-along-training' : 'top10e-along-training');
      const { counts } = await checkFigure(figure);
      for (const series of ['Muon', 'AdamW'])
        for (const panel of ['W_V', 'W_O', 'W_out'])
          expect(counts[`${series} · ${panel}`], `${metric} ${series} ${panel}`).toEqual({
            point: steps.length,
            'line mark': 1,
            'area mark': 1,
          });
      const row = rowsOf(figure).find((r) => r.series === 'AdamW' && r.panel === 'W_out' && r.step === 400)!;
      const scale = metric === 'eRank' ? 1 : 1 / 40;
      expect(row.lo).toBeCloseTo((20 - 4 + 2 + 0.3) * scale, 12);
      expect(row.hi).toBeCloseTo((20 - 4 + 2 + 1.2) * scale, 12);
      expect(row.value).toBeCloseTo((20 - 4 + 2 + 0.75) * scale, 12);
    }
  });
});

describe('a-data-scaling figure', { timeout: 60_000 }, () => {
  it('envelope: a hollow point per optimizer × budget × η and the envelope as a line with a point per budget', async () => {
    const budgets = [2 ** 15, 2 ** 16, 2 ** 17, 2 ** 18];
    const factors = [1 / 3, 1, 3];
    const records: ScalingRecord[] = ['Muon', 'AdamW'].flatMap((optimizer, o) =>
      budgets.flatMap((tokens) =>
        factors.flatMap((lrFactor) =>
          [1, 2, 3].map((seed) => ({
            optimizer,
            tokens,
            lrFactor,
            seed,
            loss: (3 + o) * tokens ** -0.1 * (1 + Math.abs(Math.log(lrFactor)) / 10) + 0.001 * seed,
          })),
        ),
      ),
    );
    const envelopes = ['Muon', 'AdamW'].flatMap((optimizer, o) =>
      budgets.map((tokens) => ({ optimizer, tokens, lrFactor: 1, mean: (3 + o) * tokens ** -0.1 + 0.002 })),
    );
    const figure = envelopeFigure(records, envelopes);
    const { counts } = await checkFigure(figure);
    for (const optimizer of ['Muon', 'AdamW']) {
      expect(counts[`${optimizer} · every η`]).toEqual({ point: budgets.length * factors.length });
      expect(counts[`${optimizer} · envelope`]).toEqual({ point: budgets.length, 'line mark': 1 });
    }
    const grid = rowsOf(figure).find((r) => r.kind === 'grid' && r.optimizer === 'AdamW' && r.tokens === 2 ** 16 && r.lrFactor === 3)!;
    expect(grid.loss).toBeCloseTo(4 * 2 ** (16 * -0.1) * (1 + Math.log(3) / 10) + 0.002, 12);
  });
});
