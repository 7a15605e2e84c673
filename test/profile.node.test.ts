// `muonlab run CONFIG.json --profile` end to end: the CLI trains a small cell in headless Chromium
// and writes profile.json (schema muonlab.profile/1) beside the cell's metrics. Expected kernels and
// dispatch counts come from the scheduler's structure (one command buffer per step t = 0…T; per
// optimizer group: the softmax gradient every step, the update's check + apply passes and
// advance_runs for t < T), not from the profiler. ~20 s with a built page and cached variant choices
// (a stale page build or variant cache adds their one-time cost).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { findChromium } from '../harness/flags';
import { PROJECT_ROOT } from '../harness/server';
import { RunProfileSchema } from '../src/gpu/runProfile';

const CI = Boolean(process.env.CI);
const browser = findChromium()?.path;

describe('muonlab run --profile', () => {
  test("writes profile.json with the scheduler's kernels, dispatches per step and shares summing to 1", (ctx) => {
    if (!browser && !CI) return ctx.skip('no Chromium found (set CHROMIUM_PATH or install chromium)');
    const dir = mkdtempSync(join(tmpdir(), 'muonlab-profile-'));
    const T = 3;
    const config = {
      name: 'profile-cli',
      task: { N: 16, dIn: 16, dOut: 16, embedding: 'identity' },
      optimizers: [
        { name: 'gd', lr: 2 },
        { name: 'adam', lr: 0.1 },
      ],
      training: { steps: T, runSeeds: [0, 1] },
    };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    const run = spawnSync(
      process.execPath,
      [join(PROJECT_ROOT, 'bin/muonlab.js'), 'run', join(dir, 'config.json'), '--profile', '--out', join(dir, 'runs')],
      {
        encoding: 'utf8',
        timeout: 600_000,
      },
    );
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    const cells = join(dir, 'runs', 'profile-cli', 'cells');
    const [cell] = readdirSync(cells);
    const profile = RunProfileSchema.parse(JSON.parse(readFileSync(join(cells, cell, 'profile.json'), 'utf8')));
    expect(profile.source).toBe('train');
    expect(profile.steps).toBe(T + 1);
    const byLabel = new Map(profile.kernels.map((k) => [k.label, k]));
    // Two optimizer groups (gd, adam), each with one identity softmax gradient per step.
    expect([byLabel.get('identity_softmax_grad')?.dispatches, byLabel.get('identity_softmax_grad')?.dispatchesPerStep]).toEqual([
      2 * (T + 1),
      2,
    ]);
    for (const label of ['gd_update (check)', 'gd_update (apply)', 'adam_update (check)', 'adam_update (apply)']) {
      expect([label, byLabel.get(label)?.dispatches, byLabel.get(label)?.steps]).toEqual([label, T, T]);
    }
    expect(byLabel.get('advance_runs')?.dispatches).toBe(2 * T);
    const shares = profile.kernels.reduce((s, k) => s + k.share, 0);
    expect(Math.abs(shares - 1)).toBeLessThan(1e-9);
    expect(profile.peak && profile.peak.gflops > 0).toBe(true);
    const softmax = byLabel.get('identity_softmax_grad')!;
    if (softmax.gflops !== null) expect(softmax.peakFraction).toBeCloseTo(softmax.gflops / profile.peak!.gflops, 9);
    // The printed table names the kernels; summary.json does not carry the profile.
    expect(run.stdout).toMatch(/identity_softmax_grad/);
    expect(run.stdout).toMatch(/profile\.json/);
    expect(JSON.parse(readFileSync(join(cells, cell, 'summary.json'), 'utf8')).profile).toBeUndefined();
    expect(existsSync(join(cells, cell, 'metrics.jsonl'))).toBe(true);
  }, 600_000);
});
