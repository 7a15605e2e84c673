/**
 * `b-transformer-isotropy` ([B] §4, docs/transformer.md §6): the spectral isotropy (math.md §3.6:
 * eRank, Top10E, H_norm) of W_V, W_O and W_out of every layer, and of their updates, along training,
 * for Muon on the hidden matrices vs AdamW everywhere, over 4+ seeds (the same seeds in both cells:
 * the same initial weights, so step 0 is identical and later differences are the optimizers').
 * Isotropy is the Float64 SVD of the GPU's f32 matrices read back every `isotropyEvery` steps
 * (singular values ≤ max(m, n)·2⁻²³·σ_max count as zero).
 *
 * Predictions (per matrix kind, the layers' mean; from quick on): Muon's eRank is higher and its
 * Top10E lower than AdamW's at every logged step after the first — recorded as the step where the
 * seed interval of the paired difference comes closest to 0 — and Muon's eRank varies less across
 * seeds (mean over logged steps of the seed standard deviation, Muon / AdamW < 1).
 */
import type { Gpu } from '../../gpu/device';
import { seedSummary } from '../../metrics/seedStats';
import { runTransformerCell, type TransformerCellResult } from '../transformerCell';
import { isotropyAlongTrainingFigure } from '../../plots/figures/transformerPresets';
import { figureMarkdown } from '../../plots/spec';
import { definePreset, type CellOutcome } from './cellular';
import { isotropyMeasurements, isotropyPredictions, KINDS, kindSeries } from './transformerClaims';
import { bTransformerIsotropyPlan as plan, isotropyConfig, type IsotropyCellParams } from './plans/bTransformerIsotropy';
import { TRANSFORMER_SCALES } from './plans/transformerCommon';
import { reproducedParagraph, transformerPresetReport } from './transformerReport';
import { markdownTable, presetInfo, reportHead, type PresetCell, type Scale } from './types';

type Cell = PresetCell<IsotropyCellParams>;

async function runCell(gpu: Gpu, scale: Scale, cell: Cell, progress: (message: string) => void): Promise<TransformerCellResult> {
  const s = plan.settings[scale];
  return runTransformerCell(gpu, isotropyConfig(scale, cell), {
    validationEvery: s.validationEvery,
    validationBatches: TRANSFORMER_SCALES[s.model].validationBatches,
    probes: false,
    progress,
  });
}

function summarize(scale: Scale, results: readonly CellOutcome<IsotropyCellParams, TransformerCellResult>[]) {
  const s = plan.settings[scale];
  const m = TRANSFORMER_SCALES[s.model];
  const measurements = results.flatMap((r) => isotropyMeasurements(r.cell, r.result));
  const predictions = isotropyPredictions(scale, measurements);
  const names: Record<string, string> = { v: 'W_V', o: 'W_O', out: 'W_out' };
  // Per optimizer, matrix kind and seed: the layers' mean along training (kindSeries), one curve each.
  const curves = (metric: 'eRank' | 'top10E') =>
    (['muon', 'adamw'] as const).flatMap((o) =>
      KINDS.flatMap((kind) => {
        const x = kindSeries(measurements, o, kind, metric);
        return x.seeds.map((seed, r) => ({
          series: o === 'muon' ? 'Muon' : 'AdamW',
          panel: names[kind],
          seed,
          steps: x.steps,
          values: x.values.map((v) => v[r]),
        }));
      }),
    );
  const plots = [
    isotropyAlongTrainingFigure(curves('eRank'), { metric: 'eRank', dModel: m.dModel, optimizerOrder: ['Muon', 'AdamW'] }),
    isotropyAlongTrainingFigure(curves('top10E'), { metric: 'Top10E', dModel: m.dModel, optimizerOrder: ['Muon', 'AdamW'] }),
  ];
  const lastStep = Math.max(...measurements.map((x) => x.step));
  const rows = KINDS.flatMap((kind) =>
    (['muon', 'adamw'] as const).map((o) => {
      const e = kindSeries(measurements, o, kind, 'eRank');
      const t = kindSeries(measurements, o, kind, 'top10E');
      const k = e.steps.indexOf(lastStep);
      const f = (v: number[]) => {
        const q = seedSummary(v);
        return `${q.mean.toFixed(3)} ± ${Number.isFinite(q.sd) ? q.sd.toFixed(3) : '—'}`;
      };
      return [names[kind], o === 'muon' ? 'Muon' : 'AdamW', f(e.values[k]), f(t.values[k])];
    }),
  );
  const markdown = [
    ...reportHead(
      plan.name,
      scale,
      [
        `${plan.paper}. ${plan.describe(s)}. eRank = exp(entropy of σ²/Σσ²), Top10E = share of σ² in the top 10 directions (math.md §3.6); the matrices are d × d (W_V, W_O) and d × 4d (W_out), so eRank ≤ ${m.dModel}.`,
        reproducedParagraph(predictions, scale, plan.claimsHoldFrom, plan.paper),
      ],
      predictions,
    ),
    `## At the last logged step (${lastStep}): mean ± seed standard deviation`,
    '',
    markdownTable(['matrix', 'optimizer', 'eRank', 'Top10E'], rows),
    '',
    ...plots.map(figureMarkdown),
  ].join('\n');
  return transformerPresetReport({
    preset: plan.name,
    scale,
    settings: { ...s, ...m },
    results,
    configOf: (cell) => isotropyConfig(scale, cell),
    predictions,
    measurements,
    plots,
    markdown,
  });
}

export const bTransformerIsotropy = definePreset({ ...presetInfo(plan), cells: plan.cells, runCell, summarize });
