/**
 * `npm run gpu-bundle`: one folder that runs muonlab's Node host on a machine with nothing installed
 * (a GPU node without npm, a registry or a browser), for `gpu-check.sh` (harness/gpu-check.sh):
 *
 *   dist/gpu-bundle/gpu-check.sh          unpacks the archive and runs the GPU check
 *   dist/gpu-bundle/muonlab-gpu.tar.xz    node (this Node binary), the CLI as one esbuild bundle
 *                                         (muonlab.mjs: harness/ + src/ + the WGSL), the `webgpu`
 *                                         package's linux-x64 Dawn binding, the Vulkan loader
 *                                         (lib/libvulkan.so.1) for machines that lack one
 *
 * The bundle runs the CLI exactly as `node bin/muonlab.js` does, with `?raw` shader imports inlined
 * as text (esbuild's text loader) and the browser-only dependencies (playwright, vite) replaced by
 * stubs that say so if reached: it is meant for `--host node`.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { kernelSourcesDigest } from './variantCache';
import { PROJECT_ROOT } from './server';
import { locateWebgpuPackage } from './nodeHost';

/** Where Debian/Ubuntu keep the Vulkan loader. */
const VULKAN_LOADER_CANDIDATES = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib64/libvulkan.so.1', '/usr/lib/libvulkan.so.1'];

/** The bundle's build facts, read by the CLI where it would otherwise read the source tree. */
export interface BundleInfo {
  version: string;
  kernelDigest: string;
  builtAt: string;
}

/** `?raw` imports as text, `wgsl_reflect` as its ES build, browser-only packages as stubs. */
function bundlePlugin(): Plugin {
  return {
    name: 'muonlab-bundle',
    setup(b) {
      b.onResolve({ filter: /\?raw$/ }, (args) => ({
        path: resolve(args.resolveDir, args.path.slice(0, -'?raw'.length)),
        namespace: 'raw',
      }));
      b.onLoad({ filter: /.*/, namespace: 'raw' }, (args) => ({ contents: readFileSync(args.path, 'utf8'), loader: 'text' }));
      b.onResolve({ filter: /^wgsl_reflect$/ }, () => ({
        path: join(PROJECT_ROOT, 'node_modules', 'wgsl_reflect', 'wgsl_reflect.module.js'),
      }));
      b.onResolve({ filter: /^(playwright|vite)$/ }, (args) => ({ path: args.path, namespace: 'stub' }));
      b.onLoad({ filter: /.*/, namespace: 'stub' }, (args) => ({
        contents: `
          const missing = () => { throw new Error('${args.path} is not in the GPU bundle: it runs the Node host (--host node) only'); };
          export const chromium = { launch: missing, executablePath: missing };
          export const build = missing;
          export default {};`,
        loader: 'js',
      }));
    },
  };
}

function run(cmd: string, args: string[], cwd?: string): void {
  const r = spawnSync(cmd, args, { cwd, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status})`);
}

export interface GpuBundleOptions {
  out?: string;
  /** xz preset (0–9): 6 by default; tests use a fast one. */
  xzLevel?: number;
  log?: (message: string) => void;
}

/**
 * Writes the bundle folder and returns its files with their sizes.
 *
 * @example
 * const { dir, bytes } = await writeGpuBundle({ out: 'dist/gpu-bundle' });
 */
export async function writeGpuBundle(
  options: GpuBundleOptions = {},
): Promise<{ dir: string; files: Record<string, number>; bytes: number }> {
  const log = options.log ?? (() => {});
  const dir = resolve(options.out ?? join(PROJECT_ROOT, 'dist', 'gpu-bundle'));
  const stage = join(dir, 'stage');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(stage, 'lib'), { recursive: true });

  const info: BundleInfo = {
    version: (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version,
    kernelDigest: kernelSourcesDigest(),
    builtAt: new Date().toISOString(),
  };
  log('bundling the CLI with esbuild');
  await build({
    entryPoints: [join(PROJECT_ROOT, 'harness', 'bundleEntry.ts')],
    outfile: join(stage, 'muonlab.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['webgpu'],
    plugins: [bundlePlugin()],
    define: { __MUONLAB_BUNDLE__: JSON.stringify(info) },
    // Bundled CommonJS dependencies use require(), __filename and __dirname; give the ES module them.
    banner: {
      js: [
        "import { createRequire as __muonlabCreateRequire } from 'node:module';",
        "import { fileURLToPath as __muonlabFileURLToPath } from 'node:url';",
        "import { dirname as __muonlabDirname } from 'node:path';",
        'const require = __muonlabCreateRequire(import.meta.url);',
        'const __filename = __muonlabFileURLToPath(import.meta.url);',
        'const __dirname = __muonlabDirname(__filename);',
      ].join(' '),
    },
    logLevel: 'warning',
  });

  const pkg = locateWebgpuPackage();
  const webgpuDir = join(stage, 'node_modules', 'webgpu');
  mkdirSync(join(webgpuDir, 'dist', 'linux-x64'), { recursive: true });
  for (const f of ['index.js', 'package.json']) copyFileSync(join(dirname(pkg.entry), f), join(webgpuDir, f));
  copyFileSync(join(dirname(pkg.entry), 'dist', 'linux-x64', 'dawn.node'), join(webgpuDir, 'dist', 'linux-x64', 'dawn.node'));
  copyFileSync(process.execPath, join(stage, 'node'));
  const loader = VULKAN_LOADER_CANDIDATES.find((p) => existsSync(p));
  if (loader) copyFileSync(realpathSync(loader), join(stage, 'lib', 'libvulkan.so.1'));
  else log('no Vulkan loader on this machine: the bundle relies on the target having libvulkan.so.1');
  writeFileSync(
    join(stage, 'BUNDLE.json'),
    `${JSON.stringify({ ...info, node: process.version, webgpu: pkg.version, vulkanLoader: loader ?? null }, null, 2)}\n`,
  );

  log(`compressing (xz -${options.xzLevel ?? 6})`);
  run('tar', ['-cf', join(dir, 'muonlab-gpu.tar'), '-C', stage, '.']);
  run('xz', [`-${options.xzLevel ?? 6}`, '-T0', join(dir, 'muonlab-gpu.tar')]);
  rmSync(stage, { recursive: true, force: true });
  copyFileSync(join(PROJECT_ROOT, 'harness', 'gpu-check.sh'), join(dir, 'gpu-check.sh'));
  spawnSync('chmod', ['+x', join(dir, 'gpu-check.sh')]);
  const files: Record<string, number> = {};
  for (const f of ['gpu-check.sh', 'muonlab-gpu.tar.xz']) files[f] = statSync(join(dir, f)).size;
  return { dir, files, bytes: Object.values(files).reduce((a, b) => a + b, 0) };
}

// `node --import ./harness/registerHooks.mjs harness/gpuBundle.ts [--out DIR]`
if (process.argv[1] && resolve(process.argv[1]) === resolve(PROJECT_ROOT, 'harness', 'gpuBundle.ts')) {
  const at = process.argv.indexOf('--out');
  const result = await writeGpuBundle({ out: at > 0 ? process.argv[at + 1] : undefined, log: (m) => console.error(`  … ${m}`) });
  for (const [f, size] of Object.entries(result.files)) console.log(`${join(result.dir, f)}  ${(size / 2 ** 20).toFixed(1)} MiB`);
  console.log(`total ${(result.bytes / 2 ** 20).toFixed(1)} MiB (limit 60 MiB)`);
  if (result.bytes > 60 * 2 ** 20) process.exitCode = 1;
}
