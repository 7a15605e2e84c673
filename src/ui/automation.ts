/**
 * The page's automation API, `window.muonlab`: what the Node harness (harness/session.ts) calls
 * through Playwright. Methods take and return plain JSON; progress goes back through
 * `window.muonlabProgress` when the harness exposes it, so long work reports as it goes and a crash
 * loses only what was in flight.
 */
import { GpuUnavailableError, requestGpu, type Gpu } from '../gpu/device';
import type { BenchOptions, BenchRow, CheckRow } from '../kernels/families';
import { kernelFamily } from '../kernels';
import { selectVariants, type SelectionResult } from '../kernels/selectVariants';
import { setVariantChoices, variantChoices, type VariantTable } from '../kernels/variants';

export interface PageEnv {
  ok: true;
  userAgent: string;
  adapter: Gpu['adapterInfo'];
  features: string[];
  limits: Record<string, number>;
  variants: VariantTable;
}

export interface PageUnavailable {
  ok: false;
  reason: GpuUnavailableError['reason'];
  message: string;
  userAgent: string;
}

export interface MuonlabPageApi {
  ready: true;
  env(): Promise<PageEnv | PageUnavailable>;
  setVariantChoices(table: VariantTable): Promise<void>;
  selectVariants(): Promise<SelectionResult>;
  check(kernels: string[], scope?: 'full' | 'quick'): Promise<CheckRow[]>;
  bench(kernels: string[], options?: Omit<BenchOptions, 'onProgress'>): Promise<BenchRow[]>;
}

declare global {
  interface Window {
    muonlab?: MuonlabPageApi;
    muonlabProgress?: (message: string) => void;
  }
}

function progress(message: string): void {
  window.muonlabProgress?.(message);
}

/** Installs `window.muonlab`; the GPU is acquired on first use and shared by every call. */
export function installAutomationApi(gpuPromise: Promise<Gpu>): MuonlabPageApi {
  const api: MuonlabPageApi = {
    ready: true,
    async env() {
      try {
        const gpu = await gpuPromise;
        return {
          ok: true,
          userAgent: navigator.userAgent,
          adapter: gpu.adapterInfo,
          features: gpu.features,
          limits: gpu.limits,
          variants: variantChoices(gpu),
        };
      } catch (err) {
        if (err instanceof GpuUnavailableError) {
          return { ok: false, reason: err.reason, message: err.message, userAgent: navigator.userAgent };
        }
        throw err;
      }
    },
    async setVariantChoices(table) {
      setVariantChoices(await gpuPromise, table);
    },
    async selectVariants() {
      return selectVariants(await gpuPromise, progress);
    },
    async check(kernels, scope = 'full') {
      const gpu = await gpuPromise;
      const rows: CheckRow[] = [];
      for (const name of kernels) {
        progress(`check ${name}`);
        rows.push(...(await kernelFamily(name).check(gpu, { scope })));
      }
      return rows;
    },
    async bench(kernels, options = {}) {
      const gpu = await gpuPromise;
      const rows: BenchRow[] = [];
      for (const name of kernels) {
        rows.push(...(await kernelFamily(name).bench(gpu, { ...options, onProgress: progress })));
      }
      return rows;
    },
  };
  window.muonlab = api;
  return api;
}
