/**
 * The adapter panel: vendor, architecture, fallback or not, features and limits — or, when there is
 * no usable WebGPU, a message that says which case it is and what to do about it.
 */
import type { MuonlabPageApi, PageUnavailable } from './automation';

function element(tag: string, text: string, className?: string): HTMLElement {
  const el = document.createElement(tag);
  el.textContent = text;
  if (className) el.className = className;
  return el;
}

/** What to do, per reason: the page's user is a person in a browser, not the CLI. */
export function unavailableAdvice(env: PageUnavailable): { title: string; advice: string } {
  switch (env.reason) {
    case 'no-webgpu':
      return {
        title: 'WebGPU is missing in this browser (navigator.gpu is undefined).',
        advice:
          'Open the page in Chrome or Edge 113 or later (Safari 26 / Firefox 141 on some systems), served from https:// or http://localhost — ' +
          'WebGPU needs a secure context. On Linux Chrome, enable chrome://flags/#enable-unsafe-webgpu; headless Chromium needs --enable-unsafe-webgpu.',
      };
    case 'no-adapter':
      return {
        title: 'WebGPU is present but no adapter is available (requestAdapter() returned null).',
        advice:
          'WebGPU may be disabled or blocklisted for this GPU: check chrome://gpu. On Linux enable chrome://flags/#enable-unsafe-webgpu ' +
          '(and #enable-vulkan); headless Chromium needs --enable-unsafe-webgpu (Debian\'s "chromium" package adds a SwiftShader CPU fallback).',
      };
    default:
      return {
        title: 'The GPU adapter refused to create a device.',
        advice: 'Close other tabs that use the GPU and reload; if it persists, update the GPU driver or the browser.',
      };
  }
}

/** Fills `section` with the adapter (true) or the WebGPU-missing message (false). */
export async function showAdapter(section: HTMLElement, api: MuonlabPageApi): Promise<boolean> {
  const env = await api.env();
  section.replaceChildren(element('h2', 'Adapter'));
  if (!env.ok) {
    const { title, advice } = unavailableAdvice(env);
    const box = element('div', '', 'error gpu-missing');
    box.id = 'gpu-message';
    box.dataset.reason = env.reason;
    box.append(element('strong', title), element('p', advice), element('p', `Details: ${env.message}`, 'detail'));
    section.append(box);
    return false;
  }
  const a = env.adapter;
  const table = document.createElement('table');
  table.id = 'adapter-table';
  const rows: [string, string][] = [
    ['vendor', a.vendor || '—'],
    ['architecture', a.architecture || '—'],
    ['device', a.device || a.description || '—'],
    ['fallback adapter', a.isFallbackAdapter ? 'yes (CPU emulation: expect a few GFLOP/s; keep runs small)' : 'no'],
    ['features', env.features.join(', ') || '—'],
    ['max storage binding', `${(env.limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB`],
    ['max workgroup storage', `${(env.limits.maxComputeWorkgroupStorageSize / 1024).toFixed(0)} KiB`],
    ['max invocations / workgroup', String(env.limits.maxComputeInvocationsPerWorkgroup)],
  ];
  for (const [k, v] of rows) {
    const tr = document.createElement('tr');
    tr.dataset.key = k;
    tr.append(element('th', k), element('td', v));
    table.append(tr);
  }
  const details = document.createElement('details');
  details.append(element('summary', 'all limits'));
  const limits = document.createElement('table');
  for (const [k, v] of Object.entries(env.limits).sort()) {
    const tr = document.createElement('tr');
    tr.append(element('th', k), element('td', String(v)));
    limits.append(tr);
  }
  details.append(limits);
  section.append(table, details);
  return true;
}
