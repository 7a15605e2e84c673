/**
 * One headless Chromium with the muonlab page loaded: the Node end of the Node ⇄ page protocol.
 * Methods of `window.muonlab` (src/ui/automation.ts) are called with JSON arguments; progress
 * messages come back while they run. A missing browser, disabled WebGPU or a null adapter becomes
 * a NoAdapterError with the reason and what to do (the CLI exits 2 on it).
 */
import { chromium, type Browser, type Page } from 'playwright';
import type { EncodedPerItem, MuonlabPageApi, PageEnv, PageUnavailable } from '../src/ui/automation';
import type { TrainMetricsRecord, TrainProgress } from '../src/train/records';
import type { TransformerRecord } from '../src/model/trainer';
import { defaultBrowserArgs, findChromium, gpuDevicePresent, hardwareWebgpuArgs, INSTALL_ADVICE, type BrowserLocation } from './flags';
import { ensureAppBuilt, serveStatic } from './server';

export type NoAdapterReason = 'no-browser' | 'webgpu-disabled' | 'adapter-null' | 'device-request-failed';

export class NoAdapterError extends Error {
  constructor(
    readonly reason: NoAdapterReason,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'NoAdapterError';
  }
}

export interface SessionOptions {
  /** Extra Chromium flags (`--browser-arg`), appended after the defaults. */
  browserArgs?: string[];
  /** Drop the default flags (then give your own with browserArgs). */
  noDefaultArgs?: boolean;
  /** Keep Dawn's robustness checks (omit --enable-dawn-features=disable_robustness). */
  robust?: boolean;
  headed?: boolean;
  log?: (message: string) => void;
  onProgress?: (message: string) => void;
  /** Training streams (`muonlab run`): each arrives as soon as the page has it. */
  onTrainProgress?: (event: TrainProgress) => void;
  onRecord?: (cell: string, record: TrainMetricsRecord) => void;
  onPerItem?: (cell: string, arrays: EncodedPerItem) => void;
  /** Transformer runs (harness/transformerRun.ts): records, and checkpoints as base64 (awaited). */
  onTransformerRecord?: (record: TransformerRecord) => void;
  onCheckpoint?: (base64: string, step: number) => void | Promise<void>;
}

type ApiMethod = Exclude<keyof MuonlabPageApi, 'ready'>;

/** Where the kernels run: the page in headless Chromium, or Node on Dawn (harness/nodeHost.ts). */
export type HostName = 'browser' | 'node';
export const HOST_NAMES = ['browser', 'node'] as const;

/** How the adapter was chosen and why (the Node host's Vulkan driver choice; the browser's flags). */
export interface AdapterChoice {
  source: string;
  reason: string;
}

export interface Session {
  host: HostName;
  /** The browser of the browser host (absent on the Node host). */
  browser?: Browser;
  page?: Page;
  /** The browser's executable, or on the Node host Dawn's binding (dawn.node). */
  location: { path: string; source: string };
  browserVersion: string;
  flags: string[];
  env: PageEnv;
  adapterChoice?: AdapterChoice;
  /** A browser that renders SVG plots to PNG: the session's own, or one launched on first use by the Node host; undefined when none is installed. */
  renderer(): Promise<Browser | undefined>;
  /** Fault injection for tests (Node host): destroys the device as a driver reset would. */
  loseDevice?(): Promise<void>;
  call<M extends ApiMethod>(method: M, ...args: Parameters<MuonlabPageApi[M]>): Promise<Awaited<ReturnType<MuonlabPageApi[M]>>>;
  close(): Promise<void>;
}

export function locateBrowser(): BrowserLocation {
  let playwrightPath: string | undefined;
  try {
    playwrightPath = chromium.executablePath();
  } catch {
    playwrightPath = undefined;
  }
  let found: BrowserLocation | null;
  try {
    found = findChromium(playwrightPath);
  } catch (err) {
    throw new NoAdapterError('no-browser', (err as Error).message);
  }
  if (!found) throw new NoAdapterError('no-browser', INSTALL_ADVICE);
  return found;
}

/** One launch of Chromium with the page open and its adapter reported (env.ok false: none usable). */
interface Launched {
  browser: Browser;
  page: Page;
  env: PageEnv | PageUnavailable;
}

