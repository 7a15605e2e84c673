/**
 * The web page's entry: shows the adapter (or an actionable message when WebGPU is missing), offers
 * kernel checks and benchmarks, and installs the automation API the CLI drives headless.
 */
import { requestGpu, type Gpu } from '../gpu/device';
import { installAutomationApi } from './automation';

const gpuPromise: Promise<Gpu> = requestGpu();
gpuPromise.catch(() => {}); // reported by showAdapter(); not an unhandled rejection
const api = installAutomationApi(gpuPromise);

const adapterSection = document.querySelector<HTMLElement>('#adapter')!;
const log = document.querySelector<HTMLPreElement>('#log')!;
const checkButton = document.querySelector<HTMLButtonElement>('#run-check')!;
const benchButton = document.querySelector<HTMLButtonElement>('#run-bench')!;

function element(tag: string, text: string, className?: string): HTMLElement {
  const el = document.createElement(tag);
  el.textContent = text;
  if (className) el.className = className;
  return el;
}

async function showAdapter(): Promise<void> {
  const env = await api.env();
  adapterSection.replaceChildren(element('h2', 'Adapter'));
  if (!env.ok) {
    adapterSection.append(element('p', `WebGPU unavailable (${env.reason}): ${env.message}`, 'error'));
    return;
  }
  const a = env.adapter;
  const table = document.createElement('table');
  const rows: [string, string][] = [
    ['vendor', a.vendor || '—'],
    ['architecture', a.architecture || '—'],
    ['fallback adapter', a.isFallbackAdapter ? 'yes (CPU emulation: expect a few GFLOP/s)' : 'no'],
    ['features', env.features.join(', ')],
    ['max storage binding', `${(env.limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB`],
    ['max workgroup storage', `${(env.limits.maxComputeWorkgroupStorageSize / 1024).toFixed(0)} KiB`],
  ];
  for (const [k, v] of rows) {
    const tr = document.createElement('tr');
    tr.append(element('th', k), element('td', v));
    table.append(tr);
  }
  adapterSection.append(table);
  const gpu = await gpuPromise;
  gpu.lost.then((info) => {
    adapterSection.append(element('p', `The GPU device was lost (${info.reason}): ${info.message}. Reload the page to start again.`, 'error'));
  });
  checkButton.disabled = false;
  benchButton.disabled = false;
}

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
  for (const r of rows) log.textContent += `${r.kernel} ${r.variant} ${r.shape}: ${r.medianMs.toFixed(2)} ms, ${r.gflops.toFixed(2)} GFLOP/s${r.chosen ? ' (chosen)' : ''}\n`;
  benchButton.disabled = false;
});

showAdapter().catch((err) => {
  adapterSection.append(element('p', `Error: ${(err as Error).message}`, 'error'));
});
