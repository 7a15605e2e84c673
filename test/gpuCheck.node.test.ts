// The GPU bundle and gpu-check.sh end to end, on this machine's adapter (SwiftShader here): `npm run
// gpu-bundle`'s folder stays under 60 MiB; the script unpacks Node, Dawn and the bundled CLI into a
// temporary folder and, on the Node host, writes the adapter (labelled a fallback here), a full
// `muonlab check` (every family; all rows pass), a bench and a preset run at ci scale, with a
// summary. This is also the Node host's run of every kernel check (the browser host's are the
// *.browser.test.ts files). Skipped, with the reason, where tar/xz are missing; CI has them.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { writeGpuBundle } from '../harness/gpuBundle';
import { KERNEL_FAMILIES } from '../src/kernels/index';
import { CheckReportSchema } from '../src/experiments/results';

const tools = ['tar', 'xz', 'bash', 'timeout'].filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const work = mkdtempSync(join(tmpdir(), 'muonlab-gpucheck-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.skipIf(tools.length > 0)(`gpu-check.sh on this machine${tools.length ? ` (skipped: ${tools.join(', ')} missing)` : ''}`, () => {
  test('bundle under 60 MiB; the script checks, benches and runs a preset on the Node host', { timeout: 2_000_000 }, async () => {
    const bundle = await writeGpuBundle({ out: join(work, 'bundle'), xzLevel: 0 });
    expect(Object.keys(bundle.files).sort()).toEqual(['gpu-check.sh', 'muonlab-gpu.tar.xz']);
    // At xz -0 the archive is larger than the -6 that `npm run gpu-bundle` writes (28 MiB measured).
    expect(bundle.bytes).toBeLessThan(60 * 2 ** 20);

    const out = join(work, 'out');
    const run = spawnSync(join(bundle.dir, 'gpu-check.sh'), [out], {
      encoding: 'utf8',
      timeout: 1_900_000,
      env: {
        ...process.env,
        GPU_CHECK_SCALE: 'ci',
        GPU_CHECK_PRESETS: 'a-noiseless',
        GPU_CHECK_BENCH: 'fma-peak',
        GPU_CHECK_SMALL: '1',
        // Steps are capped at shares of the budget; the variant selection inside `env` alone took 175 s
        // at load 22 on this 2-core machine, so the cap is set far above a quiet run's ~80 s in all.
        GPU_CHECK_BUDGET_S: '1800',
      },
    });
    const summary = existsSync(join(out, 'summary.txt')) ? readFileSync(join(out, 'summary.txt'), 'utf8') : '';
    const logs = ['env', 'check']
      .map((s) => join(out, `${s}.log`))
      .filter(existsSync)
      .map((f) => `--- ${f}\n${readFileSync(f, 'utf8').slice(-3000)}`);
    expect(run.status, `${run.stdout}\n${run.stderr}\n${logs.join('\n')}`).toBe(0);
    expect(summary).toMatch(/^host +node$/m);
    expect(summary).toMatch(/FALLBACK adapter/);
    for (const step of ['env', 'check', 'bench-fma-peak', 'run-a-noiseless-ci']) expect(summary).toMatch(new RegExp(`^ok +${step} `, 'm'));

    const env = JSON.parse(readFileSync(join(out, 'env.json'), 'utf8')) as {
      host: string;
      adapter: { isFallbackAdapter: boolean };
      adapterChoice?: { source: string };
    };
    expect(env.host).toBe('node');
    expect(env.adapter.isFallbackAdapter).toBe(true);
    expect(env.adapterChoice?.source).toBeDefined();

    const check = CheckReportSchema.parse(JSON.parse(readFileSync(join(out, 'check.json'), 'utf8')));
    const failed = check.rows.filter((r) => !r.pass);
    expect(failed, failed.map((r) => `${r.kernel} ${r.variant} ${r.caseId}: ${r.error ?? r.worstRatio}`).join('\n')).toEqual([]);
    // Every family's every case ran (a family with variants reports each case once per variant).
    for (const f of KERNEL_FAMILIES) {
      const ids = new Set(check.rows.filter((r) => r.kernel === f.name).map((r) => r.caseId));
      for (const id of f.checkCases('full')) expect(ids.has(id), `${f.name}: ${id}`).toBe(true);
    }

    const bench = JSON.parse(readFileSync(join(out, 'bench-fma-peak.json'), 'utf8')) as { rows: { gflops: number }[] };
    expect(bench.rows[0].gflops).toBeGreaterThan(0);
    const preset = JSON.parse(readFileSync(join(out, 'runs', 'a-noiseless-ci', 'summary.json'), 'utf8')) as {
      preset: string;
      predictions: unknown[];
    };
    expect(preset.preset).toBe('a-noiseless');
    expect(preset.predictions.length).toBeGreaterThan(0);
    expect(summary).toMatch(/a-noiseless ci: \d+ agree/);
  });
});
