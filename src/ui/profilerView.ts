/**
 * The page's profiler view, mounted into `<section id="profiler">`: (1) the run profile — per-kernel
 * GPU time of what the page runs while profiling is on (dispatches, per step, share, GFLOP/s, GB/s,
 * the variant, fractions of this adapter's peak), refreshed while it runs, exportable as JSON/CSV;
 * (2) "bench this device" — the kernel benchmarks of the chosen families with a results table
 * (GFLOP/s also as % of the fma-peak) and JSON/CSV export.
 */
import type { Gpu } from '../gpu/device';
import type { RunProfile } from '../gpu/runProfile';
import { BENCH_CSV_COLUMNS, profileCsv, profileSummaryLine, profileTable, toCsv, type TextTable } from '../gpu/profileTable';
import type { BenchRow } from '../kernels/family';
import { KERNEL_NAMES } from '../kernels/index';
import { downloadText } from './download';
import { knownPagePeak, measurePagePeak, pageProfile, pageProfilingOn, startPageProfiling, stopPageProfiling } from './pageProfile';

export interface ProfilerViewOptions {
  gpu: Promise<Gpu>;
  /** Runs kernel benchmarks (the automation API's bench: rows carry peakFraction). */
  bench: (kernels: string[], options: { runs?: number }) => Promise<BenchRow[]>;
  /** Families checked by default for "bench this device" (default: fma-peak, matmul, softmax-grad). */
  defaultFamilies?: string[];
  /** Refresh period of the live profile table in ms (default 1000). */
  refreshMs?: number;
}

export interface ProfilerView {
  /** Redraws the profile table now. */
  refresh(): void;
  /** The rows of the last bench (empty before the first). */
  benchRows(): BenchRow[];
  destroy(): void;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function renderTable(table: TextTable, className: string): HTMLTableElement {
  const head = el('tr', {}, ...table.headers.map((h) => el('th', { textContent: h })));
  const body = table.rows.map((r) => el('tr', {}, ...r.map((c) => el('td', { textContent: c }))));
  return el('table', { className }, el('thead', {}, head), el('tbody', {}, ...body));
}

const pct = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : `${(100 * x).toFixed(1)}%`);

function benchTable(rows: BenchRow[]): TextTable {
  return {
    headers: ['kernel', 'variant', 'shape', 'runs', 'median ms', 'first ms', 'GFLOP/s', 'of peak', 'GB/s', 'chosen', 'note'],
    rows: rows.map((r) => [
      r.kernel,
      r.variant,
      r.shape,
      String(r.runs),
      r.medianMs.toFixed(3),
      r.firstRunMs.toFixed(0),
      r.flops > 0 ? r.gflops.toFixed(2) : '—',
      pct(r.peakFraction),
      r.gbps !== undefined ? r.gbps.toFixed(2) : '—',
      r.chosen ? '*' : '',
      r.note ?? '',
    ]),
  };
}

/**
 * Builds the view inside `container` (its content is replaced).
 *
 * @example
 * mountProfilerView(document.querySelector('#profiler')!, { gpu: gpuPromise, bench: (k, o) => api.bench(k, o) });
 */
