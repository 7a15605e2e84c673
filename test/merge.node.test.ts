// `muonlab merge` (harness/merge.ts): shard folders of a config sweep and of a cellular preset are
// combined, summaries are recomputed from the cells' raw files (metrics.jsonl, per-item arrays) and
// never read from a shard's summary, and folders of different runs are refused by name.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseExperimentConfig, type ExperimentConfig } from '../src/experiments/config';
import { expandSweep } from '../src/experiments/sweep';
import { fitPowerLaw } from '../src/metrics/fits';
import { appendRecord, beginCell, cellDirectory, finishCell, planRun } from '../harness/run';
import { writeJsonAtomic } from '../harness/files';
import { mergeRuns, summarizeSweep } from '../harness/merge';
import { sweepFigures } from '../harness/sweepPlots';
import { renderFigureSvg } from '../src/plots/render';
import { seriesCounts } from './svgMarks';
import { ensurePresetManifest, planPresetCells, presetCellDirectory } from '../harness/presetRun';
import type { PresetCell } from '../src/experiments/presets/types';

const raw = {
  name: 'merge-test',
  task: { N: 40, dIn: 4, dOut: 4, embedding: 'gaussian' },
  optimizers: [
    { name: 'gd', lr: 1 },
    { name: 'muon', lr: 0.5, label: 'muon' },
  ],
  training: { steps: 2 },
  sweep: [{ path: 'task.dIn', values: [4, 8, 16] }],
};

/** Capacity of optimizer k in the cell with d_in = d: a known power law, so the fit is checkable. */
const trueCapacity = (k: number, d: number) => (k === 0 ? 2 * d ** 0.5 : d);

const b64 = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

/** Writes finished cells the way `muonlab run` does: records, final per-item arrays, summary.json. */
function writeShard(out: string, config: ExperimentConfig, shard: string): string {
  const plan = planRun(config, { out, shard });
  writeJsonAtomic(join(plan.root, 'config.json'), config);
  for (const cell of plan.todo) {
    const dir = cellDirectory(plan.root, cell);
    beginCell(dir, cell);
    const d = cell.config.task.dIn;
    const finalPerItem = [0, 1].map((run) => {
      const n = Math.round(trueCapacity(run, d));
      const correct = Uint8Array.from({ length: 40 }, (_, i) => (i < n ? 1 : 0));
      return {
        run,
        step: 2,
        pCorrect: b64(new Float32Array(40).fill(0.5)),
        correct: b64(correct),
        loss: b64(new Float32Array(40).fill(1)),
      };
    });
    for (const step of [0, 2]) {
      for (const run of [0, 1]) {
        // The record's capacity counts evalItems only (here one less): the summary must prefer the per-item file.
        appendRecord(dir, cell.id, {
          run,
          optimizer: run === 0 ? 'gd' : 'muon',
          runSeed: 0,
          step,
          loss: 3 - step,
          capacity: step === 0 ? 0 : Math.round(trueCapacity(run, d)) - 1,
          diverged: false,
          divergedAtStep: null,
        });
      }
    }
    // A shard summary with wrong numbers: merge must not use them.
    finishCell(dir, { cell: cell.id, runs: [], steps: 999, stopped: 'bogus', elapsedMs: 0, finalPerItem }, cell.config);
  }
  return plan.root;
}

