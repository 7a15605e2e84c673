/**
 * `b-heavy-tail-qa` ([B] §3, docs/transformer.md §6): the knowledge corpus (P individuals with
 * frequencies ∝ (i + 1)^−α, biographies and QA pairs) trained by Muon (hidden matrices; AdamW on the
 * tables and the head), AdamW and SGD with momentum, for α in a sweep, each with the same seeds
 * (same initial weights and statement orders across optimizers, so differences are paired by seed).
 * At the end every (individual, attribute) is probed: FTA = the teacher-forced argmax at the answer
 * position equals the value token. FTA is reported by frequency bucket (head 10 %, tail 50 %,
 * deciles), over all individuals, and against the exact exposure counts; the validation loss on
 * held-out statement orders along training.
 *
 * The control: the in-context linear-regression source with the same power law over its task
 * vectors, Muon vs AdamW: accuracy of the y-bin prediction per task bucket. [B]: no Muon tail
 * advantage there.
 *
 * Predictions (checked from the quick scale on; ci runs them as a smoke test, inconclusive):
 * head FTA ≥ 0.9 for every optimizer at α = 1; tail FTA Muon > AdamW > SGD at α ≥ 1; the Muon −
 * AdamW gap in mean FTA grows with α (slope over the α sweep); the control's Muon − AdamW tail gap
 * stays below the band.
 */
import type { Gpu } from '../../gpu/device';
import { ftaByExposure } from '../../metrics/fta';
import { seedSummary } from '../../metrics/seedStats';
import { runTransformerCell, type TransformerCellResult } from '../transformerCell';
import { decileFigure, ftaVsAlphaFigure, ftaVsExposuresFigure, validationLossFigure } from '../../plots/figures/transformerPresets';
import { figureMarkdown } from '../../plots/spec';
import { definePreset, type CellOutcome } from './cellular';
import { bucketsOf, HEAD_FTA_MIN, heavyTailMeasurements, heavyTailPredictions } from './transformerClaims';
import { bHeavyTailQaPlan as plan, heavyTailConfig, type HeavyTailCellParams } from './plans/bHeavyTailQa';
import { OPTIMIZER_LABELS, TRANSFORMER_SCALES, type OptimizerName } from './plans/transformerCommon';
import { reproducedParagraph, transformerPresetReport } from './transformerReport';
import { markdownTable, presetInfo, reportHead, type PresetCell, type Scale } from './types';

/** One replica of one cell: the raw probe results and the loss, as the report's measurements hold them. */
type Cell = PresetCell<HeavyTailCellParams>;

async function runCell(gpu: Gpu, scale: Scale, cell: Cell, progress: (message: string) => void): Promise<TransformerCellResult> {
  const s = plan.settings[scale];
  return runTransformerCell(gpu, heavyTailConfig(scale, cell), {
    validationEvery: s.validationEvery,
    validationBatches: TRANSFORMER_SCALES[s.model].validationBatches,
    probes: true,
    progress,
  });
}

