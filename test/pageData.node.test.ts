/**
 * The page's pure parts, without a browser: share links, config validation messages, the tidy CSV,
 * and the live figures' data (medians and seed bands, fitted and predicted capacity slopes, head and
 * tail buckets, energy shares, what a log axis cannot place).
 * Expected values are written from the definitions (CSV quoting of RFC 4180, a power law with a known
 * exponent, [C]'s slopes 1 + 1/(2a) and 1/(2a)), not read from the code under test.
 */
import { describe, expect, it } from 'vitest';
import { parseExperimentConfig } from '../src/experiments/config';
import type { TrainMetricsRecord } from '../src/train/records';
import { checkConfigText } from '../src/ui/configValidation';
import { EXAMPLE_CONFIG } from '../src/ui/exampleConfig';
import { energyShares, trainingFigures } from '../src/plots/figures/training';
import { renderFigureSvg } from '../src/plots/render';
import { createRunState, type CellState, type RunState } from '../src/ui/runState';
import { decodeShareHash, encodeShareHash } from '../src/ui/shareLink';
import { recordMetrics, tidyRows, toCsv } from '../src/ui/tidyExport';
import { metricsRecord } from './metricsRecord';

function cellOf(id: string, d: number, records: TrainMetricsRecord[], a = 1.5): CellState {
  const config = parseExperimentConfig({
    name: 'x',
    task: { N: 64, dIn: d, dOut: d, embedding: 'gaussian', frequency: { kind: 'power', powerExponent: a } },
    optimizers: [{ name: 'gd', lr: 1 }],
    training: { steps: 2 },
  });
  return { id, point: { 'task.dIn': d }, config, records, stopped: 'steps' };
}

function stateOf(cells: CellState[]): RunState {
  return { ...createRunState(), source: { kind: 'config', config: EXAMPLE_CONFIG }, status: 'done', cells };
}

/** The rows a figure of these cells draws (its spec's inlined dataset), and its subtitle. */
function figureOf(cells: CellState[], name: string): { rows: Record<string, unknown>[]; subtitle: unknown } {
  const figure = trainingFigures(cells).find((f) => f.name === name)!;
  const spec = figure.spec as unknown as { datasets: { main: Record<string, unknown>[] }; title: { subtitle?: unknown } };
  return { rows: spec.datasets.main, subtitle: spec.title.subtitle };
}

describe('share links', () => {
  it('round-trips a config (unicode included) and a preset', () => {
    const config = { ...EXAMPLE_CONFIG, description: 'Δ vs loss — ϱ_τ' };
    const link = decodeShareHash(encodeShareHash({ kind: 'config', config }, true));
    expect(link.autorun).toBe(true);
    expect(link.source?.kind === 'config' && JSON.parse(link.source.text)).toEqual(config);
    expect(decodeShareHash(encodeShareHash({ kind: 'preset', preset: 'b-balance-onestep', scale: 'quick' }))).toEqual({
      source: { kind: 'preset', preset: 'b-balance-onestep', scale: 'quick' },
      autorun: false,
    });
    expect(decodeShareHash('')).toEqual({ source: null, autorun: false });
  });

  it('says what is wrong with a bad link', () => {
    expect(decodeShareHash('#preset=b-balance-onestep&scale=huge').error).toBe(
      'link: scale = "huge" is not a scale (allowed: ci, quick, full)',
    );
    const cut = encodeShareHash({ kind: 'config', config: EXAMPLE_CONFIG }).slice(0, 40);
    expect(decodeShareHash(cut).error).toMatch(/^link: the config in the URL cannot be read .*cut short/);
  });
});

