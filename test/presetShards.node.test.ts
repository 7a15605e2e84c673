// `muonlab run PRESET --shard/--resume` and `muonlab merge` end to end for a preset that used to run
// only as a whole: a-noisy-scaling at ci scale (5 cells, one per horizon T). Shards 1/2 and 2/2 run
// in separate folders, merge recomputes the report from their cells, and its predictions and
// measurements equal a single run's; `--resume` on shard 1's folder runs only the cells it lacks
// (the finished cells' result.json files are left as they were) and writes the same report. ≈ 1–2 min
// with a built page and cached variant choices (five CLI runs, one browser each).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { findChromium } from '../harness/flags';
import { PROJECT_ROOT } from '../harness/server';
import { presetCells } from '../src/experiments/presets/catalog';

const CI = Boolean(process.env.CI);
const browser = findChromium()?.path;
const PRESET = 'a-noisy-scaling';

function muonlab(...args: string[]): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin/muonlab.js'), ...args], { encoding: 'utf8', timeout: 600_000 });
  return { status: run.status, output: `${run.stdout}\n${run.stderr}` };
}

/** What must not depend on how the cells were run: everything but timestamps and timings. */
function figures(folder: string): unknown {
  const { predictions, measurements, settings, plots } = JSON.parse(readFileSync(join(folder, 'summary.json'), 'utf8'));
  return { predictions, measurements, settings, plots, report: readFileSync(join(folder, 'report.md'), 'utf8') };
}

describe(`${PRESET} in cells`, () => {
  test('shard 1/2 + shard 2/2 merged = one single run; --resume runs only the missing cells', (ctx) => {
    if (!browser && !CI) return ctx.skip('no Chromium found (set CHROMIUM_PATH or install chromium)');
    const root = mkdtempSync(join(tmpdir(), 'muonlab-shards-'));
    const cells = presetCells(PRESET, 'ci');
    expect(cells.length).toBe(5);

    const single = muonlab('run', PRESET, '--scale', 'ci', '--out', join(root, 'single'));
    expect(single.status, single.output).toBe(0);

    const shards = [1, 2].map((i) => {
      const out = join(root, `shard${i}`);
      const run = muonlab('run', PRESET, '--scale', 'ci', '--out', out, '--shard', `${i}/2`);
      expect(run.status, run.output).toBe(0);
      expect(run.output).toMatch(/have no result here yet/);
      return join(out, `${PRESET}-ci`);
    });
    const ran = shards.map((dir) => readdirSync(join(dir, 'cells')).sort());
    expect(
      ran.every((ids) => ids.length > 0),
      `each shard ran some cells: ${JSON.stringify(ran)}`,
    ).toBe(true);
    expect([...ran[0], ...ran[1]].sort()).toEqual(cells.map((c) => c.id).sort());

    const merged = muonlab('merge', ...shards, '--out', join(root, 'merged'));
    expect(merged.status, merged.output).toBe(0);
    expect(figures(join(root, 'merged'))).toEqual(figures(join(root, 'single', `${PRESET}-ci`)));

    // Resume shard 1's folder: shard 2's cells run here, shard 1's results are not rewritten.
    const written = (id: string) => statSync(join(shards[0], 'cells', id, 'result.json')).mtimeMs;
    const before = Object.fromEntries(ran[0].map((id) => [id, written(id)]));
    const resumed = muonlab('run', PRESET, '--scale', 'ci', '--out', join(root, 'shard1'), '--resume');
    expect(resumed.status, resumed.output).toBe(0);
    expect(resumed.output).toContain(`${cells.length} cell(s), ${ran[1].length} to run here (${ran[0].length} finished earlier)`);
    expect(Object.fromEntries(ran[0].map((id) => [id, written(id)]))).toEqual(before);
    expect(figures(shards[0])).toEqual(figures(join(root, 'single', `${PRESET}-ci`)));
  }, 900_000);
});
