// The four transformer presets of issue 13 at `ci` scale on the real adapter, and the knowledge
// corpus and regression control on the GPU against the Float64 twin.
//
// ci is a smoke size (L 2, d 32, P 64, 10–20 steps): [B]'s claims are not expected to hold there
// and the records say inconclusive. What this file asserts instead, from the raw measurements the
// report holds (never from a record's `agrees`):
// - every record's measured value is recomputed here from the measurements with this file's own
//   arithmetic (bucket means of the per-individual counts, paired seed differences, envelope minima,
//   layer means) and matches to 1e-9;
// - the runs trained: the validation loss fell below its step-0 value by at least 20 % in every
//   cell (from ≈ ln V ≈ 4.1 at initialisation; a broken gradient or data path leaves it flat);
// - the knowledge probes and exposures are consistent: counts within [0, attributes], exposures of
//   the 10 % most frequent individuals above those of the 50 % least frequent (α = 1), total
//   exposures within the packing bounds (each 32-token row holds 4–5 statements of 6–7 tokens);
// - isotropy: one row per (optimizer, seed, logged step, matrix) and eRank within [1, d];
// - data scaling: each cell trained exactly 2^k tokens per seed.
// The four together are meant to fit CI's 5 minutes on SwiftShader; the elapsed time is printed.
//
// Twin: the same seed gives the same batches (inputs, targets, weights, read-in vectors), the same
// initial weights (bit for bit: both are the f32 rounding of the same Philox normals) and the same
// first-step loss on the GPU and in the Float64 twin, within 1e-4 relative (the bound of
// transformerTrain.browser.test.ts: the head's f32 loss is within ≈ 1e-5 per position).
import { describe, expect, it } from 'vitest';
import { aDataScaling } from '../src/experiments/presets/aDataScaling';
import { bHeavyTailQa } from '../src/experiments/presets/bHeavyTailQa';
import { bTransformerAblation } from '../src/experiments/presets/bTransformerAblation';
import { bTransformerIsotropy } from '../src/experiments/presets/bTransformerIsotropy';
import type {
  AblationMeasurement,
  DataScalingMeasurement,
  HeavyTailMeasurement,
  IsotropyMeasurement,
} from '../src/experiments/presets/transformerClaims';
import { TRANSFORMER_SCALES } from '../src/experiments/presets/plans/transformerCommon';
import type { PresetReport } from '../src/experiments/presets/types';
import { CpuTransformerTrainer } from '../src/cpu/transformerTrain';
import { initParamsCpu } from '../src/cpu/transformerModel';
import type { TransformerConfigInput } from '../src/model/config';
import { TransformerTrainer } from '../src/model/trainer';
import { gpuOrSkip, withErrorScopes } from './gpuFixture';

const started = performance.now();
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const record = (r: PresetReport, re: RegExp) => {
  const p = r.predictions.find((x) => re.test(x.name));
  if (!p) throw new Error(`no record matching ${re}: ${r.predictions.map((x) => x.name).join(' | ')}`);
  return p;
};
const d = TRANSFORMER_SCALES.ci.dModel;
/** The rows of a report figure's inlined dataset of one kind (none: the data rows, not reference lines). */
const figureRows = (r: PresetReport, name: string, kind?: string) => {
  const figure = r.plots.find((p) => p.name === name);
  if (!figure) throw new Error(`no figure ${name}: ${r.plots.map((p) => p.name).join(', ')}`);
  return (figure.spec as unknown as { datasets: { main: Record<string, unknown>[] } }).datasets.main.filter((x) => x.kind == kind);
};

