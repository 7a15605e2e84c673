/**
 * Loads the preset modules in plain Node (tsx), where Vite is not there to resolve what they import:
 * `*.wgsl?raw` (a shader's text as the module's default export) and `wgsl_reflect` (whose `main` is
 * CommonJS inside an ES module package; vite.config.ts points it at the ES build the same way).
 *
 * Why: `muonlab slurm` must know a preset's cells (how many, their cost split into shards, which
 * are finished on disk) on a login node before any browser or GPU exists. The cells are pure
 * functions of the scale, so evaluating the preset modules is enough — no shader is compiled.
 * Under vitest the hooks are inert: Vite transforms those imports itself.
 */
import { register } from 'node:module';
import type { Preset } from '../src/experiments/presets/types';

// The hooks run in Node's loader thread, so they are plain JavaScript (no tsx there).
const HOOKS = `
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
export async function resolve(specifier, context, next) {
  if (specifier === 'wgsl_reflect') return next('wgsl_reflect/wgsl_reflect.module.js', context);
  return next(specifier, context);
}
export async function load(url, context, next) {
  const [path, query] = url.split('?');
  if (query === 'raw' && path.startsWith('file:')) {
    const text = readFileSync(fileURLToPath(path), 'utf8');
    return { format: 'module', source: 'export default ' + JSON.stringify(text) + ';', shortCircuit: true };
  }
  return next(url, context);
}
`;

let registered = false;

/** Registers the hooks once per process (later imports see them; earlier ones are unaffected). */
function registerSourceHooks(): void {
  if (registered) return;
  register(`data:text/javascript,${encodeURIComponent(HOOKS)}`);
  registered = true;
}

/**
 * The preset named `name` with its code (cells, runCell, summarize), importable without a browser.
 *
 * @example
 * const preset = await loadPresetInNode('b-balance-onestep');
 * preset.cellular?.cells('ci').length; // 2 (one per embedding)
 */
export async function loadPresetInNode(name: string): Promise<Preset> {
  registerSourceHooks();
  const { presetByName } = await import('../src/experiments/presets/index');
  return presetByName(name);
}