describe('config validation messages', () => {
  it('accepts the example config and expands its zipped d sweep into 2 cells', () => {
    const check = checkConfigText(JSON.stringify(EXAMPLE_CONFIG));
    expect(check.ok && check.cells.map((c) => c.id)).toEqual(['task.dIn=16,task.dOut=16', 'task.dIn=32,task.dOut=32']);
  });

  it('gives the line and column of a JSON syntax error', () => {
    const check = checkConfigText('{\n  "name": "x",\n  oops\n}');
    expect(check.ok).toBe(false);
    if (!check.ok) {
      expect(check.issues).toHaveLength(1);
      expect(check.issues[0].path).toBe('(json)');
      expect(check.issues[0].message).toMatch(/line 3, column 3/);
    }
  });

  it('lists every schema problem by path, with the allowed values of enums', () => {
    const bad = {
      ...EXAMPLE_CONFIG,
      task: { ...EXAMPLE_CONFIG.task, embedding: 'sparse' },
      training: { ...EXAMPLE_CONFIG.training, steps: -1 },
    };
    const check = checkConfigText(JSON.stringify(bad));
    expect(check.ok).toBe(false);
    if (check.ok) return;
    const byPath = new Map(check.issues.map((i) => [i.path, i.message]));
    expect([...byPath.keys()].sort()).toEqual(['task.embedding', 'training.steps']);
    expect(byPath.get('task.embedding')).toMatch(/\(allowed: identity, orthonormal, gaussian, coupled-rotation\)$/);
  });

  it('reports sweep axes of unequal length in one zip group', () => {
    const bad = {
      ...EXAMPLE_CONFIG,
      sweep: [
        { path: 'task.dIn', values: [16, 32], zip: 'd' },
        { path: 'task.dOut', values: [16], zip: 'd' },
      ],
    };
    const check = checkConfigText(JSON.stringify(bad));
    expect(!check.ok && check.issues).toEqual([{ path: 'sweep', message: 'zip group "d": axes have different lengths (2, 1)' }]);
  });
});

describe('tidy CSV', () => {
  it('has one row per metric of each record, quotes cell ids with commas, and leaves null and NaN empty', () => {
    const r = metricsRecord({ step: 3, loss: Number.NaN, divergedAtStep: null });
    const state = stateOf([{ ...cellOf('task.dIn=16,task.note="a"', 16, [r]) }]);
    const rows = tidyRows(state);
    // lr, loss, evalItems, capacity, capacityPrefix, delta, max, min, diverged, divergedAtStep + 3 × 2 buckets.
    expect(rows).toHaveLength(10 + 6);
    const csv = toCsv(rows).split('\r\n');
    expect(csv[0]).toBe('cell,run,optimizer,runSeed,step,metric,value');
    expect(csv[1]).toBe('"task.dIn=16,task.note=""a""",0,gd,0,3,lr,1');
    expect(csv[2]).toBe('"task.dIn=16,task.note=""a""",0,gd,0,3,loss,');
    expect(csv).toContain('"task.dIn=16,task.note=""a""",0,gd,0,3,divergedAtStep,');
    expect(csv).toContain('"task.dIn=16,task.note=""a""",0,gd,0,3,bucket.tail.meanPCorrect,0.4');
    expect(csv[csv.length - 1]).toBe('');
  });

  it('flattens isotropy of W and of the update with their top-k energies', () => {
    const iso = { n: 3, hNorm: 0.5, eRank: 2, topE: [0.6, 0.9, 1], q75over25: null };
    const names = recordMetrics(metricsRecord({ isotropy: { w: iso, update: null }, minibatchLoss: 2 })).map(([n]) => n);
    expect(names).toContain('minibatchLoss');
    expect(names.filter((n) => n.startsWith('isotropy.'))).toEqual([
      'isotropy.w.n',
      'isotropy.w.hNorm',
      'isotropy.w.eRank',
      'isotropy.w.q75over25',
      'isotropy.w.topE.1',
      'isotropy.w.topE.2',
      'isotropy.w.topE.3',
    ]);
  });
});

