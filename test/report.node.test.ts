// `muonlab report DIR` (harness/report.ts): a preset folder's summary, report and figures are
// recomputed in Node from the cells' raw results alone — no GPU, no earlier summary. The cells here
// are written by hand with capacities that follow known power laws, so the fitted exponents and the
// verdicts the report must reach are known without the code under test.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { writeJsonAtomic } from '../harness/files';
import { ensurePresetManifest, presetCellDirectory } from '../harness/presetRun';
import { reportFolder } from '../harness/report';
import { cCapacityOnestepPlan } from '../src/experiments/presets/plans/cCapacityOnestep';
import { markdownTable, type PresetCell } from '../src/experiments/presets/types';

type Capacity = (optimizer: string, d: number, seed: number) => number;

/** A c-capacity-onestep ci folder whose every cell holds the capacities `capacity` gives. */
function writeCapacityFolder(capacity: Capacity, options: { skip?: string } = {}): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'muonlab-report-')), 'c-capacity-onestep-ci');
  const cells = cCapacityOnestepPlan.cells('ci') as PresetCell<{ a: number; d: number; seed: number }>[];
  ensurePresetManifest(dir, { schema: 'muonlab.preset-run/1', preset: 'c-capacity-onestep', scale: 'ci', cells });
  for (const cell of cells) {
    if (cell.id === options.skip) continue;
    const { a, d, seed } = cell.params;
    const points = ['GD', 'Muon', 'Muon (Float64 SVD)'].map((optimizer) => ({
      a,
      d,
      seed,
      optimizer,
      capacity: capacity(optimizer, d, seed),
      ...(optimizer === 'Muon' ? { orthSteps: 13, orthResidual: 3e-6, polarError: 2e-5, sigmaRatio: 1e-3 } : {}),
    }));
    writeJsonAtomic(join(presetCellDirectory(dir, cell), 'result.json'), {
      schema: 'muonlab.preset-cell/1',
      preset: 'c-capacity-onestep',
      scale: 'ci',
      cell,
      result: { points },
      elapsedMs: 1000,
      createdAt: '2026-12-04T00:00:00.000Z',
    });
  }
  return dir;
}

type Prediction = { name: string; measured: number; verdict: string };
const readSummary = (dir: string) =>
  JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { predictions: Prediction[]; plots: string[]; specs: string[] };
const byName = (predictions: Prediction[], name: string) => predictions.find((p) => p.name === name)!;

describe('muonlab report: a preset folder re-rendered from its cells', { timeout: 120_000 }, () => {
  // a = 1.5 at ci: [C] predicts Muon ∝ d^{1 + 1/(2a)} = d^{4/3} and GD ∝ d^{1/(2a)} = d^{1/3}.
  const lawful: Capacity = (optimizer, d, seed) => {
    const noise = 1 + 0.01 * (seed - 2.5); // the same factor at every d: slopes unchanged
    if (optimizer === 'GD') return 2 * d ** (1 / 3) * noise;
    return 0.5 * d ** (4 / 3) * noise + (optimizer === 'Muon' ? 0 : 1); // the cross-check 1 item off
  };

  test('capacities on [C]’s laws: the fitted exponents are theirs and the predictions agree', async () => {
    const dir = writeCapacityFolder(lawful);
    const messages: string[] = [];
    const written = await reportFolder(dir, { browser: undefined, log: (m) => messages.push(m) });
    expect(written).toContain('summary.json');
    expect(written).toContain('report.md');
    const summary = readSummary(dir);
    expect(byName(summary.predictions, 'Muon count exponent, a = 1.5').measured).toBeCloseTo(4 / 3, 10);
    expect(byName(summary.predictions, 'GD count exponent, a = 1.5').measured).toBeCloseTo(1 / 3, 10);
    for (const d of [64, 128, 256]) expect(byName(summary.predictions, `Muon / GD items, a = 1.5, d = ${d}`).verdict).toBe('agrees');
    expect(byName(summary.predictions, 'Muon GPU exact vs Float64 SVD items, a = 1.5, d = 256').verdict).toBe('agrees');
    expect(summary.predictions.filter((p) => p.verdict === 'disagrees')).toEqual([]);
    // Figures as SVG and Vega-Lite, on disk and listed; no PNG without a browser.
    expect(summary.plots.length).toBeGreaterThan(0);
    for (const f of [...summary.plots, ...summary.specs]) expect(existsSync(join(dir, f)), f).toBe(true);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain('Muon count exponent, a = 1.5');
  });

  test('a GD that grows like Muon and a cross-check 20 items off: those rows disagree', async () => {
    const dir = writeCapacityFolder((optimizer, d, seed) =>
      optimizer === 'GD' ? lawful('Muon', d, seed) : optimizer === 'Muon' ? lawful('Muon', d, seed) + 20 : lawful('Muon', d, seed),
    );
    await reportFolder(dir, { browser: undefined, log: () => {} });
    const summary = readSummary(dir);
    expect(byName(summary.predictions, 'GD count exponent, a = 1.5').verdict).toBe('disagrees');
    expect(byName(summary.predictions, 'Muon GPU exact vs Float64 SVD items, a = 1.5, d = 64').verdict).toBe('disagrees');
  });

  test('an earlier summary is not read: report replaces it from the cells', async () => {
    const dir = writeCapacityFolder(lawful);
    writeFileSync(join(dir, 'summary.json'), JSON.stringify({ predictions: [{ name: 'stale', measured: 0, verdict: 'agrees' }] }));
    await reportFolder(dir, { browser: undefined, log: () => {} });
    expect(readSummary(dir).predictions.some((p) => p.name === 'stale')).toBe(false);
  });

  test('a folder with an unfinished cell: refused, naming the folder and the cell', async () => {
    const skip = 'a=1.5,d=128,seed=2';
    const dir = writeCapacityFolder(lawful, { skip });
    await expect(reportFolder(dir, { browser: undefined, log: () => {} })).rejects.toThrow(
      new RegExp(`${dir}.*1 cell\\(s\\).*${skip.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
    );
  });

  test('a folder that is not a run: refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'muonlab-report-empty-'));
    await expect(reportFolder(dir, { browser: undefined, log: () => {} })).rejects.toThrow();
    rmSync(dir, { recursive: true });
  });
});

describe('report tables', () => {
  test('numbers print with at most five significant digits and no trailing zeros', () => {
    expect(markdownTable(['α', 'η', 'loss', 'n', 'tiny', 'label'], [[0.5, 0.0066700001, 12345.67, 4096, 1.234567e-7, 'Muon']])).toBe(
      ['| α | η | loss | n | tiny | label |', '|---|---|---|---|---|---|', '| 0.5 | 0.00667 | 12346 | 4096 | 1.2346e-7 | Muon |'].join(
        '\n',
      ),
    );
  });
});