describe('merge: config sweeps', () => {
  test('two shards → every cell, per-run values from metrics.jsonl and per-item files, capacity fits along task.dIn', () => {
    const config = parseExperimentConfig(raw);
    const a = writeShard(mkdtempSync(join(tmpdir(), 'muonlab-a-')), config, '1/2');
    const b = writeShard(mkdtempSync(join(tmpdir(), 'muonlab-b-')), config, '2/2');
    expect(summarizeSweep(a).missing.length + summarizeSweep(b).missing.length).toBe(3);
    const out = join(mkdtempSync(join(tmpdir(), 'muonlab-m-')), 'merged');
    const merged = mergeRuns([a, b], out);
    expect(merged.kind).toBe('config');
    expect(merged.missing).toEqual([]);
    expect(Object.values(merged.copied).reduce((s, n) => s + n, 0)).toBe(3);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.schema).toBe('muonlab.sweep-summary/1');
    expect(summary.cells.map((c: { id: string }) => c.id)).toEqual(expandSweep(config).map((c) => c.id));
    for (const cell of summary.cells) {
      const d = cell.point['task.dIn'];
      for (const run of cell.runs) {
        expect(run.lastStep).toBe(2);
        expect(run.loss).toBe(1);
        expect(run.capacityAllItems).toBe(Math.round(trueCapacity(run.run, d)));
        expect(run.capacity).toBe(Math.round(trueCapacity(run.run, d)) - 1);
      }
    }
    const ds = [4, 8, 16];
    for (const [k, optimizer] of ['gd', 'muon'].entries()) {
      const want = fitPowerLaw(
        ds,
        ds.map((d) => Math.round(trueCapacity(k, d))),
      );
      const fit = summary.fits.find((f: { optimizer: string }) => f.optimizer === optimizer);
      expect(fit.axis).toBe('task.dIn');
      expect(fit.slope).toBeCloseTo(want.slope, 12);
    }
    expect(summary.fits.find((f: { optimizer: string }) => f.optimizer === 'muon').slope).toBeCloseTo(1, 12);
    expect(existsSync(join(out, 'merge.json'))).toBe(true);
  });

  test('metrics.csv: one tidy row per cell × run × step × metric, values equal to the records written', () => {
    const config = parseExperimentConfig(raw);
    const a = writeShard(mkdtempSync(join(tmpdir(), 'muonlab-a-')), config, '1/2');
    const b = writeShard(mkdtempSync(join(tmpdir(), 'muonlab-b-')), config, '2/2');
    const out = join(mkdtempSync(join(tmpdir(), 'muonlab-m-')), 'merged');
    mergeRuns([a, b], out);
    const lines = readFileSync(join(out, 'metrics.csv'), 'utf8')
      .split('\r\n')
      .filter((l) => l);
    expect(lines[0]).toBe('cell,run,optimizer,runSeed,step,metric,value');
    // Cell ids of a sweep contain no comma here; split is a plain CSV parse for this data.
    const rows = lines.slice(1).map((l) => l.split(','));
    const cells = expandSweep(config);
    // 3 cells × 2 runs × 2 steps records, 10 scalar metrics each (lr … divergedAtStep; no buckets written).
    expect(rows.length).toBe(3 * 2 * 2 * 10);
    for (const cell of cells) {
      const d = cell.config.task.dIn;
      for (const run of [0, 1]) {
        for (const step of [0, 2]) {
          const of = (metric: string) =>
            rows.filter((r) => r[0] === cell.id && r[1] === String(run) && r[4] === String(step) && r[5] === metric);
          expect(of('loss').map((r) => Number(r[6]))).toEqual([3 - step]);
          expect(of('capacity').map((r) => Number(r[6]))).toEqual([step === 0 ? 0 : Math.round(trueCapacity(run, d)) - 1]);
          expect(of('diverged').map((r) => r[6])).toEqual(['0']);
          expect(of('divergedAtStep').map((r) => r[6])).toEqual(['']);
          expect(of('loss')[0][2]).toBe(run === 0 ? 'gd' : 'muon');
        }
      }
    }
  });

  test('refuses different configs (naming the field), overlapping shards, and foreign folders', () => {
    const config = parseExperimentConfig(raw);
    const a = writeShard(mkdtempSync(join(tmpdir(), 'muonlab-a-')), config, '1/2');
    const other = writeShard(mkdtempSync(join(tmpdir(), 'muonlab-b-')), parseExperimentConfig({ ...raw, training: { steps: 3 } }), '2/2');
    const out = () => join(mkdtempSync(join(tmpdir(), 'muonlab-m-')), 'merged');
    expect(() => mergeRuns([a, other], out())).toThrow(/mismatched configs: .* at training\.steps/);
    const again = writeShard(mkdtempSync(join(tmpdir(), 'muonlab-c-')), config, '1/2');
    expect(() => mergeRuns([a, again], out())).toThrow(/is finished in both/);
    expect(() => mergeRuns([mkdtempSync(join(tmpdir(), 'muonlab-x-'))], out())).toThrow(/not a muonlab run folder/);
    expect(() => mergeRuns([a], a)).toThrow(/is one of the inputs/);
  });
});