describe('transformer presets at ci scale: records recomputed from the raw measurements', () => {
  it('b-heavy-tail-qa', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const t0 = performance.now();
    const report = await bHeavyTailQa.run(gpu, 'ci', () => {});
    const ms = report.measurements as HeavyTailMeasurement[];
    const P = TRANSFORMER_SCALES.ci.individuals;
    expect(ms).toHaveLength((2 * 3 + 2) * 2);
    // This file's own buckets: head = ranks 0 … ⌈P/10⌉ − 1, tail = the last ⌊P/2⌋.
    const share = (m: HeavyTailMeasurement, from: number, to: number) => mean(m.correct.slice(from, to).map((c) => c / m.outOf));
    const tail = (m: HeavyTailMeasurement) => share(m, P - Math.floor(P / 2), P);
    const head = (m: HeavyTailMeasurement) => share(m, 0, Math.ceil(P / 10));
    const find = (kind: string, o: string, alpha: number) =>
      ms.filter((m) => m.kind === kind && m.optimizer === o && m.alpha === alpha).sort((a, b) => a.seed - b.seed);
    for (const m of ms) {
      expect(
        m.correct.every((c) => c >= 0 && c <= m.outOf),
        `${m.optimizer} α ${m.alpha}`,
      ).toBe(true);
      expect(
        m.validationLoss.at(-1)!,
        `${m.kind} ${m.optimizer} α ${m.alpha} seed ${m.seed}: ${m.validationLoss.join(' → ')}`,
      ).toBeLessThan(0.8 * m.validationLoss[0]);
      if (m.kind === 'qa') {
        const statements = m.exposures.reduce((a, b) => a + b, 0);
        // 20 steps × 8 rows × 4–5 statements of 6–7 tokens in 32 positions.
        expect(statements).toBeGreaterThanOrEqual(20 * 8 * 4);
        expect(statements).toBeLessThanOrEqual(20 * 8 * 5);
        if (m.alpha === 1) expect(mean(m.exposures.slice(0, 7))).toBeGreaterThan(mean(m.exposures.slice(32)));
      }
    }
    for (const [a, b] of [
      ['muon', 'adamw'],
      ['adamw', 'sgd'],
    ]) {
      const want = mean(find('qa', a, 1).map((m, k) => tail(m) - tail(find('qa', b, 1)[k])));
      expect(record(report, new RegExp(`tail FTA ${a === 'muon' ? 'Muon' : 'AdamW'} > .* \\(α = 1\\)`)).measured).toBeCloseTo(want, 9);
    }
    const heads = ['muon', 'adamw', 'sgd'].map((o) => mean(find('qa', o, 1).map(head)));
    ['Muon', 'AdamW', 'SGD\\+momentum'].forEach((label, k) =>
      expect(record(report, new RegExp(`head FTA ≥ 0.9: ${label} `)).measured).toBeCloseTo(heads[k], 9),
    );
    const control = mean(find('control', 'muon', 1).map((m, k) => tail(m) - tail(find('control', 'adamw', 1)[k])));
    expect(record(report, /control \(in-context regression\)/).measured).toBeCloseTo(control, 9);
    // The gap's slope over α ∈ {0, 1} with two seeds: least squares of the four (α, gap) points.
    const gap = (alpha: number) =>
      find('qa', 'muon', alpha).map(
        (m, k) => mean(m.correct.map((c) => c / m.outOf)) - mean(find('qa', 'adamw', alpha)[k].correct.map((c) => c / m.outOf)),
      );
    expect(record(report, /grows with α/).measured).toBeCloseTo(mean(gap(1)) - mean(gap(0)), 9);
    // The figures, and what they plot: per bucket × optimizer × α the seed mean and min–max of the
    // measurements (src/plots/figures/transformerPresets.ts draws them).
    expect(report.plots.map((p) => p.name)).toEqual([
      'fta-vs-alpha',
      'fta-by-decile',
      'fta-vs-exposures',
      'validation-loss',
      'control-by-decile',
    ]);
    expect(figureRows(report, 'fta-vs-alpha')).toHaveLength(3 * 3 * 2);
    for (const [o, label] of [
      ['muon', 'Muon'],
      ['adamw', 'AdamW'],
      ['sgd', 'SGD+momentum'],
    ]) {
      const tails = find('qa', o, 1).map(tail);
      const row = figureRows(report, 'fta-vs-alpha').find((x) => x.label === `${label} · tail` && x.alpha === 1)!;
      expect([row.value, row.lo, row.hi] as number[]).toEqual(
        [mean(tails), Math.min(...tails), Math.max(...tails)].map((v) => expect.closeTo(v, 9)),
      );
    }
    expect(figureRows(report, 'validation-loss')).toHaveLength(3 * 2 * ms.find((m) => m.kind === 'qa')!.validationSteps.length);
    console.log(
      `[b-heavy-tail-qa ci] ${((performance.now() - t0) / 1000).toFixed(1)} s; head FTA ${heads.map((h) => h.toFixed(3)).join(' / ')} (Muon / AdamW / SGD, α = 1)`,
    );
  }, 600_000);

  it('b-transformer-ablation', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const t0 = performance.now();
    const report = await bTransformerAblation.run(gpu, 'ci', () => {});
    const ms = report.measurements as AblationMeasurement[];
    expect(ms).toHaveLength(7 * 2 * 2);
    // Figures: validation loss per assignment and MLP (seed mean and band), every seed's final loss.
    expect(report.plots.map((p) => p.name)).toEqual(['validation-loss', 'final-loss']);
    expect(figureRows(report, 'validation-loss')).toHaveLength(7 * 2 * ms[0].validationSteps.length);
    const seedRows = figureRows(report, 'final-loss', 'seed');
    expect(seedRows.map((x) => x.loss as number).sort((a, b) => a - b)).toEqual(ms.map((m) => m.finalLoss).sort((a, b) => a - b));
    for (const m of ms)
      expect(m.finalLoss, `${m.mlp} ${m.assignment} seed ${m.seed}: ${m.validationLoss.join(' → ')}`).toBeLessThan(
        0.8 * m.validationLoss[0],
      );
    const loss = (mlp: string, id: string) =>
      ms
        .filter((m) => m.mlp === mlp && m.assignment === id)
        .sort((a, b) => a.seed - b.seed)
        .map((m) => m.finalLoss);
    for (const [mlp, tag] of [
      ['relu2', 'plain MLP'],
      ['swiglu', 'gated MLP'],
    ]) {
      const diff = (a: string, b: string) => mean(loss(mlp, a).map((v, k) => v - loss(mlp, b)[k]));
      expect(record(report, new RegExp(`^all-Muon ≤ .*\\(${tag}\\)`)).measured).toBeCloseTo(diff('all-muon', 'muon-vo-mlp'), 9);
      expect(record(report, new RegExp(`< all-Adam \\(${tag}\\)`)).measured).toBeCloseTo(diff('muon-vo-mlp', 'all-adam'), 9);
      expect(record(report, new RegExp(`W_out\\) < .*\\(${tag}\\)`)).measured).toBeCloseTo(diff('muon-vo-out', 'muon-vo-in'), 9);
      const [qk, mu, ad] = [loss(mlp, 'muon-qk'), loss(mlp, 'all-muon'), loss(mlp, 'all-adam')];
      expect(record(report, new RegExp(`closer to all-Adam .*\\(${tag}\\)`)).measured).toBeCloseTo(
        mean(qk.map((v, k) => (v - mu[k]) / (ad[k] - mu[k]))),
        9,
      );
    }
    console.log(`[b-transformer-ablation ci] ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }, 600_000);

  it('b-transformer-isotropy', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const t0 = performance.now();
    const report = await bTransformerIsotropy.run(gpu, 'ci', () => {});
    const ms = report.measurements as IsotropyMeasurement[];
    // 2 optimizers × 4 seeds × 4 logged steps (0, 5, 10, 15 of 20) × 6 matrices.
    expect(ms).toHaveLength(2 * 4 * 4 * 6);
    // Figures: eRank and Top10E, a panel per matrix kind, per optimizer the seed mean of the layers' mean.
    expect(report.plots.map((p) => p.name)).toEqual(['erank-along-training', 'top10e-along-training']);
    const eRankRows = figureRows(report, 'erank-along-training');
    expect(eRankRows).toHaveLength(2 * 3 * 4);
    const layersMean = (o: string, kind: string, seed: number, step: number) =>
      mean(ms.filter((m) => m.optimizer === o && m.kind === kind && m.seed === seed && m.step === step).map((m) => m.eRank));
    const outRow = eRankRows.find((x) => x.series === 'AdamW' && x.panel === 'W_out' && x.step === 10)!;
    expect(outRow.value as number).toBeCloseTo(mean([1, 2, 3, 4].map((seed) => layersMean('adamw', 'out', seed, 10))), 9);
    for (const m of ms) {
      expect(m.eRank).toBeGreaterThanOrEqual(1);
      expect(m.eRank).toBeLessThanOrEqual(d);
    }
    // At step 0 both cells hold the same initial weights (same seeds): equal spectra.
    const at0 = (o: string) => ms.filter((m) => m.optimizer === o && m.step === 0).map((m) => m.eRank);
    expect(at0('muon')).toEqual(at0('adamw'));
    // The W_out eRank record: the paired (Muon − AdamW) difference of the layers' mean at each step > 0,
    // recorded at the step whose interval reaches lowest; its mean is one of the per-step means.
    const layerMean = (o: string, step: number, seed: number) =>
      mean(ms.filter((m) => m.optimizer === o && m.step === step && m.seed === seed && m.kind === 'out').map((m) => m.eRank));
    const perStep = [5, 10, 15].map((st) => mean([1, 2, 3, 4].map((sd) => layerMean('muon', st, sd) - layerMean('adamw', st, sd))));
    const got = record(report, /W_out: Muon's eRank higher/).measured;
    expect(
      perStep.some((v) => Math.abs(v - got) < 1e-9),
      `${got} among ${perStep.join(', ')}`,
    ).toBe(true);
    console.log(
      `[b-transformer-isotropy ci] ${((performance.now() - t0) / 1000).toFixed(1)} s; W_out eRank Muon − AdamW per step ${perStep.map((v) => v.toFixed(3)).join(', ')}`,
    );
  }, 600_000);

  it('a-data-scaling', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const t0 = performance.now();
    const report = await aDataScaling.run(gpu, 'ci', () => {});
    const ms = report.measurements as DataScalingMeasurement[];
    expect(ms).toHaveLength(2 * 2 * 2 * 2);
    expect(report.plots.map((p) => p.name)).toEqual(['envelope']);
    // Every (optimizer, budget, η) cell's seed mean, and the envelope per optimizer and budget.
    const grid = figureRows(report, 'envelope', 'grid');
    expect(grid).toHaveLength(2 * 2 * 2);
    for (const g of grid) {
      const cell = ms.filter(
        (m) => (m.optimizer === 'muon' ? 'Muon' : 'AdamW') === g.optimizer && m.tokens === g.tokens && m.lrFactor === g.lrFactor,
      );
      expect(cell).toHaveLength(2);
      expect(g.loss as number).toBeCloseTo(mean(cell.map((m) => m.validationLoss)), 9);
    }
    expect(figureRows(report, 'envelope', 'envelope')).toHaveLength(2 * 2);
    for (const m of ms) expect(m.tokens).toBe(2 ** m.budgetLog2);
    const best = (o: string, k: number) => {
      const here = ms.filter((m) => m.optimizer === o && m.budgetLog2 === k);
      const byLr = [...new Set(here.map((m) => m.lrFactor))].map((f) =>
        here
          .filter((m) => m.lrFactor === f)
          .sort((a, b) => a.seed - b.seed)
          .map((m) => m.validationLoss),
      );
      return byLr.reduce((a, b) => (mean(b) < mean(a) ? b : a));
    };
    const diffs = [11, 12].map((k) => mean(best('muon', k).map((v, i) => v - best('adamw', k)[i])));
    const got = record(report, /envelope below/).measured;
    expect(
      diffs.some((v) => Math.abs(v - got) < 1e-9),
      `${got} among ${diffs.join(', ')}`,
    ).toBe(true);
    // Two budgets: the exponent is the slope of log L* between them.
    const slope = (o: string) => (Math.log(mean(best(o, 12))) - Math.log(mean(best(o, 11)))) / Math.log(2);
    expect(record(report, /exponent/).measured).toBeCloseTo(slope('muon') - slope('adamw'), 9);
    console.log(
      `[a-data-scaling ci] ${((performance.now() - t0) / 1000).toFixed(1)} s; four presets so far ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }, 600_000);
});

