/**
 * The web page's entry: the adapter panel (or an actionable message when WebGPU is missing), the
 * experiment panel (presets, config form + JSON editor, run / pause / cancel, share link, exports),
 * the live plots, kernel checks and benchmarks, and the automation API the CLI drives headless.
 */
import { requestGpu, type Gpu } from '../gpu/device';
import { showAdapter } from './adapterPanel';
import { installAutomationApi } from './automation';
import { installExperimentPanel } from './experimentPanel';
import { PageRunner } from './pageRunner';
import { PlotPanel } from './plotPanel';
import { mountProfilerView } from './profilerView';
import { mountTransformerPanel } from './transformerPanel';
import type { RunState } from './runState';

/** What the page's own tests read (never needed by users). */
export interface MuonlabPageDebug {
  state(): RunState;
  plotDraws(): number;
  /** Destroys the GPU device, as a driver reset would (tests of the device-lost path). */
  loseDevice(): Promise<void>;
}

declare global {
  interface Window {
    muonlabPage?: MuonlabPageDebug;
  }
}

const gpuPromise: Promise<Gpu> = requestGpu();
gpuPromise.catch(() => {}); // reported by showAdapter(); not an unhandled rejection
const api = installAutomationApi(gpuPromise);

const adapterSection = document.querySelector<HTMLElement>('#adapter')!;
const log = document.querySelector<HTMLPreElement>('#log')!;
const checkButton = document.querySelector<HTMLButtonElement>('#run-check')!;
const benchButton = document.querySelector<HTMLButtonElement>('#run-bench')!;

let panel: { refresh(): void } | undefined = undefined;
const runner = new PageRunner(gpuPromise, () => {
  panel?.refresh();
  plots.request();
});
const plots = new PlotPanel(
  document.querySelector<HTMLElement>('#plot-grid')!,
  () => runner.state,
  () => {
    const s = runner.state.source;
    return s?.kind === 'preset'
      ? `${s.preset}-${s.scale}`
      : s?.kind === 'config'
        ? String((s.config as { name?: string }).name ?? 'run')
        : 'run';
  },
);

const gpuReady = showAdapter(adapterSection, api).catch((err) => {
  const p = document.createElement('p');
  p.className = 'error';
  p.textContent = `Error: ${(err as Error).message}`;
  adapterSection.append(p);
  return false;
});

panel = installExperimentPanel({ runner, gpuReady, env: () => api.env() });

gpuReady.then(async (ok) => {
  if (!ok) return;
  const gpu = await gpuPromise;
  gpu.lost.then((info) => {
    const p = document.createElement('p');
    p.className = 'error';
    p.id = 'device-lost';
    p.textContent = `The GPU device was lost (${info.reason || 'unknown'}: ${info.message}). Results read back so far stay on the page and can be exported; reload the page to start again.`;
    adapterSection.append(p);
  });
  checkButton.disabled = false;
  benchButton.disabled = false;
});

window.muonlabProgress ??= (message: string) => {
  log.textContent += `${message}\n`;
};

checkButton.addEventListener('click', async () => {
  checkButton.disabled = true;
  const rows = await api.check(['matmul']);
  const failed = rows.filter((r) => !r.pass);
  log.textContent += `${rows.length - failed.length}/${rows.length} cases pass\n`;
  for (const r of failed) log.textContent += `FAIL ${r.kernel} ${r.variant} ${r.caseId} ${r.error ?? `ratio ${r.worstRatio}`}\n`;
  checkButton.disabled = false;
});

benchButton.addEventListener('click', async () => {
  benchButton.disabled = true;
  const rows = await api.bench(['matmul'], { runs: 5 });
  for (const r of rows)
    log.textContent += `${r.kernel} ${r.variant} ${r.shape}: ${r.medianMs.toFixed(2)} ms, ${r.gflops.toFixed(2)} GFLOP/s${r.chosen ? ' (chosen)' : ''}\n`;
  benchButton.disabled = false;
});

mountTransformerPanel(document.querySelector<HTMLElement>('#transformer')!, gpuPromise);

mountProfilerView(document.querySelector<HTMLElement>('#profiler')!, { gpu: gpuPromise, bench: (kernels, o) => api.bench(kernels, o) });

window.muonlabPage = {
  state: () => runner.state,
  plotDraws: () => plots.draws,
  loseDevice: async () => (await gpuPromise).device.destroy(),
};
