/**
 * Which Vulkan driver the Node host's Dawn uses. Dawn finds drivers through the Vulkan loader
 * (libvulkan.so.1), which reads ICD manifests from the system's vulkan/icd.d folders, or only
 * the ones `VK_DRIVER_FILES` / `VK_ICD_FILENAMES` name. A machine without a GPU has none Dawn
 * accepts (Mesa's lavapipe lacks features Dawn requires), and the loader is read once per process —
 * so the choice is made before Dawn starts, by probing in a child process:
 *
 *   1. the user's own VK_DRIVER_FILES / VK_ICD_FILENAMES, used as given;
 *   2. the system's drivers, when a probe finds a hardware adapter with them;
 *   3. an NVIDIA ICD manifest found under the driver's installation (the loader misses it when the
 *      driver was unpacked outside the standard folders, as on some cluster images);
 *   4. SwiftShader's ICD (shipped in Debian's chromium package), labelled a fallback.
 *
 * The choice and the reason are recorded in env.json (`adapterChoice`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface VulkanChoice {
  /** Environment variables to set before Dawn starts ({} = leave the loader alone). */
  env: Record<string, string>;
  source: 'user-environment' | 'system-drivers' | 'nvidia-icd' | 'swiftshader-fallback' | 'none';
  reason: string;
}

/** Folders where SwiftShader's ICD manifest is known to live (Debian/Ubuntu chromium, Chrome). */
const SWIFTSHADER_ICDS = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
  '/opt/google/chrome/vk_swiftshader_icd.json',
];

/** Where NVIDIA's ICD manifest sits in standard and unpacked driver installations. */
const NVIDIA_ICD_GLOBS = [
  '/usr/local/nvidia/share/vulkan/icd.d',
  '/usr/share/vulkan/icd.d',
  '/etc/vulkan/icd.d',
  '/usr/local/share/vulkan/icd.d',
  '/usr/lib/x86_64-linux-gnu/nvidia',
  '/usr/local/nvidia',
  '/opt/nvidia',
];

/** The probe: Node + Dawn in a child, printing the adapter it gets (or null) as JSON. */
const PROBE = `
const { create } = await import(process.env.MUONLAB_WEBGPU_ENTRY);
const gpu = create([]);
const a = await gpu.requestAdapter({ powerPreference: 'high-performance' });
const i = a && a.info;
console.log(JSON.stringify(a ? { vendor: i.vendor, architecture: i.architecture, description: i.description, fallback: Boolean(i.isFallbackAdapter) } : null));
process.exit(0);
`;

export interface ProbeResult {
  vendor: string;
  architecture: string;
  description: string;
  fallback: boolean;
}

/** Runs the probe with extra environment; null when Dawn found no adapter (or the probe failed). */
export function probeAdapter(webgpuEntry: string, env: Record<string, string>): ProbeResult | null {
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', PROBE], {
    env: { ...process.env, ...env, MUONLAB_WEBGPU_ENTRY: webgpuEntry },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const line = run.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as ProbeResult | null;
  } catch {
    return null;
  }
}

/** NVIDIA ICD manifests under the usual folders (one level deep), e.g. nvidia_icd.json. */
export function findNvidiaIcds(roots: readonly string[] = NVIDIA_ICD_GLOBS): string[] {
  const found: string[] = [];
  const visit = (dir: string, depth: number): void => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isFile() && /^nvidia.*icd.*\.json$/i.test(e.name)) found.push(path);
      else if (e.isDirectory() && depth > 0) visit(path, depth - 1);
    }
  };
  for (const root of roots) visit(root, 4);
  return [...new Set(found)];
}

/** SwiftShader's ICD manifest, if a Chromium that ships one is installed. */
export function findSwiftShaderIcd(extra: readonly string[] = []): string | undefined {
  return [...extra, ...SWIFTSHADER_ICDS].find((p) => existsSync(p));
}

/**
 * Chooses the Vulkan driver for Dawn in this process (see the file comment for the order).
 *
 * @example
 * const choice = chooseVulkanDriver(require.resolve('webgpu'), process.env);
 * Object.assign(process.env, choice.env); // before importing Dawn
 */
export function chooseVulkanDriver(webgpuEntry: string, env: NodeJS.ProcessEnv, options: { chromiumPath?: string } = {}): VulkanChoice {
  const user = env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES;
  if (user) return { env: {}, source: 'user-environment', reason: `VK_DRIVER_FILES/VK_ICD_FILENAMES set by the user: ${user}` };
  const system = probeAdapter(webgpuEntry, {});
  if (system && !system.fallback) {
    return {
      env: {},
      source: 'system-drivers',
      reason: `the Vulkan loader found a hardware adapter (${system.vendor} / ${system.description || system.architecture})`,
    };
  }
  for (const icd of findNvidiaIcds()) {
    const probed = probeAdapter(webgpuEntry, { VK_DRIVER_FILES: icd, VK_ICD_FILENAMES: icd });
    if (probed && !probed.fallback) {
      return {
        env: { VK_DRIVER_FILES: icd, VK_ICD_FILENAMES: icd },
        source: 'nvidia-icd',
        reason: `hardware adapter through ${icd} (the loader's default search missed it)`,
      };
    }
  }
  const near = options.chromiumPath ? [join(dirname(options.chromiumPath), 'vk_swiftshader_icd.json')] : [];
  const swiftshader = findSwiftShaderIcd(near);
  const why = system ? `only a software adapter (${system.description || system.architecture})` : 'no adapter';
  if (swiftshader) {
    return {
      env: { VK_DRIVER_FILES: swiftshader, VK_ICD_FILENAMES: swiftshader },
      source: 'swiftshader-fallback',
      reason: `no hardware GPU: the system's Vulkan drivers gave ${why}; using SwiftShader (${swiftshader}), a CPU emulation`,
    };
  }
  return {
    env: {},
    source: 'none',
    reason: `the system's Vulkan drivers gave ${why}, and no SwiftShader ICD was found (install Debian's "chromium" and "libvulkan1")`,
  };
}