export function mountProfilerView(container: HTMLElement, options: ProfilerViewOptions): ProfilerView {
  const status = el('p', { className: 'profiler-status', id: 'profiler-status' });
  const toggle = el('input', { type: 'checkbox', id: 'profiler-toggle', disabled: true });
  const reset = el('button', { textContent: 'Reset', id: 'profiler-reset', disabled: true });
  const peakButton = el('button', { textContent: 'Measure peak (fma-peak)', id: 'profiler-peak', disabled: true });
  const exportJson = el('button', { textContent: 'JSON', id: 'profiler-export-json', disabled: true });
  const exportCsv = el('button', { textContent: 'CSV', id: 'profiler-export-csv', disabled: true });
  const summary = el('p', { className: 'hint', id: 'profiler-summary' });
  const tableBox = el('div', { id: 'profiler-table' });

  const families = options.defaultFamilies ?? ['fma-peak', 'matmul', 'softmax-grad'];
  const boxes = KERNEL_NAMES.map((name) => el('input', { type: 'checkbox', value: name, checked: families.includes(name) }));
  const runsInput = el('input', { type: 'number', min: '1', max: '100', value: '3', id: 'bench-runs' });
  runsInput.style.width = '4em';
  const benchButton = el('button', { textContent: 'Bench this device', id: 'bench-device', disabled: true });
  const benchJson = el('button', { textContent: 'JSON', id: 'bench-export-json', disabled: true });
  const benchCsv = el('button', { textContent: 'CSV', id: 'bench-export-csv', disabled: true });
  const benchStatus = el('p', { className: 'hint', id: 'bench-status' });
  const benchBox = el('div', { id: 'bench-table' });
  let rows: BenchRow[] = [];
  let shown = '';

  container.replaceChildren(
    el('h2', { textContent: 'Profiler' }),
    el(
      'p',
      {},
      el('label', {}, toggle, ' Profile the GPU work of runs started on this page'),
      ' ',
      reset,
      ' ',
      peakButton,
      ' Export: ',
      exportJson,
      ' ',
      exportCsv,
    ),
    el('p', {
      className: 'hint',
      textContent:
        'Per-kernel GPU time from timestamp queries; while on, each step waits for its timestamps (runs slow down a little). GFLOP/s and GB/s come from the FLOP/byte counts of each dispatch; “of peak” is against this adapter’s FMA peak.',
    }),
    status,
    summary,
    tableBox,
    el('h3', { textContent: 'Bench this device' }),
    el(
      'p',
      {},
      ...boxes.flatMap((b) => [el('label', {}, b, ` ${b.value}`), ' ']),
      el('label', {}, ' runs ', runsInput),
      ' ',
      benchButton,
      ' Export: ',
      benchJson,
      ' ',
      benchCsv,
    ),
    benchStatus,
    benchBox,
  );

  const draw = () => {
    const profile: RunProfile | null = pageProfile();
    exportJson.disabled = exportCsv.disabled = !profile;
    if (!profile) {
      summary.textContent = pageProfilingOn() ? 'Profiling: start a run above.' : 'Off. Tick the box, then run a preset or a config.';
      tableBox.replaceChildren();
      return;
    }
    const key = JSON.stringify([profile.dispatches, profile.totalGpuMs, profile.peak]);
    if (key === shown) return;
    shown = key;
    summary.textContent = profileSummaryLine(profile);
    tableBox.replaceChildren(renderTable(profileTable(profile), 'profile-table'));
  };
  const timer = setInterval(() => {
    if (pageProfilingOn()) draw();
  }, options.refreshMs ?? 1000);

  options.gpu.then(
    (gpu) => {
      if (!gpu.hasTimestamps) {
        status.textContent =
          'This adapter has no timestamp-query feature: per-kernel GPU time cannot be measured here (the benchmarks below time wall-clock).';
      } else {
        toggle.disabled = reset.disabled = false;
      }
      peakButton.disabled = benchButton.disabled = false;
      toggle.addEventListener('change', () => {
        try {
          if (toggle.checked) startPageProfiling(gpu);
          else stopPageProfiling();
          status.textContent = toggle.checked ? 'Profiling is on.' : 'Profiling is off (the last profile stays).';
        } catch (err) {
          toggle.checked = false;
          status.textContent = (err as Error).message;
        }
        shown = '';
        draw();
      });
      reset.addEventListener('click', () => {
        if (pageProfilingOn()) startPageProfiling(gpu);
        shown = '';
        draw();
      });
      peakButton.addEventListener('click', async () => {
        peakButton.disabled = true;
        status.textContent = 'Measuring the FMA peak and copy bandwidth…';
        try {
          const p = await measurePagePeak(gpu, (m) => (status.textContent = m));
          status.textContent = `Peak: ${p.gflops.toFixed(2)} GFLOP/s, ${p.gbps?.toFixed(2) ?? '—'} GB/s (${p.fma.invocations} invocations × ${p.fma.iterations} trips, median of ${p.fma.runs}).`;
        } catch (err) {
          status.textContent = `Peak measurement failed: ${(err as Error).message}`;
        }
        peakButton.disabled = false;
        shown = '';
        draw();
      });
    },
    (err) => {
      status.textContent = `No GPU: ${(err as Error).message}`;
    },
  );

  benchButton.addEventListener('click', async () => {
    const kernels = boxes.filter((b) => b.checked).map((b) => b.value);
    if (kernels.length === 0) {
      benchStatus.textContent = 'Pick at least one kernel family.';
      return;
    }
    const runs = Number(runsInput.value);
    if (!Number.isInteger(runs) || runs < 1 || runs > 100) {
      benchStatus.textContent = `runs must be an integer from 1 to 100, got "${runsInput.value}"`;
      return;
    }
    benchButton.disabled = true;
    benchStatus.textContent = `Benchmarking ${kernels.join(', ')} (${runs} timed runs each)…`;
    try {
      rows = await options.bench(kernels, { runs });
      const gpu = await options.gpu;
      if (!knownPagePeak()) await measurePagePeak(gpu); // the bench measured it: this only remembers it
      benchStatus.textContent = `${rows.length} rows; peak ${knownPagePeak()?.gflops.toFixed(2)} GFLOP/s.`;
      benchBox.replaceChildren(renderTable(benchTable(rows), 'bench-table'));
      benchJson.disabled = benchCsv.disabled = false;
      shown = '';
      draw();
    } catch (err) {
      benchStatus.textContent = `Bench failed: ${(err as Error).message}`;
    }
    benchButton.disabled = false;
  });

  const stamp = () => new Date().toISOString().replace(/[:.]/g, '-');
  exportJson.addEventListener('click', () => {
    const p = pageProfile();
    if (p) downloadText(`muonlab-profile-${stamp()}.json`, `${JSON.stringify(p, null, 2)}\n`, 'application/json');
  });
  exportCsv.addEventListener('click', () => {
    const p = pageProfile();
    if (p) downloadText(`muonlab-profile-${stamp()}.csv`, profileCsv(p), 'text/csv');
  });
  benchJson.addEventListener('click', () => {
    const peak = knownPagePeak();
    downloadText(
      `muonlab-bench-${stamp()}.json`,
      `${JSON.stringify({ schema: 'muonlab.page-bench/1', peak: peak && { gflops: peak.gflops, gbps: peak.gbps }, rows }, null, 2)}\n`,
      'application/json',
    );
  });
  benchCsv.addEventListener('click', () => downloadText(`muonlab-bench-${stamp()}.csv`, toCsv(BENCH_CSV_COLUMNS, rows), 'text/csv'));

  draw();
  return {
    refresh: () => {
      shown = '';
      draw();
    },
    benchRows: () => rows,
    destroy: () => clearInterval(timer),
  };
}
