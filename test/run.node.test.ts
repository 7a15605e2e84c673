// `muonlab run` planning on the Node side: --set overrides, shards, --resume, record files.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseExperimentConfig } from '../src/experiments/config';
import { appendRecord, applyOverrides, beginCell, cellDirectory, finishCell, loadExperiment, planRun } from '../harness/run';
import { formatDuration, formatProgress, overallEtaMs } from '../harness/progress';

const raw = {
  name: 'plan-test',
  task: { N: 12, dIn: 12, dOut: 12, embedding: 'identity' },
  optimizers: [{ name: 'gd', lr: 1 }],
  training: { steps: 2 },
  sweep: [{ path: 'task.taskSeed', values: [1, 2, 3] }],
};

describe('run planning', () => {
  test('--set parses JSON values, falls back to strings, creates missing objects', () => {
    const out = applyOverrides(raw, ['training.steps=5', 'optimizers.0.lr="sqrt(d)"', 'description=hello world', 'metrics.every=2']);
    expect((out.training as { steps: number }).steps).toBe(5);
    expect((out.optimizers as { lr: string }[])[0].lr).toBe('sqrt(d)');
    expect(out.description).toBe('hello world');
    expect(out.metrics).toEqual({ every: 2 });
    expect(raw.training.steps).toBe(2); // the input is not mutated
    expect(() => applyOverrides(raw, ['steps'])).toThrow(/expected path=value/);
  });

  test('a bad override fails validation naming the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'muonlab-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify(raw));
    expect(() => loadExperiment(file, ['task.embedding=random'])).toThrow(/task\.embedding/);
    expect(() => loadExperiment(join(dir, 'missing.json'))).toThrow(/cannot read experiment config/);
  });

  test('--resume skips cells with a summary.json; shards partition the cells', () => {
    const out = mkdtempSync(join(tmpdir(), 'muonlab-'));
    const config = parseExperimentConfig(raw);
    const first = planRun(config, { out });
    expect(first.todo.map((c) => c.index)).toEqual([0, 1, 2]);
    const dir = cellDirectory(first.root, first.cells[1]);
    beginCell(dir, first.cells[1]);
    finishCell(
      dir,
      { cell: first.cells[1].id, runs: [], steps: 2, stopped: 'steps', elapsedMs: 0, finalPerItem: [] },
      first.cells[1].config,
    );
    expect(planRun(config, { out, resume: true }).todo.map((c) => c.index)).toEqual([0, 2]);
    expect(planRun(config, { out }).todo).toHaveLength(3);
    const shards = [1, 2].flatMap((i) => planRun(config, { out, shard: `${i}/2` }).todo.map((c) => c.index));
    expect(shards.sort()).toEqual([0, 1, 2]);
  });

  test('records are appended as JSON lines with schema and cell', () => {
    const out = mkdtempSync(join(tmpdir(), 'muonlab-'));
    const config = parseExperimentConfig(raw);
    const plan = planRun(config, { out });
    const dir = cellDirectory(plan.root, plan.cells[0]);
    beginCell(dir, plan.cells[0]);
    appendRecord(dir, plan.cells[0].id, { run: 0, step: 0, loss: 2.5 });
    appendRecord(dir, plan.cells[0].id, { run: 0, step: 1, loss: 1.5 });
    const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { schema: 'muonlab.metrics/1', cell: 'task.taskSeed=1', run: 0, step: 0, loss: 2.5 },
      { schema: 'muonlab.metrics/1', cell: 'task.taskSeed=1', run: 0, step: 1, loss: 1.5 },
    ]);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).task.taskSeed).toBe(1);
  });
});

describe('progress bar', () => {
  const base = {
    cellIndex: 1,
    cells: 4,
    cell: 'task.dIn=64',
    step: 9,
    steps: 19,
    cellElapsedMs: 10_000,
    cellEtaMs: 10_000,
    finishedCellMs: [30_000],
  };

  test("overall ETA = this cell's ETA + later cells at the mean finished-cell time (projected before one finished)", () => {
    expect(overallEtaMs(base)).toBe(10_000 + 2 * 30_000);
    expect(overallEtaMs({ ...base, cellIndex: 0, finishedCellMs: [] })).toBe(10_000 + 3 * 20_000);
    expect(overallEtaMs({ ...base, cellEtaMs: null })).toBeNull();
  });

  test('the line shows the fraction over all cells, cell and step counts and the ETA', () => {
    const line = formatProgress(base, 20);
    // (1 + 10/20) of 4 cells = 37.5% → 8 of 20 marks (rounded 7.5 → 8).
    expect(line).toBe('[########............]  38%  cell 2/4 task.dIn=64  step 9/19  ETA 1m 10s');
    expect(formatDuration(3_725_000)).toBe('1h 02m');
    expect(formatDuration(42_400)).toBe('42s');
  });
});

describe('interrupted runs', () => {
  test('a cell cut short (records, no summary.json) is run again with --resume and its metrics.jsonl starts over; finished cells are kept', () => {
    const out = mkdtempSync(join(tmpdir(), 'muonlab-'));
    const config = parseExperimentConfig(raw);
    const plan = planRun(config, { out });
    const [done, cut] = plan.cells;
    const doneDir = cellDirectory(plan.root, done);
    beginCell(doneDir, done);
    appendRecord(doneDir, done.id, { run: 0, step: 0, loss: 1 });
    writeFileSync(join(doneDir, 'summary.json'), '{}');
    const cutDir = cellDirectory(plan.root, cut);
    beginCell(cutDir, cut);
    appendRecord(cutDir, cut.id, { run: 0, step: 0, loss: 2 });
    const resumed = planRun(config, { out, resume: true });
    expect(resumed.todo.map((c) => c.id)).toEqual([cut.id, plan.cells[2].id]);
    beginCell(cutDir, cut);
    expect(readFileSync(join(cutDir, 'metrics.jsonl'), 'utf8')).toBe('');
    expect(readFileSync(join(doneDir, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
  });
});