describe('the sources on the GPU and in the Float64 twin', () => {
  const tiny = (data: TransformerConfigInput['data']): TransformerConfigInput => ({
    schema: 'muonlab.transformer/1',
    name: 'twin',
    model: { layers: 2, dModel: 8, heads: 2, vocab: 40, maxSeqLen: 16 },
    data,
    optimizers: [
      { patterns: ['layer.*'], optimizer: { name: 'muon', lr: 0.02, nesterov: true }, muonScale: 'shape' },
      { patterns: ['*'], optimizer: { name: 'adamw', lr: 0.01 } },
    ],
    training: { steps: 2, batchSize: 2, seqLen: 16, seeds: [3, 4] },
    metrics: { every: 1 },
  });
  const sources: [string, TransformerConfigInput['data']][] = [
    [
      'knowledge corpus',
      {
        kind: 'knowledge',
        individuals: 12,
        attributes: [
          { name: 'birth_city', values: 4 },
          { name: 'employer', values: 3 },
        ],
        templates: ['{first} {last} was born in {birth_city} .', '{first} {last} works for {employer} .'],
        alpha: 1,
        seed: 9,
      },
    ],
    ['in-context regression', { kind: 'regression', tasks: 6, inputDim: 2, bins: 5, alpha: 1, seed: 9 }],
  ];
  for (const [what, data] of sources) {
    it(`${what}: same batches, same initial weights, same first-step loss`, async (ctx) => {
      const gpu = await gpuOrSkip(ctx);
      if (!gpu) return;
      const config = tiny(data);
      const trainer = await TransformerTrainer.create(gpu, config);
      try {
        const cpu = new CpuTransformerTrainer(config);
        for (let r = 0; r < 2; r++) {
          const a = trainer.source.batch(0, r, 2, 16);
          const b = cpu.source.batch(0, r, 2, 16);
          expect(a.inputs).toEqual(b.inputs);
          expect(a.targets).toEqual(b.targets);
          expect(a.weights).toEqual(b.weights);
          expect(a.readIn).toEqual(b.readIn);
        }
        const gpuInit = await trainer.model.readParams();
        gpuInit.forEach((p, r) => {
          const want = initParamsCpu(trainer.model.shape.dims, config.training.seeds![r]);
          for (const name of Object.keys(want)) expect(p[name], `${name} replica ${r}`).toEqual(want[name]);
        });
        const records = await withErrorScopes(gpu, () => trainer.runStep(true));
        cpu.step();
        for (const rec of records!) {
          console.log(
            `[twin ${what}] replica ${rec.replica}: first-step loss GPU ${rec.loss.toFixed(6)} CPU ${cpu.lastLoss[rec.replica].toFixed(6)}`,
          );
          expect(Math.abs(rec.loss - cpu.lastLoss[rec.replica])).toBeLessThanOrEqual(1e-4 * Math.max(1, cpu.lastLoss[rec.replica]));
        }
      } finally {
        trainer.destroy();
      }
    }, 120_000);
  }
});
