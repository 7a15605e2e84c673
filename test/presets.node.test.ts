// The one preset path (src/experiments/presets/cellular.ts) without a GPU: every preset's plan
// gives unique, JSON-plain cells with positive costs and the catalog entry derived from its
// settings; cell results survive their stored form exactly (non-finite numbers included) and values
// JSON cannot hold are refused by path; definePreset's run() equals summarize() over stored results
// in any order, and a missing cell is named.
import { describe, expect, test } from 'vitest';
import type { Gpu } from '../src/gpu/device';
import { PRESET_CATALOG, PRESET_NAMES, presetCells } from '../src/experiments/presets/catalog';
import { decodeCellResult, encodeCellResult } from '../src/experiments/presets/cellJson';
import { definePreset } from '../src/experiments/presets/cellular';
import { bBalanceOnestepPlan } from '../src/experiments/presets/plans/bBalanceOnestep';
import { cCriticalBatchPlan } from '../src/experiments/presets/plans/cCriticalBatch';
import { presetInfo, presetReport, SCALES, type PresetCellResult } from '../src/experiments/presets/types';

describe('preset plans and catalog', () => {
  test('every preset: its catalog name, unique cell ids per scale, positive finite costs, params that survive JSON', () => {
    expect(PRESET_NAMES).toHaveLength(13);
    for (const name of PRESET_NAMES) {
      expect(PRESET_CATALOG[name].name).toBe(name);
      for (const scale of SCALES) {
        const cells = presetCells(name, scale);
        expect(cells.length, `${name} ${scale}`).toBeGreaterThan(0);
        expect(PRESET_CATALOG[name].scales[scale].cells, `${name} ${scale}`).toBe(cells.length);
        expect(new Set(cells.map((c) => c.id)).size, `${name} ${scale}: ids unique`).toBe(cells.length);
        for (const c of cells) {
          expect(Number.isFinite(c.cost) && c.cost > 0, `${name} ${scale} ${c.id}: cost ${c.cost}`).toBe(true);
          expect(JSON.parse(JSON.stringify(c.params)), `${name} ${c.id}`).toEqual(c.params);
        }
      }
    }
  });

  test('the formerly whole presets are split: at ci scale each has at least two cells (so --shard 1/2 has work)', () => {
    for (const name of [
      'a-noiseless',
      'a-noisy-scaling',
      'b-balance-multistep',
      'b-isotropy',
      'c-critical-batch',
      'c-minibatch',
      'c-multistep',
    ] as const) {
      expect(presetCells(name, 'ci').length, name).toBeGreaterThanOrEqual(2);
    }
    expect(presetCells('a-noisy-scaling', 'ci').map((c) => c.id)).toEqual(['T=16', 'T=23', 'T=32', 'T=45', 'T=64']);
    expect(presetCells('c-minibatch', 'ci').map((c) => c.id)).toEqual(['seed=1,population', 'seed=1,B=4', 'seed=1,B=16', 'seed=1,B=64']);
  });

  test('catalog sizes come from the settings: other settings, other words', () => {
    expect(PRESET_CATALOG['b-balance-onestep'].scales.ci.sizes).toBe('N = d = 300, 60 head items');
    const changed = presetInfo({
      ...bBalanceOnestepPlan,
      settings: { ...bBalanceOnestepPlan.settings, ci: { N: 123, headCount: 7, sweepKs: [] } },
    });
    expect(changed.scales.ci.sizes).toBe('N = d = 123, 7 head items');
    expect(PRESET_CATALOG['c-critical-batch'].scales.ci.sizes).toBe(
      'N = 2048, a = 1.5, d ∈ {32, 64, 128}, B = 2 … 2^14, 1 task seed, top 512 items evaluated',
    );
    const wider = presetInfo({
      ...cCriticalBatchPlan,
      settings: { ...cCriticalBatchPlan.settings, ci: { ...cCriticalBatchPlan.settings.ci, ds: [16, 32], seeds: 3 } },
    });
    expect(wider.scales.ci.sizes).toBe('N = 2048, a = 1.5, d ∈ {16, 32}, B = 2 … 2^14, 3 task seeds, top 512 items evaluated');
    expect(wider.scales.ci.cells).toBe(cCriticalBatchPlan.cells('ci').length); // cells() reads the plan's own settings
  });
});

