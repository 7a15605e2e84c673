/**
 * Every figure of src/plots/figures/, built from small hand-made measurement records (no GPU):
 * its spec validates against the Vega-Lite JSON schema shipped with vega-lite, compiles without a
 * warning, renders to SVG in Node with Vega's headless view, and the SVG holds the expected marks per
 * series — counted in the SVG by each mark's aria-label (the series name), expected counts worked
 * out here from the input records (points with a drawable value, one line per curve). Also: the
 * visual language (one colour per optimizer across figures), axes fitted to the data (no decade of
 * empty axis from "nice" rounding; the Δ-vs-loss window), and legends that are never truncated.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseExperimentConfig } from '../src/experiments/config';
import {
  capacityVsBatchFigure,
  criticalBatchFigure,
  minibatchCapacityFigure,
  sampleLimitFigure,
  type BatchRecord,
  type CriticalBatch,
  type MinibatchRecord,
} from '../src/plots/figures/batch';
import {
  deltaVsLossFigure,
  deltaVsStepFigure,
  minVsMaxFigure,
  rhoBarsFigure,
  type BalanceRun,
  type DeltaLossCurve,
} from '../src/plots/figures/balance';
import {
  capacityVsDFigure,
  multistepCapacityFigure,
  multistepStepFigure,
  type CapacityRecord,
  type MultistepRecord,
} from '../src/plots/figures/capacity';
import { excessVsTFigure, groupLossFigure, type GroupCurve } from '../src/plots/figures/dynamics';
import { finalRankVsEtaFigure, updateIsotropyFigure, type IsotropyTraceRecord } from '../src/plots/figures/isotropy';
import { trainingFigures, type TrainingCell } from '../src/plots/figures/training';
import { transformerFigure, type TransformerPoint } from '../src/plots/figures/transformer';
import type { Figure } from '../src/plots/spec';
import { logTicks } from '../src/plots/spec';
import { OPTIMIZER_STYLE } from '../src/plots/style';
import { checkFigure, compileVegaLiteSchema } from './figureCheck';
import { metricsRecord } from './metricsRecord';
import { legendLabels, svgMarks } from './svgMarks';

beforeAll(compileVegaLiteSchema, 120_000);

const geometric = (from: number, to: number, n: number) => Array.from({ length: n }, (_, k) => from * (to / from) ** (k / (n - 1)));

describe('b-balance figures', { timeout: 60_000 }, () => {
  // Losses from ln N ≈ 5.7 down to 1e-28 (what 10·η_0.01 reaches): the window keeps 8 decades.
  const optimizers = ['GD', 'SignGD', 'Muon exact', 'Muon ns5', 'Adam (β=0, ε=1e-12)'];
  const curves: DeltaLossCurve[] = ['identity', 'coupled-rotation'].flatMap((embedding) =>
    optimizers.map((optimizer, o) => {
      const losses = geometric(5.7, 1e-28, 16);
      return {
        optimizer,
        embedding,
        etas: geometric(0.01, 1000, 16),
        points: losses.map((l, k) => [l, Math.min(1, (o + 1) * 0.1 * Math.sin((k / 15) * Math.PI))] as [number, number]),
      };
    }),
  );

  it('Δ vs loss: one panel per embedding, a line and a marker per drawn point per series; losses below the 8-decade window left out', async () => {
    const { svg, counts } = await checkFigure(deltaVsLossFigure(curves, { N: 300 }));
    for (const c of curves) {
      const kept = c.points.filter(([loss]) => loss >= 5.7e-8).length;
      const series = `${c.optimizer.startsWith('Adam') ? 'Adam (β₁=β₂=0)' : c.optimizer} · ${c.embedding}`;
      expect(counts[series], series).toEqual({ point: kept, 'line mark': 1 });
    }
    expect(svg).toContain(
      `${curves.length * 16 - curves.length * curves[0].points.filter(([l]) => l >= 5.7e-8).length} point(s) with loss below`,
    );
  });

  it('ϱ_τ bars: a bar per optimizer × embedding × τ and both predictions as rules in every panel', async () => {
    const bars = ['identity', 'coupled-rotation'].flatMap((embedding) =>
      [0.1, 0.01].flatMap((tau) => optimizers.map((optimizer, k) => ({ optimizer, embedding, tau, rho: 0.1 + 0.15 * k, etaTau: 1 + k }))),
    );
    const { counts } = await checkFigure(rhoBarsFigure(bars, { N: 300, gdClosedForm: () => 0.005 }));
    for (const b of bars)
      expect(counts[`${b.optimizer.startsWith('Adam') ? 'Adam (β₁=β₂=0)' : b.optimizer} · ${b.embedding} · τ = ${b.tau}`]).toEqual({
        bar: 1,
      });
    expect(counts['Muon ≥ 1 − τ(1 + 2 ln N/N)']).toEqual({ 'rule mark': 4 });
  });

  const runs: BalanceRun[] = ['identity', 'coupled-rotation'].flatMap((embedding) =>
    ['GD', 'SignGD', 'Muon exact', 'Adam'].map((optimizer, o) => ({
      optimizer,
      embedding,
      steps: [0, 1, 2, 3, 4],
      delta: [0, 0.2, 0.4 * o, 0.1, 0],
      maxPCorrect: [0.01, 0.3, 0.6, 0.9, 0.99],
      minPCorrect: [0.01, 0.1, 0.2, 0.5, 0.9],
    })),
  );

  it('Δ along training and min vs max p̂: a line and 5 points per run; the diagonal as reference', async () => {
    const delta = await checkFigure(deltaVsStepFigure(runs, { N: 150, headCount: 30 }));
    const minMax = await checkFigure(minVsMaxFigure(runs, { N: 150 }));
    for (const r of runs) {
      expect(delta.counts[`${r.optimizer} · ${r.embedding}`]).toEqual({ point: 5, 'line mark': 1 });
      expect(minMax.counts[`${r.optimizer} · ${r.embedding}`]).toEqual({ point: 5, 'line mark': 1 });
    }
    expect(minMax.counts['balanced: min = max']['line mark']).toBe(2);
  });
});

describe('c-capacity figures', { timeout: 60_000 }, () => {
  // Muon ≈ d^1.4, GD ≈ d^0.4, the f32 variant a little below Muon; a ∈ {1.25, 1.5, 2}, 2 seeds.
  const records: CapacityRecord[] = [1.25, 1.5, 2].flatMap((a) =>
    [64, 128, 256].flatMap((d) =>
      [1, 2].flatMap((seed) => [
        { a, d, seed, optimizer: 'GD', capacity: Math.round(d ** 0.4) + seed },
        { a, d, seed, optimizer: 'Muon', capacity: Math.round(0.2 * d ** 1.4) + seed },
        { a, d, seed, optimizer: 'Muon (GPU f32 Polar Express)', capacity: Math.round(0.15 * d ** 1.4) },
      ]),
    ),
  );

  it('capacity vs d: per a and optimizer 3 markers, 3 min–max bars, a fit, and a prediction for GD and Muon only', async () => {
    const { svg, counts } = await checkFigure(capacityVsDFigure(records, { N: 4096 }));
    for (const a of [1.25, 1.5, 2]) {
      for (const [o, name, predicted] of [
        ['GD', 'GD', true],
        ['Muon', 'Muon exact', true],
        ['Muon (GPU f32 Polar Express)', 'Muon f32 PE', false],
      ] as const) {
        const ds = new Set(records.filter((r) => r.a === a && r.optimizer === o).map((r) => r.d));
        expect(counts[`${name} · a = ${a}`], `${name} a=${a}`).toEqual({ point: ds.size, 'rule mark': ds.size });
        expect(counts[`${name} · a = ${a} fit`]).toEqual({ 'line mark': 1 });
        expect(counts[`${name} · a = ${a} predicted`]).toEqual(predicted ? { 'line mark': 1 } : undefined);
      }
    }
    // The x axis is fitted to d = 64 … 256 (the old plot's ran 10–1000): Vega's own description of
    // each x axis gives its domain.
    const domains = [...svg.matchAll(/aria-label="X-axis titled [^"]* with values from ([\d.e+-]+) to ([\d.e+-]+)"/g)].map((m) => [
      Number(m[1]),
      Number(m[2]),
    ]);
    expect(domains.length).toBe(3);
    for (const [lo, hi] of domains) {
      expect(lo).toBeGreaterThan(64 / 1.5);
      expect(lo).toBeLessThanOrEqual(64);
      expect(hi).toBeGreaterThanOrEqual(256);
      expect(hi).toBeLessThan(256 * 1.5);
    }
  });

  it('multistep: per t a panel with the exact and f32 series fitted, and the long runs along steps with a line per d', async () => {
    const ms: MultistepRecord[] = [32, 64, 128].flatMap((d) => [
      ...[0, 1, 2, 3, 4].map((step) => ({
        a: 1.5,
        d,
        seed: 1,
        series: 'exact',
        step,
        capacity: step === 0 ? 0 : Math.round(d ** (1 + 0.2 * step)),
        long: d === 32,
      })),
      ...(d === 32
        ? [5, 6, 8, 12].map((step) => ({
            a: 1.5,
            d,
            seed: 1,
            series: 'exact',
            step,
            capacity: Math.round(d ** 2 * (1 - 1 / step)),
            long: true,
          }))
        : []),
      ...[0, 1, 2, 3, 4].map((step) => ({
        a: 1.5,
        d,
        seed: 1,
        series: 'gpu f32',
        step,
        capacity: step === 0 ? 0 : Math.round(0.9 * d ** (1 + 0.2 * step)),
        long: false,
      })),
    ]);
    const perT = await checkFigure(multistepCapacityFigure(ms, { N: 2048, exact: 'exact', steps: 4 }));
    for (let t = 1; t <= 4; t++) {
      expect(perT.counts[`Muon exact · a = 1.5 · t = ${t}`]).toEqual({ point: 3 });
      expect(perT.counts[`Muon f32 PE · a = 1.5 · t = ${t}`]).toEqual({ point: 3 });
      expect(perT.counts[`Muon exact · a = 1.5 · t = ${t} predicted`]).toEqual({ 'line mark': 1 });
    }
    const steps = await checkFigure(multistepStepFigure(ms, { N: 2048, exact: 'exact' }));
    expect(steps.counts['Muon exact · a = 1.5 · d = 32']).toEqual({ point: 8, 'line mark': 1, 'text mark': 1 });
    expect(steps.counts['Muon exact · a = 1.5 · d = 128']).toEqual({ point: 4, 'line mark': 1, 'text mark': 1 });
    expect(steps.counts['Muon f32 PE · a = 1.5 · d = 64']).toEqual({ point: 4, 'line mark': 1 });
  });

  it("multistep: c-multistep's three Muon series (GPU exact, Float64 SVD, scheduler) get three shades of Muon's colour", async () => {
    const series = ['exact', 'f64', 'scheduler', 'gd'];
    const labels = { exact: 'Muon exact', f64: 'Muon Float64 SVD', scheduler: 'Muon scheduler', gd: 'GD' };
    const ms: MultistepRecord[] = series.flatMap((s, k) =>
      [32, 64, 128].flatMap((d) =>
        [1, 2].map((step) => ({ a: 1.5, d, seed: 1, series: s, step, capacity: (k + 1) * d * step, long: false })),
      ),
    );
    const colorsOf = (figure: Figure) => {
      const found = JSON.stringify(figure.spec).match(/"color":\{"field":"optimizer","type":"nominal","scale":(\{"domain":[^}]*\})/);
      expect(found, figure.name).not.toBeNull();
      const scale = JSON.parse(found![1]) as { domain: string[]; range: string[] };
      return Object.fromEntries(scale.domain.map((label, i) => [label, scale.range[i]]));
    };
    for (const figure of [
      multistepCapacityFigure(ms, { N: 2048, exact: 'exact', steps: 2, labels }),
      multistepStepFigure(ms, { N: 2048, exact: 'exact', labels }),
    ]) {
      const colors = colorsOf(figure);
      expect(colors['Muon exact']).toBe(OPTIMIZER_STYLE['muon-exact'].color);
      expect(colors.GD).toBe(OPTIMIZER_STYLE.gd.color);
      expect(new Set([colors['Muon exact'], colors['Muon Float64 SVD'], colors['Muon scheduler']]).size).toBe(3);
      await checkFigure(figure);
    }
  });
});

describe('batch and minibatch figures', { timeout: 60_000 }, () => {
  const batches = [2, 8, 32, 128];
  const records: BatchRecord[] = [32, 64].flatMap((d) =>
    ['SGD', 'Muon'].flatMap((optimizer) =>
      [...batches, null].map((B) => ({
        d,
        seed: 1,
        optimizer,
        batchSize: B,
        distinct: B ?? 500,
        capacity: optimizer === 'SGD' ? 3 : Math.min(B ?? 1e9, d * 3),
      })),
    ),
  );
  const critical: CriticalBatch[] = [32, 64].flatMap((d) => [
    { d, optimizer: 'SGD', plateau: 3, criticalBatch: 2.5 },
    { d, optimizer: 'Muon', plateau: d * 3, criticalBatch: d * 2.5 },
  ]);

  it('capacity vs batch: a line and a marker per B per (optimizer, d), the drawn items, the ceiling and B* per optimizer', async () => {
    const { counts } = await checkFigure(capacityVsBatchFigure(records, critical, { N: 2048, a: 1.5, fraction: 0.9 }));
    for (const d of [32, 64]) {
      expect(counts[`Muon · d = ${d}`]).toEqual({ point: batches.length, 'line mark': 1 });
      expect(counts[`SGD · d = ${d}`]).toEqual({ point: batches.length, 'line mark': 1 });
      expect(counts[`distinct items drawn · d = ${d}`]).toEqual({ 'line mark': 1 });
      expect(counts[`Muon B* · d = ${d}`]).toEqual({ 'rule mark': 1 });
    }
    expect(counts['Muon population step']['line mark']).toBe(2);
  });

  it('critical batch vs d: a marker per d, a fit and a prediction per optimizer', async () => {
    const { counts } = await checkFigure(criticalBatchFigure(critical, { a: 1.5 }));
    expect(counts.Muon).toEqual({ point: 2 });
    expect(counts['Muon fit']).toEqual({ 'line mark': 1 });
    expect(counts['SGD predicted']).toEqual({ 'line mark': 1 });
  });

  it('minibatch capacity along steps and the sample limit', async () => {
    const mb: MinibatchRecord[] = [
      ...[0, 1, 2, 3, 4].flatMap((step) => [
        { series: 'GD (rising η)', batchSize: null, seed: 1, step, capacity: step },
        { series: 'Muon', batchSize: null, seed: 1, step, capacity: 10 * step },
      ]),
      ...[4, 16].flatMap((B) =>
        [0, 1, 2, 4].map((step) => ({
          series: `Muon B=${B}`,
          batchSize: B,
          seed: 1,
          step,
          capacity: Math.round((B * step) ** 0.6),
          distinctSeen: Math.round((B * step) ** 0.66),
          samplesSeen: B * step,
        })),
      ),
    ];
    const cap = await checkFigure(minibatchCapacityFigure(mb, { N: 2048, d: 64, a: 1.5 }));
    // Step 0 is not drawn (capacity 0 at W₀ = 0); GD's step-1 capacity is 1.
    expect(cap.counts['GD (rising η) · population']).toEqual({ point: 4, 'line mark': 1 });
    expect(cap.counts['Muon · B = 16']).toEqual({ point: 3, 'line mark': 1 });
    const limit = await checkFigure(sampleLimitFigure(mb, { a: 1.5 }));
    expect(limit.counts['Muon · B = 4']).toEqual({ point: 3 });
    expect(limit.counts['distinct seen · B = 16']).toEqual({ 'line mark': 1 });
    expect(limit.counts['(B·t)^(1/a)']['line mark']).toBe(1);
  });
});

describe('[A] dynamics and [B] isotropy figures', { timeout: 60_000 }, () => {
  const curve = (label: string, steps: number[], rate: (t: number) => number): GroupCurve => ({
    label,
    steps,
    loss: steps.map(rate),
    groupLoss: steps.map((t) => [1, 2, 3, 4].map((g) => rate(t) * g)),
  });

  it('group loss curves: one line per group plus the population per panel, and the law dashed', async () => {
    const muon = curve('Muon', [0, 1, 2, 3, 4, 5], (t) => 256 * Math.exp(-t));
    const tra = curve('TRA-SignGD', [0, 1, 2, 3, 4, 5], (t) => 256 * Math.exp(-t));
    const { counts } = await checkFigure(
      groupLossFigure([muon, tra], {
        name: 'muon-groups',
        title: 't',
        caption: 'Every group falls at one rate, N·e^(−ηt).',
        xLog: false,
        law: () => ({ formula: 'N·e^(−ηt)', at: (t) => 256 * Math.exp(-t) }),
      }),
    );
    for (const c of ['Muon', 'TRA-SignGD']) {
      expect(counts[`${c} · population`]).toEqual({ 'line mark': 1 });
      for (const g of ['group 1 (head)', 'group 2', 'group 3', 'group 4 (tail)']) expect(counts[`${c} · ${g}`]).toEqual({ 'line mark': 1 });
    }
    expect(counts['N·e^(−ηt)']).toEqual({ 'line mark': 2, 'text mark': 2 });
  });

  it('excess vs T: a marker per horizon, fitted and predicted slopes', async () => {
    const muon = [16, 23, 32, 45, 64].map((T) => ({ T, optimizer: 'Muon', lr: 8 / T, excess: 3 / T ** 2 }));
    const gd = [16, 23, 32, 45, 64].map((T) => ({ T, optimizer: 'GD', lr: 1, excess: 1 / T }));
    const { counts } = await checkFigure(excessVsTFigure(muon, gd, { N: 64, groups: 4, b: 2, noise: 0.1, checkGd: false }));
    expect(counts.Muon).toEqual({ point: 5 });
    expect(counts['best GD']).toEqual({ point: 5 });
    expect(counts['Muon predicted']).toEqual({ 'line mark': 1 });
    expect(counts['best GD predicted']).toBeUndefined();
  });

  it('isotropy along training and against η', async () => {
    const traces: IsotropyTraceRecord[] = ['identity', 'coupled-rotation'].flatMap((embedding) =>
      ['GD', 'Muon exact'].flatMap((optimizer) =>
        [0.5, 1, 2].map((lrFactor) => ({
          optimizer,
          embedding,
          lrFactor,
          lr: lrFactor,
          steps: [0, 2, 4, 6],
          w: [0, 2, 4, 6].map((t) => ({ eRank: 1 + t * (optimizer === 'GD' ? 2 : 20), hNorm: 0.5 })),
          update: [0, 2, 4, 6].map((t) => (t === 6 ? null : { eRank: 100, hNorm: optimizer === 'GD' ? 0.6 : 1 })),
        })),
      ),
    );
    const steps = await checkFigure(updateIsotropyFigure(traces, { N: 150 }));
    expect(steps.counts['Muon exact · identity']).toEqual({ point: 3, 'line mark': 1 });
    const eta = await checkFigure(finalRankVsEtaFigure(traces, { N: 150, steps: 6 }));
    expect(eta.counts['GD · coupled-rotation']).toEqual({ point: 3, 'line mark': 1 });
  });
});

describe('log-axis ticks', () => {
  it('sweep values as given; decades over a wide range; 1–2–5 or finer steps over a narrow one, never raw data ends when a round tick fits', () => {
    expect(logTicks([64, 128, 256])).toEqual([64, 128, 256]);
    expect(logTicks([3e-9, 1e-8, 2e-8, 5e-8, 1e-7, 1e-5, 1e-3, 0.1, 0.7])).toEqual([1e-8, 1e-6, 1e-4, 1e-2]);
    expect(logTicks([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 30])).toEqual([1, 2, 5, 10, 20]);
    // a-data-scaling's validation losses (nine distinct values between 0.86 and 1.76)
    expect(logTicks([0.86, 0.99, 1.12, 1.23, 1.29, 1.33, 1.6, 1.7, 1.76])).toEqual([1, 1.2, 1.5]);
    expect(logTicks([0.811, 0.812, 0.815, 0.82, 0.825, 0.83, 0.835, 0.84, 0.8456])).toEqual([0.811, 0.846]);
  });
});

describe('config-run figures and the visual language', { timeout: 60_000 }, () => {
  const optimizers = [
    { name: 'gd', lr: 1 },
    { name: 'muon', lr: 1, orth: 'exact', momentum: 0 },
  ];
  const cell = (d: number): TrainingCell => {
    const config = parseExperimentConfig({
      name: 'x',
      task: { N: 64, dIn: d, dOut: d, embedding: 'gaussian', frequency: { kind: 'power', powerExponent: 2 } },
      optimizers,
      training: { steps: 2, runSeeds: [0, 1] },
    });
    const records = [0, 1, 2].flatMap((step) =>
      [0, 1].flatMap((seed) =>
        optimizers.map((o, k) =>
          metricsRecord({
            run: 2 * k + seed,
            optimizer: o.name,
            optimizerName: o.name as 'gd',
            runSeed: seed,
            step,
            loss: 4 / (step + 1) + seed,
            capacity: (k + 1) * 0.5 * d ** 1.25,
            delta: 0.1 * step,
            isotropy: {
              w: { n: 3, hNorm: 0.9, eRank: 2.5, topE: [0.5, 0.8, 1], q75over25: 2 },
              update: step < 2 ? { n: 3, hNorm: 1, eRank: 3, topE: [0.34, 0.67, 1], q75over25: 1 } : null,
            },
          }),
        ),
      ),
    );
    return { id: `d=${d}`, point: { 'task.dIn': d }, config, records };
  };

  it('six figures: loss per cell with a seed band, buckets, Δ per record, capacity with slopes, spectra', async () => {
    const cells = [16, 64, 256].map(cell);
    const figures = trainingFigures(cells);
    expect(figures.map((f) => f.name)).toEqual(['loss', 'bucket-pcorrect', 'bucket-accuracy', 'delta-loss', 'capacity-d', 'spectra']);
    const [loss, pc, , delta, cap, spectra] = await Promise.all(figures.map(checkFigure));
    for (const c of cells)
      for (const o of ['gd', 'muon']) expect(loss.counts[`${o} · ${cellLabelOf(c)}`]).toEqual({ point: 3, 'line mark': 1, 'area mark': 1 });
    for (const o of ['gd', 'muon']) {
      expect(pc.counts[`${o} · head`]).toEqual({ point: 3, 'line mark': 1 });
      expect(pc.counts[`${o} · tail`]).toEqual({ point: 3, 'line mark': 1 });
      expect(delta.counts[o]).toEqual({ point: cells.length * 3 * 2 });
      expect(cap.counts[o]).toEqual({ point: 3 });
      expect(cap.counts[`${o} fit`]).toEqual({ 'line mark': 1 });
      expect(cap.counts[`${o} predicted`]).toEqual({ 'line mark': 1 });
      expect(spectra.counts[`${o} W`]).toEqual({ point: 3, 'line mark': 1 });
      expect(spectra.counts[`${o} update`]).toEqual({ point: 3, 'line mark': 1 });
    }
    // One colour per optimizer: GD's and Muon exact's everywhere.
    const gdColour = OPTIMIZER_STYLE.gd.color.toLowerCase();
    const muonColour = OPTIMIZER_STYLE['muon-exact'].color.toLowerCase();
    const fillOf = (svg: string, label: string) =>
      new Set(
        svgMarks(svg)
          .filter((m) => m.label === label && m.role === 'point')
          .map((m) => (m.fill ?? m.stroke ?? '').toLowerCase()),
      );
    expect(fillOf(delta.svg, 'gd')).toEqual(new Set([gdColour]));
    expect(fillOf(delta.svg, 'muon')).toEqual(new Set([muonColour]));
    const capFig = await checkFigure(
      capacityVsDFigure(
        [64, 128].flatMap((d) => [
          { a: 2, d, seed: 1, optimizer: 'GD', capacity: d },
          { a: 2, d, seed: 1, optimizer: 'Muon', capacity: 2 * d },
        ]),
        { N: 4096 },
      ),
    );
    const strokes = (label: string) =>
      new Set(
        svgMarks(capFig.svg)
          .filter((m) => m.label === label && m.role === 'point')
          .map((m) => m.stroke?.toLowerCase()),
      );
    expect(strokes('GD · a = 2')).toEqual(new Set([gdColour]));
    expect(strokes('Muon exact · a = 2')).toEqual(new Set([muonColour]));
  });

  it('a figure with 12 optimizers puts its legend under the plot and keeps every label whole', async () => {
    const labels = Array.from({ length: 12 }, (_, k) => `muon run with a long label number ${k + 1}`);
    const config = parseExperimentConfig({
      name: 'many',
      task: { N: 64, dIn: 16, dOut: 16, embedding: 'gaussian' },
      optimizers: labels.map((label, k) => ({ name: 'muon', label, lr: 1 + k })),
      training: { steps: 1 },
    });
    const records = [0, 1].flatMap((step) =>
      labels.map((label, k) => metricsRecord({ run: k, optimizer: label, optimizerName: 'muon', step, loss: 4 - step - k / 20 })),
    );
    const [loss] = trainingFigures([{ id: 'one', point: {}, config, records }]);
    const { svg, counts } = await checkFigure(loss);
    expect(legendLabels(svg).sort()).toEqual([...labels].sort());
    for (const l of labels) expect(counts[l]).toEqual({ point: 2, 'line mark': 1 });
  });
});

describe('transformer figures', { timeout: 60_000 }, () => {
  // Two replicas with records at steps 0, 4, 8; replica 1 has a NaN loss at step 4 (not drawn).
  const points: TransformerPoint[] = [0, 1].flatMap((replica) =>
    [0, 4, 8].map((step) => ({
      replica,
      seed: 10 + replica,
      step,
      loss: replica === 1 && step === 4 ? NaN : 2.4 - 0.1 * step - 0.05 * replica,
      accuracy: 0.1 + 0.05 * step + 0.01 * replica,
    })),
  );

  it('loss and accuracy: a line per replica named by its seed, a marker per finite record, in the neutral colour', async () => {
    const loss = await checkFigure(transformerFigure(points, 'loss'));
    expect(loss.counts['seed 10']).toEqual({ point: 3, 'line mark': 1 });
    expect(loss.counts['seed 11']).toEqual({ point: 2, 'line mark': 1 });
    expect(legendLabels(loss.svg).sort()).toEqual(['seed 10', 'seed 11']);
    const accuracy = await checkFigure(transformerFigure(points, 'accuracy'));
    expect(accuracy.counts['seed 10']).toEqual({ point: 3, 'line mark': 1 });
    expect(accuracy.counts['seed 11']).toEqual({ point: 3, 'line mark': 1 });
    // A mixed-optimizer model has no optimizer colour: every mark is the neutral grey.
    const strokes = new Set(
      svgMarks(accuracy.svg)
        .filter((m) => m.label?.startsWith('seed'))
        .map((m) => m.stroke?.toLowerCase()),
    );
    expect(strokes).toEqual(new Set(['#555555']));
  });

  it('no records yet: the figure says it waits for data and draws no series', async () => {
    const { svg, counts } = await checkFigure(transformerFigure([], 'loss'));
    expect(svg).toContain('waiting for data');
    expect(Object.keys(counts).filter((k) => k.startsWith('seed'))).toEqual([]);
  });
});

function cellLabelOf(c: TrainingCell): string {
  return Object.entries(c.point)
    .map(([p, v]) => `${p.split('.').pop()}=${String(v)}`)
    .join(',');
}