async function launchWithPage(location: BrowserLocation, flags: string[], url: string, options: SessionOptions): Promise<Launched> {
  const log = options.log ?? (() => {});
  log(`launching ${location.path} (${location.source})`);
  let browser: Browser;
  try {
    // Ctrl-C is the CLI's to handle (save what finished, exit 130): Playwright's own handler would
    // kill the browser and exit 130 before anything is saved.
    browser = await chromium.launch({
      executablePath: location.path,
      headless: !options.headed,
      args: flags,
      timeout: 60_000,
      handleSIGINT: false,
      handleSIGTERM: false,
    });
  } catch (err) {
    // A path that exists but is not a working Chromium (CHROMIUM_PATH=/bin/true, a broken
    // install): "no usable browser" — exit 2 with what was tried, not a Playwright stack.
    const first = ((err as Error).message ?? String(err)).split('\n').find((l) => l.trim()) ?? '';
    throw new NoAdapterError(
      'no-browser',
      `${location.path} (${location.source}) could not be started as a Chromium browser: ${first.replace(/^browserType\.launch:\s*/, '')}\n${INSTALL_ADVICE}`,
      { cause: err },
    );
  }
  try {
    const page = await browser.newPage();
    page.on('pageerror', (err) => log(`page error: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') log(`page console: ${msg.text()}`);
    });
    await page.exposeFunction('muonlabProgress', (message: string) => options.onProgress?.(message));
    await page.exposeFunction('muonlabTrainProgress', (event: TrainProgress) => options.onTrainProgress?.(event));
    await page.exposeFunction('muonlabRecord', (cell: string, record: TrainMetricsRecord) => options.onRecord?.(cell, record));
    await page.exposeFunction('muonlabPerItem', (cell: string, arrays: EncodedPerItem) => options.onPerItem?.(cell, arrays));
    await page.exposeFunction('muonlabTransformerRecord', (record: TransformerRecord) => options.onTransformerRecord?.(record));
    await page.exposeFunction('muonlabCheckpoint', async (data: string, step: number) => options.onCheckpoint?.(data, step));
    await page.goto(url);
    await page.waitForFunction(() => window.muonlab?.ready === true, undefined, { timeout: 60_000 });
    const env = await page.evaluate(() => window.muonlab!.env());
    return { browser, page, env };
  } catch (err) {
    await browser.close().catch(() => {});
    throw err;
  }
}

/** An error thrown in the page (or by Playwright around it). */
export class PageError extends Error {
  constructor(
    message: string,
    readonly method: string,
    readonly pageStack: string,
  ) {
    super(message);
    this.name = 'PageError';
  }
}

/**
 * A page error as its own message: without Playwright's "page.evaluate:" prefix and the page's
 * minified stack lines (`at je (http://127.0.0.1:…/assets/index-….js`), which are kept in
 * `pageStack` for --debug. The error's class name (RangeError, …) stays in front.
 */
function pageError(err: unknown, method: string): Error {
  const text = (err as Error)?.message ?? String(err);
  const lines = text.replace(/^page\.evaluate:\s*/, '').split('\n');
  const message = lines
    .filter((l) => !/^\s+at\s/.test(l))
    .join('\n')
    .trim();
  const out = new PageError(message.replace(/^(Error|RangeError|TypeError|SyntaxError):\s*/, ''), method, text);
  out.stack = `${out.name}: ${out.message}\n(in the page, ${method})\n${text}`;
  return out;
}

/**
 * Launches Chromium, serves and opens the page, and checks the adapter. With the default flags on
 * a machine with a GPU device it first asks for a hardware adapter (hardwareWebgpuArgs) and falls
 * back to SwiftShader — Chromium's default WebGPU adapter without a GPU — only when that launch
 * gives none or a fallback adapter; `adapterChoice` says which it got and why.
 *
 * @example
 * const session = await openSession({ onProgress: console.log });
 * const rows = await session.call('check', ['matmul']);
 * await session.close();
 */
export async function openSession(options: SessionOptions = {}): Promise<Session> {
  const log = options.log ?? (() => {});
  const location = locateBrowser();
  const base = [...(options.noDefaultArgs ? [] : defaultBrowserArgs({ robust: options.robust })), ...(options.browserArgs ?? [])];
  const gpuHint = gpuDevicePresent();
  const hardware = hardwareWebgpuArgs();
  const tryHardware = !options.noDefaultArgs && hardware.length > 0 && gpuHint.present && process.env.MUONLAB_ADAPTER !== 'swiftshader';
  const appDir = await ensureAppBuilt(log);
  const server = await serveStatic(appDir);
  let launched: Launched | undefined;
  let flags = base;
  let adapterChoice: AdapterChoice;
  try {
    let hardwareOutcome =
      hardware.length === 0
        ? 'this platform needs no flags for a hardware adapter'
        : `not tried: ${process.env.MUONLAB_ADAPTER === 'swiftshader' ? 'MUONLAB_ADAPTER=swiftshader' : options.noDefaultArgs ? '--no-default-browser-args' : gpuHint.why}`;
    if (tryHardware) {
      const hwFlags = [...base, ...hardware];
      try {
        const attempt = await launchWithPage(location, hwFlags, server.url, options);
        if (attempt.env.ok && !attempt.env.adapter.isFallbackAdapter) {
          launched = attempt;
          flags = hwFlags;
        } else {
          hardwareOutcome = attempt.env.ok
            ? `the hardware flags gave a fallback adapter (${attempt.env.adapter.description || attempt.env.adapter.architecture})`
            : `the hardware flags gave no adapter (${attempt.env.message})`;
          await attempt.browser.close();
        }
      } catch (err) {
        hardwareOutcome = `Chromium with the hardware flags failed (${(err as Error).message.split('\n')[0]})`;
      }
      if (!launched) log(`no hardware adapter: ${hardwareOutcome}; falling back to the default flags (SwiftShader)`);
    }
    launched ??= await launchWithPage(location, flags, server.url, options);
    const { env } = launched;
    if (!env.ok) {
      // Chromium on Linux exposes navigator.gpu but returns a null adapter until WebGPU is enabled
      // with --enable-unsafe-webgpu: without that flag, a null adapter means "disabled".
      const flagMissing = !flags.includes('--enable-unsafe-webgpu');
      const reason: NoAdapterReason =
        env.reason === 'no-webgpu' || (env.reason === 'no-adapter' && flagMissing)
          ? 'webgpu-disabled'
          : env.reason === 'no-adapter'
            ? 'adapter-null'
            : 'device-request-failed';
      const advice =
        reason === 'webgpu-disabled'
          ? `Chromium was found (${location.path}) but WebGPU is disabled in it${flagMissing ? ' (the flag --enable-unsafe-webgpu is missing: --no-default-browser-args removed it; add --browser-arg=--enable-unsafe-webgpu)' : ' — this build may lack WebGPU (needs Chromium ≥ 113)'}.`
          : reason === 'adapter-null'
            ? `Chromium was found (${location.path}) with WebGPU enabled, but requestAdapter() returned null: no GPU and no SwiftShader fallback. Debian/Ubuntu's "chromium" package ships SwiftShader; with a GPU, check its drivers (chrome://gpu).`
            : `Chromium was found (${location.path}) but the device request failed.`;
      throw new NoAdapterError(reason, reason === 'webgpu-disabled' ? advice : `${env.message}\n${advice}`);
    }
    adapterChoice =
      flags.length > base.length
        ? { source: 'hardware', reason: `hardware adapter with ${hardware.join(' ')} (${gpuHint.why})` }
        : env.adapter.isFallbackAdapter
          ? { source: 'swiftshader-fallback', reason: `no hardware adapter (${hardwareOutcome}); SwiftShader, a CPU emulation` }
          : { source: 'browser-default', reason: hardwareOutcome };
    const browserVersion = launched.browser.version();
    const b = launched.browser;
    const page = launched.page;
    let closed: Promise<void> | null = null;
    return {
      host: 'browser',
      browser: b,
      page,
      location,
      browserVersion,
      flags,
      env,
      adapterChoice,
      renderer: async () => b,
      call: (method, ...args) =>
        (
          page.evaluate(([m, a]) => (window.muonlab as unknown as Record<string, (...x: unknown[]) => unknown>)[m](...a), [
            method,
            args,
          ] as [string, unknown[]]) as Promise<never>
        ).catch((err: unknown) => {
          throw pageError(err, method);
        }),
      // Idempotent: Ctrl-C closes the session while a call is in flight, and withSession closes it again.
      close: () =>
        (closed ??= (async () => {
          await b.close().catch(() => undefined);
          await server.close();
        })()),
    };
  } catch (err) {
    await launched?.browser.close().catch(() => {});
    await server.close();
    throw err;
  }
}