function summarize(scale: Scale, results: readonly CellOutcome<HeavyTailCellParams, TransformerCellResult>[]) {
  const s = plan.settings[scale];
  const m = TRANSFORMER_SCALES[s.model];
  const measurements = results.flatMap((r) => heavyTailMeasurements(r.cell, r.result));
  const predictions = heavyTailPredictions(scale, measurements);
  const qa = measurements.filter((x) => x.kind === 'qa');
  const label = (o: OptimizerName) => OPTIMIZER_LABELS[o];
  const fmtCi = (xs: number[]) => {
    const t = seedSummary(xs);
    return Number.isFinite(t.ci[0]) ? `${t.mean.toFixed(3)} [${t.ci[0].toFixed(3)}, ${t.ci[1].toFixed(3)}]` : t.mean.toFixed(3);
  };
  const group = (o: OptimizerName, alpha: number) => qa.filter((x) => x.optimizer === o && x.alpha === alpha);
  const rows = s.alphas.flatMap((alpha) =>
    s.optimizers.map((o) => {
      const g = group(o, alpha);
      const b = g.map(bucketsOf);
      return [
        label(o),
        alpha,
        fmtCi(b.map((x) => x.head)),
        fmtCi(b.map((x) => x.tail)),
        fmtCi(b.map((x) => x.all)),
        fmtCi(g.map((x) => x.validationLoss.at(-1)!)),
      ];
    }),
  );
  const controlRows = s.controlOptimizers.map((o) => {
    const g = measurements.filter((x) => x.kind === 'control' && x.optimizer === o);
    const b = g.map(bucketsOf);
    return [
      label(o),
      s.controlAlpha,
      fmtCi(b.map((x) => x.head)),
      fmtCi(b.map((x) => x.tail)),
      fmtCi(b.map((x) => x.all)),
      fmtCi(g.map((x) => x.validationLoss.at(-1)!)),
    ];
  });
  const refAlpha = s.alphas.includes(1) ? 1 : s.alphas[s.alphas.length - 1];
  const optimizerOrder = s.optimizers.map(label);
  const figures = [
    ftaVsAlphaFigure(
      qa.map((x) => ({ optimizer: label(x.optimizer), alpha: x.alpha, seed: x.seed, ...bucketsOf(x) })),
      { optimizerOrder, headMin: HEAD_FTA_MIN },
    ),
    decileFigure(
      qa.map((x) => ({ optimizer: label(x.optimizer), panel: `α = ${x.alpha}`, seed: x.seed, deciles: bucketsOf(x).deciles })),
      {
        name: 'fta-by-decile',
        title: `FTA by frequency decile per α (${s.seeds.length} seeds)`,
        yTitle: 'FTA',
        caption:
          'Every optimizer answers for the most frequent individuals; the deciles further down the tail separate Muon from AdamW and SGD.',
        optimizerOrder,
        panelOrder: s.alphas.map((a) => `α = ${a}`),
      },
    ),
    ftaVsExposuresFigure(
      s.optimizers.flatMap((o) => {
        const g = group(o, refAlpha);
        return ftaByExposure(
          g.flatMap((x) => x.correct.map((c) => c / x.outOf)),
          g.flatMap((x) => x.exposures),
        ).map((b) => ({ optimizer: label(o), from: b.from, to: b.to, fta: b.fta, count: b.individuals }));
      }),
      { alpha: refAlpha, optimizerOrder },
    ),
    validationLossFigure(
      qa.map((x) => ({
        series: label(x.optimizer),
        panel: `α = ${x.alpha}`,
        seed: x.seed,
        steps: x.validationSteps,
        values: x.validationLoss,
      })),
      {
        title: 'Validation loss per optimizer and α',
        caption: 'The held-out loss along training; the optimizers differ less in loss than in what they learn about rare individuals.',
        seriesOrder: optimizerOrder,
        panelOrder: s.alphas.map((a) => `α = ${a}`),
      },
    ),
    decileFigure(
      measurements
        .filter((x) => x.kind === 'control')
        .map((x) => ({
          optimizer: label(x.optimizer),
          panel: `in-context regression, α = ${x.alpha}`,
          seed: x.seed,
          deciles: bucketsOf(x).deciles,
        })),
      {
        name: 'control-by-decile',
        title: `Control: in-context regression accuracy by task-frequency decile`,
        yTitle: 'accuracy (y bin)',
        caption: '[B]: on a task that lives in Q and K (in-context regression) Muon has no tail advantage over AdamW.',
        optimizerOrder: s.controlOptimizers.map(label),
      },
    ),
  ];
  const markdown = [
    ...reportHead(
      plan.name,
      scale,
      [
        `${plan.paper}. ${plan.describe(s)}. FTA: teacher-forced argmax at the answer position of each (individual, attribute)'s QA statement equals the value token; head = the ${Math.ceil(0.1 * m.individuals)} most frequent individuals, tail = the ${Math.floor(0.5 * m.individuals)} least frequent. Intervals: 95 % t intervals over the ${s.seeds.length} seeds (paired by seed for differences). Step sizes are fixed per optimizer, not tuned per cell (src/experiments/presets/plans/transformerCommon.ts).`,
        reproducedParagraph(predictions, scale, plan.claimsHoldFrom, plan.paper),
      ],
      predictions,
    ),
    '## FTA by bucket (mean [95 % interval] over seeds)',
    '',
    markdownTable(['optimizer', 'α', 'head FTA', 'tail FTA', 'all FTA', 'final validation loss'], rows),
    '',
    '## Control: in-context linear regression (accuracy of the y bin; head/tail by task frequency)',
    '',
    markdownTable(['optimizer', 'α', 'head acc', 'tail acc', 'all acc', 'final validation loss'], controlRows),
    '',
    ...figures.map(figureMarkdown),
  ].join('\n');
  return transformerPresetReport({
    preset: plan.name,
    scale,
    settings: { ...s, ...m },
    results,
    configOf: (cell) => heavyTailConfig(scale, cell),
    predictions,
    measurements,
    plots: figures,
    markdown,
  });
}

export const bHeavyTailQa = definePreset({ ...presetInfo(plan), cells: plan.cells, runCell, summarize });
