/**
 * Loads the preset modules in Node without a browser: `muonlab slurm` must know a preset's cells
 * (how many, their cost split into shards, which are finished on disk) on a login node before any
 * browser or GPU exists. The cells are pure functions of the scale, so evaluating the preset
 * modules is enough — no shader is compiled. What those modules import beyond TypeScript (`?raw`
 * shader text, wgsl_reflect's ES build) is resolved by harness/loaderHooks.mjs, which
 * bin/muonlab.js registers; under vitest, Vite resolves the same imports itself.
 */
import type { Preset } from '../src/experiments/presets/types';

/**
 * The preset named `name` with its code (cells, runCell, summarize), importable without a browser.
 *
 * @example
 * const preset = await loadPresetInNode('b-balance-onestep');
 * preset.cellular?.cells('ci').length; // 2 (one per embedding)
 */
export async function loadPresetInNode(name: string): Promise<Preset> {
  const { presetByName } = await import('../src/experiments/presets/index');
  return presetByName(name);
}
