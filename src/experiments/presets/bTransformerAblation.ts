/**
 * `b-transformer-ablation` ([B] §2, docs/transformer.md §6): which matrices gain from Muon. The seven
 * assignments of [B] — all-Muon, all-Adam, Muon(V,O,MLP)/Adam(Q,K), Muon(V,O + W_in),
 * Muon(V,O + W_out), Muon(Q,K) only, Muon(W_out) only; AdamW wherever Muon is not (embeddings,
 * positions and the head always) — each with a plain (ReLU²) and a gated (SwiGLU, W_gate with W_in)
 * MLP, on the knowledge corpus at α = 1 with equal tokens and the same seeds (paired comparisons).
 * Measured: the validation loss on held-out statement orders along training (the final value is
 * what the predictions compare), MaxLogit per layer along training, and the FTA buckets at the end.
 *
 * Predictions, per MLP form (from quick on; ci is a smoke run, inconclusive): all-Muon ≤
 * Muon(V,O,MLP) (not significantly worse) and Muon(V,O,MLP) < all-Adam; Muon(Q,K) only closer to
 * all-Adam than to all-Muon (the fraction (L_QK − L_Muon)/(L_Adam − L_Muon) above ½); Muon(V,O + W_out)
 * < Muon(V,O + W_in). MaxLogit of all-Muon and all-Adam, and the tail FTA each assignment keeps, are
 * reported.
 */
import type { Gpu } from '../../gpu/device';
import { seedSummary } from '../../metrics/seedStats';
import { runTransformerCell, type TransformerCellResult } from '../transformerCell';
import { finalLossFigure, validationLossFigure } from '../../plots/figures/transformerPresets';
import { figureMarkdown } from '../../plots/spec';
import { definePreset, type CellOutcome } from './cellular';
import { ablationMeasurements, ablationPredictions } from './transformerClaims';
import { ablationConfig, bTransformerAblationPlan as plan, type AblationCellParams } from './plans/bTransformerAblation';
import { ABLATION_ASSIGNMENTS, TRANSFORMER_SCALES } from './plans/transformerCommon';
import { reproducedParagraph, transformerPresetReport } from './transformerReport';
import { markdownTable, presetInfo, reportHead, type PresetCell, type Scale } from './types';

type Cell = PresetCell<AblationCellParams>;

async function runCell(gpu: Gpu, scale: Scale, cell: Cell, progress: (message: string) => void): Promise<TransformerCellResult> {
  const s = plan.settings[scale];
  return runTransformerCell(gpu, ablationConfig(scale, cell), {
    validationEvery: s.validationEvery,
    validationBatches: TRANSFORMER_SCALES[s.model].validationBatches,
    probes: true,
    progress,
  });
}

function summarize(scale: Scale, results: readonly CellOutcome<AblationCellParams, TransformerCellResult>[]) {
  const s = plan.settings[scale];
  const m = TRANSFORMER_SCALES[s.model];
  const measurements = results.flatMap((r) => ablationMeasurements(r.cell, r.result));
  const predictions = ablationPredictions(scale, measurements);
  const fmt = (xs: number[]) => {
    const t = seedSummary(xs);
    return Number.isFinite(t.ci[0]) ? `${t.mean.toFixed(4)} [${t.ci[0].toFixed(4)}, ${t.ci[1].toFixed(4)}]` : t.mean.toFixed(4);
  };
  const rows = s.mlps.flatMap((mlp) =>
    ABLATION_ASSIGNMENTS.map((a) => {
      const g = measurements.filter((x) => x.mlp === mlp && x.assignment === a.id);
      return [
        a.label,
        mlp,
        fmt(g.map((x) => x.finalLoss)),
        fmt(g.map((x) => x.tail)),
        fmt(g.map((x) => x.head)),
        fmt(g.map((x) => x.maxLogit)),
      ];
    }),
  );
  const mlpLabel = (mlp: string) => (mlp === 'swiglu' ? 'gated MLP (SwiGLU)' : 'plain MLP (ReLU²)');
  const seriesOrder = ABLATION_ASSIGNMENTS.map((a) => a.label);
  const panelOrder = s.mlps.map(mlpLabel);
  const figures = [
    validationLossFigure(
      measurements.map((x) => ({
        series: x.label,
        panel: mlpLabel(x.mlp),
        seed: x.seed,
        steps: x.validationSteps,
        values: x.validationLoss,
      })),
      {
        title: 'Validation loss per Muon/AdamW assignment',
        caption:
          '[B]: all-Muon and Muon(V,O,MLP) lowest, Muon(Q,K) only next to all-Adam — what Muon gains comes through V, O and the MLP.',
        seriesOrder,
        panelOrder,
      },
    ),
    finalLossFigure(
      measurements.map((x) => ({ series: x.label, panel: mlpLabel(x.mlp), seed: x.seed, loss: x.finalLoss })),
      { seriesOrder, panelOrder },
    ),
  ];
  const markdown = [
    ...reportHead(
      plan.name,
      scale,
      [
        `${plan.paper}. ${plan.describe(s)}. Muon on the named matrices (Nesterov 0.95, shape scale), AdamW on every other matrix, the same step sizes in every assignment (src/experiments/presets/plans/transformerCommon.ts). Validation loss: held-out statement orders of the same corpus (${m.validationBatches} batches). Intervals: 95 % t over the ${s.seeds.length} seeds, paired by seed. [B] at 160M parameters: all-Muon 3.565, Muon(V,O,MLP) 3.586, Muon(V,O + W_out) 3.605, Muon(V,O + W_in) 3.678, Muon(W_out) only 3.702, Muon(Q,K) only 3.893, all-Adam 3.924.`,
        reproducedParagraph(predictions, scale, plan.claimsHoldFrom, plan.paper),
      ],
      predictions,
    ),
    '## Final validation loss, tail and head FTA, MaxLogit (mean [95 % interval] over seeds)',
    '',
    markdownTable(['assignment', 'MLP', 'validation loss', 'tail FTA', 'head FTA', 'MaxLogit'], rows),
    '',
    ...figures.map(figureMarkdown),
  ].join('\n');
  return transformerPresetReport({
    preset: plan.name,
    scale,
    settings: { ...s, ...m },
    results,
    configOf: (cell) => ablationConfig(scale, cell),
    predictions,
    measurements,
    plots: figures,
    markdown,
  });
}

export const bTransformerAblation = definePreset({ ...presetInfo(plan), cells: plan.cells, runCell, summarize });
