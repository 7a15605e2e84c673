/**
 * The Node host: the same src/ (kernels, task, optimizers, scheduler, presets) on Dawn through the
 * `webgpu` npm package, without a browser. It serves the automation API of src/ui/automation.ts
 * directly (no page, no JSON bridge), so `muonlab … --host node` runs exactly what the page runs.
 * The WGSL reaches Node through src/gpu/shaderSources.ts like everywhere else (harness/loaderHooks.mjs
 * resolves its `?raw` imports).
 *
 * Adapter: the Vulkan driver is chosen before Dawn starts (harness/vulkan.ts: the user's
 * VK_DRIVER_FILES, the system's hardware drivers, an NVIDIA ICD found on disk, SwiftShader as the
 * labelled fallback). Dawn's robustness checks are disabled as in the browser host unless --robust.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { chromium, type Browser } from 'playwright';
import type { TrainMetricsRecord, TrainProgress } from '../src/train/records';
import type { MuonlabPageApi } from '../src/ui/automation';
import { defaultBrowserArgs, findChromium } from './flags';
import { NoAdapterError, type Session, type SessionOptions } from './session';
import { chooseVulkanDriver } from './vulkan';

const require = createRequire(import.meta.url);

/**
 * Dawn instances in use. dawn.node tears its instance down when the GPU object returned by
 * `create()` is garbage-collected, even while a device made from it lives: pending work then
 * crashes the process (a futex or mutex assertion in SwiftShader's threads). Holding them here keeps
 * each alive until its session closes.
 */
const liveInstances = new Set<GPU>();

/** Where the `webgpu` package lives (its ES entry) and its version; throws a NoAdapterError if absent. */
export function locateWebgpuPackage(): { entry: string; version: string; binding: string } {
  let entry: string;
  try {
    entry = require.resolve('webgpu');
  } catch (err) {
    throw new NoAdapterError(
      'no-browser',
      `the Node host needs the "webgpu" npm package (Dawn for Node): run npm ci (${(err as Error).message})`,
    );
  }
  const root = dirname(entry);
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const arch = process.platform === 'darwin' ? 'universal' : process.arch;
  return { entry, version, binding: join(root, 'dist', `${process.platform}-${arch}`, 'dawn.node') };
}

/** Dawn's instance options: the browser host's Dawn toggles, so both hosts compile the same code. */
export function dawnFlags(options: Pick<SessionOptions, 'robust'>): string[] {
  return options.robust ? [] : ['enable-dawn-features=disable_robustness'];
}

/**
 * Starts Dawn in this process, acquires the adapter and returns a Session over the automation API.
 *
 * @example
 * const session = await openNodeSession({ onProgress: console.log });
 * const rows = await session.call('check', ['matmul'], 'quick');
 * await session.close();
 */
export async function openNodeSession(options: SessionOptions = {}): Promise<Session> {
  const log = options.log ?? (() => {});
  const pkg = locateWebgpuPackage();
  const chromiumPath = findChromium()?.path;
  const choice = chooseVulkanDriver(pkg.entry, process.env, { chromiumPath });
  Object.assign(process.env, choice.env);
  // Vulkan's WSI code complains on stderr at every start when XDG_RUNTIME_DIR is unset (headless
  // machines, containers); give it a private folder, as a login session would.
  process.env.XDG_RUNTIME_DIR ??= mkdtempSync(join(tmpdir(), 'muonlab-xdg-'));
  log(`node host: ${choice.reason}`);
  const { create, globals } = (await import('webgpu')) as { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  // GPUBufferUsage, GPUMapMode, GPUShaderStage…: what src/ reads as globals in a page.
  Object.assign(globalThis, globals);
  const flags = dawnFlags(options);
  const entry = create(flags);
  liveInstances.add(entry);
  const [{ requestGpu }, { createAutomationApi }] = await Promise.all([import('../src/gpu/device'), import('../src/ui/automation')]);
  const gpuPromise = requestGpu({ gpu: entry });
  gpuPromise.catch(() => {}); // reported through env() below
  const api: MuonlabPageApi = createAutomationApi(gpuPromise, {
    userAgent: `Node ${process.version}; webgpu ${pkg.version} (Dawn)`,
    progress: (m) => options.onProgress?.(m),
    trainProgress: (e: TrainProgress) => options.onTrainProgress?.(e),
    record: (cell: string, r: TrainMetricsRecord) => options.onRecord?.(cell, r),
    perItem: (cell, arrays) => options.onPerItem?.(cell, arrays),
    transformerRecord: (r) => options.onTransformerRecord?.(r),
    checkpoint: (data, step) => options.onCheckpoint?.(data, step),
  });
  const env = await api.env();
  if (!env.ok) {
    liveInstances.delete(entry);
    throw new NoAdapterError(
      env.reason === 'device-request-failed' ? 'device-request-failed' : 'adapter-null',
      `host node: Dawn (webgpu ${pkg.version}) found no usable adapter (${env.reason === 'device-request-failed' ? env.message : 'requestAdapter() returned null'}).\n` +
        `tried: ${choice.reason}.\n` +
        'Install a Vulkan loader and driver (Debian: "libvulkan1" plus your GPU driver, or "chromium" for SwiftShader), ' +
        "or point VK_DRIVER_FILES at a driver's ICD json; or use --host browser.",
    );
  }
  let renderer: Promise<Browser | undefined> | undefined;
  return {
    host: 'node',
    location: { path: pkg.binding, source: 'webgpu npm package' },
    browserVersion: `webgpu ${pkg.version} (Dawn), Node ${process.version}`,
    flags,
    env,
    adapterChoice: { source: choice.source, reason: choice.reason },
    renderer: () => {
      // PNGs of the plots need a browser; launched once, only when a report is written. Ctrl-C is the
      // CLI's (it saves what finished, then exits 130), not Playwright's.
      renderer ??= chromiumPath
        ? Promise.resolve()
            .then(() =>
              chromium.launch({
                executablePath: chromiumPath,
                headless: true,
                args: defaultBrowserArgs({ robust: true }),
                handleSIGINT: false,
                handleSIGTERM: false,
              }),
            )
            .catch((err: Error) => {
              log(`PNG plots skipped: could not launch ${chromiumPath} (${err.message})`);
              return undefined;
            })
        : Promise.resolve(undefined);
      return renderer;
    },
    loseDevice: async () => {
      (await gpuPromise).device.destroy();
    },
    // A JSON round trip, as the page bridge does: callers see the same plain data from both hosts.
    call: async (method, ...args) => {
      const fn = api[method] as (...a: unknown[]) => Promise<unknown>;
      const result = await fn(...(JSON.parse(JSON.stringify(args)) as unknown[]));
      return (result === undefined ? undefined : JSON.parse(JSON.stringify(result))) as never;
    },
    close: async () => {
      const browser = await renderer;
      await browser?.close();
      (await gpuPromise.catch(() => undefined))?.device.destroy();
      liveInstances.delete(entry);
    },
  };
}
