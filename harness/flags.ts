/**
 * The Chromium command-line flags muonlab launches with, and where the browser is looked for.
 * Shared by the CLI (harness/browser.ts) and the vitest browser project (vite.config.ts) so tests
 * run on exactly the configuration users get.
 */
import { existsSync, readdirSync } from 'node:fs';

/**
 * WebGPU on (SwiftShader when there is no GPU), and nothing that phones home: on a machine with a
 * closed network Chromium otherwise retries background connections for its whole life.
 * `--no-sandbox` is only added when running as root (Chromium refuses to start otherwise).
 *
 * `disable_robustness` turns off Dawn's clamping of every storage-buffer index. muonlab checks every
 * binding's size and every operand's layout against its buffer before dispatch (src/gpu/reflect.ts,
 * the kernels' shape checks), so its kernels do not index out of bounds; without the clamps the
 * vec4 matmul runs ≈ 1.4× faster on SwiftShader (3.06 → 4.18 GFLOP/s at 1024³, bench/README.md).
 * `robust: true` (CLI `--robust`, env MUONLAB_ROBUST=1) keeps Dawn's checks.
 */
export function defaultBrowserArgs(options: { robust?: boolean } = {}): string[] {
  const robust = options.robust ?? process.env.MUONLAB_ROBUST === '1';
  const args = [
    '--enable-unsafe-webgpu',
    ...(robust ? [] : ['--enable-dawn-features=disable_robustness']),
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
    '--disable-sync',
  ];
  if (typeof process.getuid === 'function' && process.getuid() === 0) args.push('--no-sandbox');
  return args;
}

/**
 * The flags Chromium needs to give WebGPU a hardware adapter, per platform (the gpuweb
 * implementation-status notes and Chrome's "web AI testing" guide for headless GPUs):
 * - Linux: WebGPU runs on Vulkan only with `--enable-features=Vulkan`; headless, ANGLE on Vulkan
 *   and no Vulkan surface (no window to present to): `--use-angle=vulkan --disable-vulkan-surface`.
 * - macOS (Metal) and Windows (D3D12): WebGPU uses the GPU by default; nothing to add.
 * Without a usable GPU these flags can crash Chromium's GPU process, so the browser host tries them
 * first only where a GPU device is present and falls back to the default flags (SwiftShader).
 */
export function hardwareWebgpuArgs(platform: NodeJS.Platform = process.platform): string[] {
  return platform === 'linux' ? ['--enable-features=Vulkan', '--use-angle=vulkan', '--disable-vulkan-surface'] : [];
}

/**
 * Whether this machine has a GPU device node for Chromium to use: on Linux a DRM render node
 * (/dev/dri/renderD*) or NVIDIA's /dev/nvidia0; elsewhere assumed (the OS picks the adapter).
 *
 * @example
 * gpuDevicePresent(); // { present: false, why: 'no /dev/dri/renderD* or /dev/nvidia0' }
 */
export function gpuDevicePresent(platform: NodeJS.Platform = process.platform): { present: boolean; why: string } {
  if (platform !== 'linux') return { present: true, why: `${platform}: the system picks the GPU` };
  if (existsSync('/dev/nvidia0')) return { present: true, why: '/dev/nvidia0 exists' };
  let render: string[];
  try {
    render = readdirSync('/dev/dri').filter((n) => n.startsWith('renderD'));
  } catch {
    render = [];
  }
  return render.length
    ? { present: true, why: `/dev/dri/${render[0]} exists` }
    : { present: false, why: 'no /dev/dri/renderD* or /dev/nvidia0' };
}

export interface BrowserLocation {
  path: string;
  source: 'CHROMIUM_PATH' | 'system' | 'playwright';
}

const SYSTEM_CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/opt/google/chrome/chrome',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
];

/**
 * Finds a Chromium/Chrome: `CHROMIUM_PATH`, then system locations, then Playwright's own download
 * (`playwrightPath`, when the caller has it). Returns null when none exists.
 */
export function findChromium(playwrightPath?: string): BrowserLocation | null {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) {
      throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist; point it at a Chromium or Chrome executable`);
    }
    return { path: fromEnv, source: 'CHROMIUM_PATH' };
  }
  for (const path of SYSTEM_CANDIDATES) if (existsSync(path)) return { path, source: 'system' };
  if (playwrightPath && existsSync(playwrightPath)) return { path: playwrightPath, source: 'playwright' };
  return null;
}

export const INSTALL_ADVICE =
  'No Chromium or Chrome was found. Install one — on Debian/Ubuntu: `sudo apt-get install -y chromium` — ' +
  'or set CHROMIUM_PATH to a Chromium/Chrome executable (version 113 or later, WebGPU enabled).';
