/**
 * `a-data-scaling` ([A]'s LLaMA-style experiment, docs/transformer.md §6): for data budgets of 2^k
 * tokens per seed, a learning-rate grid per budget and optimizer — Muon on the hidden matrices
 * (AdamW on the tables and head) against AdamW everywhere — each cell training from scratch with its
 * warm-up and cosine decay spanning its budget; the validation loss at the end (held-out statement
 * orders of the knowledge corpus at α = 1). The envelope of an optimizer is, per budget, the minimum
 * over η of the seed-mean validation loss.
 *
 * Predictions (from quick on): Muon's envelope lies below AdamW's at every budget (paired by seed at
 * each optimizer's best η, recorded at the least favourable budget), and its power-law
 * exponent in the budget (least squares of log L against log D over the envelope) is steeper
 * (more negative) than AdamW's.
 */
import type { Gpu } from '../../gpu/device';
import { runTransformerCell, type TransformerCellResult } from '../transformerCell';
import { envelopeFigure } from '../../plots/figures/transformerPresets';
import { figureMarkdown } from '../../plots/spec';
import { definePreset, type CellOutcome } from './cellular';
import { dataScalingMeasurements, dataScalingPredictions, envelope } from './transformerClaims';
import { aDataScalingPlan as plan, baseLr, budgetSteps, dataScalingConfig, type DataScalingCellParams } from './plans/aDataScaling';
import { TRANSFORMER_SCALES } from './plans/transformerCommon';
import { reproducedParagraph, transformerPresetReport } from './transformerReport';
import { markdownTable, presetInfo, reportHead, type PresetCell, type Scale } from './types';

type Cell = PresetCell<DataScalingCellParams>;

async function runCell(gpu: Gpu, scale: Scale, cell: Cell, progress: (message: string) => void): Promise<TransformerCellResult> {
  const s = plan.settings[scale];
  const steps = budgetSteps(scale, cell.params.budgetLog2);
  return runTransformerCell(gpu, dataScalingConfig(scale, cell), {
    // The validation loss at the end only: the envelope is of final losses.
    validationEvery: steps,
    validationBatches: TRANSFORMER_SCALES[s.model].validationBatches,
    probes: false,
    progress,
  });
}

function summarize(scale: Scale, results: readonly CellOutcome<DataScalingCellParams, TransformerCellResult>[]) {
  const s = plan.settings[scale];
  const m = TRANSFORMER_SCALES[s.model];
  const measurements = results.flatMap((r) => dataScalingMeasurements(scale, r.cell, r.result));
  const predictions = dataScalingPredictions(scale, measurements);
  const label = (o: string) => (o === 'muon' ? 'Muon' : 'AdamW');
  const rows = (['muon', 'adamw'] as const).flatMap((o) =>
    envelope(measurements, o).map((e) => [
      label(o),
      `2^${e.budgetLog2}`,
      e.tokens,
      Number((baseLr(o) * e.lrFactor).toPrecision(3)),
      e.mean,
      e.perSeed.map((v) => v.toFixed(4)).join(', '),
    ]),
  );
  const grid = measurements
    .filter(
      (x, i, all) => all.findIndex((y) => y.optimizer === x.optimizer && y.budgetLog2 === x.budgetLog2 && y.lrFactor === x.lrFactor) === i,
    )
    .map((x) => {
      const ms = measurements.filter((y) => y.optimizer === x.optimizer && y.budgetLog2 === x.budgetLog2 && y.lrFactor === x.lrFactor);
      return [
        label(x.optimizer),
        `2^${x.budgetLog2}`,
        Number(x.lr.toPrecision(3)),
        ms.reduce((a, y) => a + y.validationLoss, 0) / ms.length,
      ];
    });
  const envelopePlot = envelopeFigure(
    measurements.map((x) => ({
      optimizer: label(x.optimizer),
      tokens: x.tokens,
      lrFactor: x.lrFactor,
      seed: x.seed,
      loss: x.validationLoss,
    })),
    (['muon', 'adamw'] as const).flatMap((o) =>
      envelope(measurements, o).map((e) => ({ optimizer: label(o), tokens: e.tokens, lrFactor: e.lrFactor, mean: e.mean })),
    ),
  );
  const markdown = [
    ...reportHead(
      plan.name,
      scale,
      [
        `${plan.paper}. ${plan.describe(s)}. Base η: Muon ${baseLr('muon')} on the hidden matrices (AdamW ${baseLr('adamw')} × the same factor on the tables and head), AdamW ${baseLr('adamw')}; every cell has a 5 % warm-up and a cosine decay over its own budget. Validation: held-out statement orders (${m.validationBatches} batches).`,
        reproducedParagraph(predictions, scale, plan.claimsHoldFrom, plan.paper),
      ],
      predictions,
    ),
    '## Envelope (best η per budget)',
    '',
    markdownTable(['optimizer', 'budget', 'tokens', 'best η', 'validation loss (seed mean)', 'per seed'], rows),
    '',
    '## Every cell (seed mean)',
    '',
    markdownTable(['optimizer', 'budget', 'η', 'validation loss'], grid),
    '',
    figureMarkdown(envelopePlot),
  ].join('\n');
  return transformerPresetReport({
    preset: plan.name,
    scale,
    settings: { ...s, ...m },
    results,
    configOf: (cell) => dataScalingConfig(scale, cell),
    predictions,
    measurements,
    plots: [envelopePlot],
    markdown,
  });
}

export const aDataScaling = definePreset({ ...presetInfo(plan), cells: plan.cells, runCell, summarize });
