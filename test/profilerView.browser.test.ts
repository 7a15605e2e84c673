// The page's profiler view (src/ui/profilerView.ts) in the browser with the real device: turning
// profiling on profiles a training run the view knows nothing about (ambient profiling), the table
// lists its kernels with the scheduler's dispatch counts, turning it off stops collecting; "bench
// this device" renders one table row per bench row with "of peak" = gflops ÷ the peak.
import { describe, expect, test } from 'vitest';
import { gpuOrSkip, withErrorScopes } from './gpuFixture';
import { parseExperimentConfig } from '../src/experiments/config';
import { trainCell } from '../src/train/trainCell';
import { mountProfilerView } from '../src/ui/profilerView';
import { pageProfile } from '../src/ui/pageProfile';
import type { BenchRow } from '../src/kernels/family';

const tick = () => new Promise((r) => setTimeout(r, 0));

function tableRows(container: HTMLElement, id: string): string[][] {
  return [...container.querySelectorAll(`#${id} tbody tr`)].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? ''));
}

describe('profiler view', () => {
  test('profiles a run started elsewhere on the page, then stops', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    if (!gpu.hasTimestamps) return ctx.skip('this adapter has no timestamp-query feature');
    const container = document.createElement('section');
    document.body.append(container);
    const view = mountProfilerView(container, { gpu: Promise.resolve(gpu), bench: async () => [], refreshMs: 50 });
    try {
      await tick();
      const toggle = container.querySelector<HTMLInputElement>('#profiler-toggle')!;
      expect(toggle.disabled).toBe(false);
      toggle.checked = true;
      toggle.dispatchEvent(new Event('change'));
      const T = 2;
      const config = parseExperimentConfig({
        name: 'view-test',
        task: { N: 12, dIn: 12, dOut: 12, embedding: 'identity' },
        optimizers: [{ name: 'gd', lr: 2 }],
        training: { steps: T, runSeeds: [0] },
      });
      await withErrorScopes(gpu, () => trainCell(gpu, config));
      view.refresh();
      const rows = tableRows(container, 'profiler-table');
      const byKernel = new Map(rows.map((r) => [r[0], r]));
      // kernel, variant, dispatches, per step: one softmax gradient per step (T + 1 steps), the gd
      // passes and advance_runs on the T update steps.
      expect(byKernel.get('identity_softmax_grad')?.slice(1, 4)).toEqual(['identity_softmax_grad', String(T + 1), '1.00']);
      expect(byKernel.get('gd_update (check)')?.slice(2, 4)).toEqual([String(T), '1.00']);
      expect(byKernel.get('advance_runs')?.slice(2, 4)).toEqual([String(T), '1.00']);
      const shares = rows.map((r) => Number(r[4].replace('%', '')));
      expect(Math.abs(shares.reduce((a, b) => a + b, 0) - 100)).toBeLessThan(0.05 * rows.length + 1e-9);
      expect(container.querySelector('#profiler-summary')!.textContent).toMatch(/3 command buffers/);
      expect(container.querySelector<HTMLButtonElement>('#profiler-export-csv')!.disabled).toBe(false);
      // Off: a second run adds nothing.
      toggle.checked = false;
      toggle.dispatchEvent(new Event('change'));
      const before = pageProfile()!.dispatches;
      await trainCell(gpu, config);
      expect(pageProfile()!.dispatches).toBe(before);
    } finally {
      view.destroy();
      container.remove();
    }
  });

  test('bench this device: a row per bench row, of peak as given', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const container = document.createElement('section');
    document.body.append(container);
    const fake: BenchRow[] = [
      {
        kernel: 'matmul',
        variant: 'v1',
        shape: '8x8x8',
        runs: 3,
        medianMs: 2,
        minMs: 1,
        firstRunMs: 30,
        flops: 1024,
        gflops: 0.000512,
        timing: 'timestamp-query',
        peakFraction: 0.25,
      },
      {
        kernel: 'gather',
        variant: 'g',
        shape: '4 rows',
        runs: 3,
        medianMs: 1,
        minMs: 1,
        firstRunMs: 5,
        flops: 0,
        gflops: 0,
        timing: 'timestamp-query',
        peakFraction: null,
      },
    ];
    let asked: string[] = [];
    const view = mountProfilerView(container, {
      gpu: Promise.resolve(gpu),
      bench: async (kernels) => {
        asked = kernels;
        return fake;
      },
      defaultFamilies: ['matmul', 'gather'],
    });
    try {
      await tick();
      const button = container.querySelector<HTMLButtonElement>('#bench-device')!;
      button.click();
      for (let i = 0; i < 2000 && view.benchRows().length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      // The peak is measured once for the fractions of later profiles (fma-peak); wait for the table.
      for (let i = 0; i < 6000 && tableRows(container, 'bench-table').length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(asked).toEqual(['matmul', 'gather']);
      const rows = tableRows(container, 'bench-table');
      expect(rows.map((r) => [r[0], r[1], r[7]])).toEqual([
        ['matmul', 'v1', '25.0%'],
        ['gather', 'g', '—'],
      ]);
      expect(container.querySelector<HTMLButtonElement>('#bench-export-csv')!.disabled).toBe(false);
    } finally {
      view.destroy();
      container.remove();
    }
  });
});