describe('live figure data', () => {
  it('draws the loss median over seeds with a min–max band, x = step + 1', () => {
    const recs = [0, 1].flatMap((step) =>
      [0, 1, 2].map((seed) => metricsRecord({ run: seed, runSeed: seed, step, loss: 1 + step + seed })),
    );
    const { rows } = figureOf([cellOf('single', 16, recs)], 'loss');
    expect(rows.map((r) => [r.optimizer, r.x, r.value, r.lo, r.hi])).toEqual([
      ['gd', 1, 2, 1, 3],
      ['gd', 2, 3, 2, 4],
    ]);
  });

  it("fits capacity vs d and draws [C]'s predicted slopes through the fit", () => {
    // capacity = 0.5·d^1.25 exactly at d = 16, 64, 256 for GD; Muon's twice that. a = 2.
    const cells = [16, 64, 256].map((d) =>
      cellOf(
        `d=${d}`,
        d,
        [
          metricsRecord({ capacity: 0.5 * d ** 1.25, step: 2 }),
          metricsRecord({ run: 1, optimizer: 'muon', optimizerName: 'muon', capacity: d ** 1.25, step: 2 }),
        ],
        2,
      ),
    );
    const { rows, subtitle } = figureOf(cells, 'capacity-d');
    const line = (ref: string) => rows.filter((r) => r.ref === ref).map((r) => [r.d as number, r.capacity as number] as [number, number]);
    const slope = (pts: [number, number][]) => Math.log(pts[1][1] / pts[0][1]) / Math.log(pts[1][0] / pts[0][0]);
    expect(rows.filter((r) => r.kind == null && r.optimizer === 'gd').map((r) => r.d)).toEqual([16, 64, 256]);
    expect(slope(line('gd fit'))).toBeCloseTo(1.25, 10);
    expect(line('gd fit')[0][1]).toBeCloseTo(0.5 * 16 ** 1.25, 8);
    expect(slope(line('gd predicted'))).toBeCloseTo(1 / (2 * 2), 10);
    expect(slope(line('muon predicted'))).toBeCloseTo(1 + 1 / (2 * 2), 10);
    expect(subtitle).toBe('slopes: gd 1.25 ([C] one-step: 0.25) · muon 1.25 ([C] one-step: 1.25)');
  });

  it("plots the head bucket against the last bucket with at least a quarter of the largest one's items", () => {
    // Log-rank buckets of N = 64: 1, 2, 4, …, 32 items and a 1-item stub (rank 64).
    const sizes = [1, 2, 4, 8, 16, 32, 1];
    const buckets = sizes.map((items, k) => ({ bucket: `b${k}`, items, meanPCorrect: k / 10, accuracy: 0 }));
    const { rows } = figureOf([cellOf('single', 16, [metricsRecord({ buckets })])], 'bucket-pcorrect');
    expect(rows.map((r) => [r.series, r.value, r.bucket])).toEqual([
      ['gd · b0', 0, 'head: b0'],
      ['gd · b5', 0.5, 'tail: b5'],
    ]);
  });

  it('needs two values of d for the capacity figure and says so', () => {
    const { rows, subtitle } = figureOf([cellOf('single', 16, [metricsRecord({})])], 'capacity-d');
    expect(rows).toEqual([]);
    expect(subtitle).toMatch(/needs a sweep over task\.dIn/);
  });

  it('turns cumulative top-k energies into per-direction shares', () => {
    const shares = energyShares({ n: 3, hNorm: 1, eRank: 3, topE: [0.5, 0.8, 1], q75over25: 1 });
    expect(shares.map((s) => +s.toFixed(12))).toEqual([0.5, 0.3, 0.2]);
  });

  it('leaves out what a log axis cannot place, and draws the rest (counted in the SVG)', async () => {
    const recs = [0, 1, 2, 3].map((step) => metricsRecord({ step, loss: [1, 0, -1, 10][step], delta: 0.2 }));
    const figure = trainingFigures([cellOf('single', 16, recs)]).find((f) => f.name === 'delta-loss')!;
    const svg = await renderFigureSvg(figure.spec);
    expect((svg.match(/aria-label="gd" role="graphics-symbol" aria-roledescription="point"/g) ?? []).length).toBe(2);
  }, 60_000);
});