describe('cell results in their stored form', () => {
  test('non-finite numbers, null, nested arrays and objects come back exactly', () => {
    const result = {
      loss: NaN,
      up: Infinity,
      down: -Infinity,
      none: null,
      points: [
        [1, 2.5e-300],
        [-0.1, NaN],
      ],
      nested: { a: [{ b: 'x', c: true }] },
    };
    const stored = JSON.parse(JSON.stringify(encodeCellResult(result, 'test')));
    expect(stored.loss).toEqual({ nonFinite: 'NaN' });
    expect(stored.none).toBeNull();
    expect(decodeCellResult(stored)).toEqual(result);
    // A file written before the encoding held null for NaN: it stays null.
    expect(decodeCellResult({ loss: null })).toEqual({ loss: null });
  });

  test('refuses what JSON cannot hold, naming the path', () => {
    expect(() => encodeCellResult({ runs: [{ direction: new Float32Array(2) }] }, 'p (ci) cell x')).toThrow(
      /p \(ci\) cell x: result\.runs\[0\]\.direction is a Float32Array/,
    );
    expect(() => encodeCellResult({ seen: new Map() }, 'p')).toThrow(/result\.seen is a Map/);
    expect(() => encodeCellResult({ xs: [1, undefined] }, 'p')).toThrow(/result\.xs\[1\] is undefined/);
    expect(() => encodeCellResult([1, 2], 'p')).toThrow(/a cell result must be a plain object/);
    expect(encodeCellResult({ kept: 1, dropped: undefined }, 'p')).toEqual({ kept: 1 });
  });
});

describe('definePreset', () => {
  // A preset whose cells square their parameter; summarize lists the results in the order given.
  const gpu = {} as Gpu;
  const calls: string[] = [];
  const squares = definePreset<{ x: number }, { square: number; ratio: number }, { x: number; square: number; ratio: number }>({
    name: 'squares',
    title: 'squares',
    paper: 'none',
    predictions: [],
    scales: {
      ci: { sizes: '', estimate: '', cells: 3 },
      quick: { sizes: '', estimate: '', cells: 3 },
      full: { sizes: '', estimate: '', cells: 3 },
    },
    cells: () => [1, 2, 0].map((x) => ({ id: `x=${x}`, cost: x + 1, params: { x } })),
    runCell: async (_gpu, _scale, cell) => {
      calls.push(cell.id);
      return { square: cell.params.x ** 2, ratio: 1 / cell.params.x - 1 / cell.params.x }; // NaN at x = 0
    },
    summarize: (scale, results) =>
      presetReport({
        preset: 'squares',
        scale,
        settings: {},
        predictions: [],
        plots: [],
        markdown: '',
        elapsedMs: 0,
        measurements: results.map((r) => ({ x: r.cell.params.x, ...r.result })),
      }),
  });

  test('run() = summarize() of every cell through its stored form; stored results in any order give the same', async () => {
    const report = await squares.run(gpu, 'ci', () => {});
    expect(calls).toEqual(['x=1', 'x=2', 'x=0']);
    expect(report.measurements).toEqual([
      { x: 1, square: 1, ratio: 0 },
      { x: 2, square: 4, ratio: 0 },
      { x: 0, square: 0, ratio: NaN },
    ]);
    const stored: PresetCellResult[] = [];
    for (const cell of squares.cells('ci').reverse()) {
      stored.push({ cell, result: JSON.parse(JSON.stringify(await squares.runCell(gpu, 'ci', cell.id, () => {}))), elapsedMs: 1 });
    }
    expect(squares.summarize('ci', stored).measurements).toEqual(report.measurements);
  });

  test('a missing cell and an unknown cell id are named', async () => {
    const cells = squares.cells('ci');
    const one: PresetCellResult[] = [{ cell: cells[0], result: { square: 1, ratio: 0 }, elapsedMs: 1 }];
    expect(() => squares.summarize('ci', one)).toThrow(/squares: results of 2 cell\(s\) are missing: x=2, x=0/);
    await expect(squares.runCell(gpu, 'ci', 'x=9', () => {})).rejects.toThrow(/squares: no cell "x=9" at scale ci/);
  });
});