describe('config run plots', () => {
  test("the page's live figures from a run folder: the loss figure has every (cell, optimizer) curve with its steps", async () => {
    const config = parseExperimentConfig(raw);
    const root = writeShard(mkdtempSync(join(tmpdir(), 'muonlab-p-')), config, '1/1');
    const figures = sweepFigures(root);
    expect(figures.map((p) => p.name)).toContain('loss');
    // Counted in the SVG Vega renders: one line and a marker per step for each curve.
    const series = Object.entries(seriesCounts(await renderFigureSvg(figures.find((p) => p.name === 'loss')!.spec)));
    // 3 cells × 2 optimizers, one seed each: 6 curves of 2 steps (losses 3 and 1 are positive, so drawable on log axes).
    expect(series.length).toBe(6);
    for (const [, counts] of series) expect(counts).toEqual({ point: 2, 'line mark': 1 });
    expect(series.filter(([name]) => name.startsWith('gd')).length).toBe(3);
    expect(series.filter(([name]) => name.startsWith('muon')).length).toBe(3);
  }, 60_000);
});

describe('merge: preset cells', () => {
  const cells: PresetCell[] = [
    { id: 'identity', cost: 3, params: { embedding: 'identity' } },
    { id: 'coupled-rotation', cost: 2, params: { embedding: 'coupled-rotation' } },
    { id: 'third', cost: 1, params: {} },
  ];
  const manifest = { schema: 'muonlab.preset-run/1' as const, preset: 'b-balance-onestep', scale: 'ci' as const, cells };
  const writeCell = (dir: string, cell: PresetCell) =>
    writeJsonAtomic(join(presetCellDirectory(dir, cell), 'result.json'), {
      schema: 'muonlab.preset-cell/1',
      preset: 'b-balance-onestep',
      scale: 'ci',
      cell,
      result: { x: cell.cost },
      elapsedMs: 1,
      createdAt: 'now',
    });

  test('shards partition the cells by cost; --resume skips cells with a result; merge copies all and reports none missing', () => {
    const shards = [1, 2].map((i) => planPresetCells('/nonexistent', cells, { shard: `${i}/2` }).todo.map((c) => c.id));
    expect(shards.flat().sort()).toEqual(cells.map((c) => c.id).sort());
    expect(shards[0]).toEqual(['identity']);
    const dirs = [1, 2].map((i) => {
      const dir = mkdtempSync(join(tmpdir(), `muonlab-p${i}-`));
      ensurePresetManifest(dir, manifest);
      for (const id of shards[i - 1])
        writeCell(
          dir,
          cells.find((c) => c.id === id)!,
        );
      return dir;
    });
    expect(planPresetCells(dirs[0], cells, { resume: true }).todo.map((c) => c.id)).toEqual(['coupled-rotation', 'third']);
    // A shard resumed in its own folder: its share is done; the other shard's cells are not "finished" here.
    const resumed = planPresetCells(dirs[0], cells, { shard: '1/2', resume: true });
    expect(resumed.mine.map((c) => c.id)).toEqual(shards[0]);
    expect(resumed.todo).toEqual([]);
    const out = join(mkdtempSync(join(tmpdir(), 'muonlab-pm-')), 'merged');
    const merged = mergeRuns(dirs, out);
    expect(merged.kind).toBe('preset');
    expect(merged.missing).toEqual([]);
    expect(cells.every((c) => existsSync(join(presetCellDirectory(out, c), 'result.json')))).toBe(true);
    const partial = mergeRuns([dirs[0]], join(mkdtempSync(join(tmpdir(), 'muonlab-pm-')), 'merged'));
    expect(partial.missing).toEqual(['coupled-rotation', 'third']);
  });

  test('refuses another preset or scale, and a folder that holds another run', () => {
    const a = mkdtempSync(join(tmpdir(), 'muonlab-p-'));
    ensurePresetManifest(a, manifest);
    const b = mkdtempSync(join(tmpdir(), 'muonlab-p-'));
    ensurePresetManifest(b, { ...manifest, scale: 'quick' });
    expect(() => mergeRuns([a, b], join(mkdtempSync(join(tmpdir(), 'm-')), 'x'))).toThrow(/mismatched configs: .*scale ci vs quick/);
    expect(() => ensurePresetManifest(a, { ...manifest, preset: 'c-capacity-onestep' })).toThrow(
      /holds results of another run \(preset b-balance-onestep vs c-capacity-onestep\)/,
    );
    // Without --resume/--shard a run starts over: the old manifest is replaced and its results removed.
    writeCell(a, cells[0]);
    ensurePresetManifest(a, { ...manifest, scale: 'quick' }, false);
    expect(existsSync(join(presetCellDirectory(a, cells[0]), 'result.json'))).toBe(false);
    expect(JSON.parse(readFileSync(join(a, 'preset.json'), 'utf8')).scale).toBe('quick');
  });
});
