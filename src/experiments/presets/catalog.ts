/**
 * What each preset is and checks, without its code: Node-safe (no shader imports), so the CLI can
 * list presets, validate names and plan their cells and shards before a browser exists. Each entry
 * is derived from the preset's plan (src/experiments/presets/plans/): sizes in words from the
 * settings the preset runs with, cell counts from its cells.
 */
import { aNoiselessPlan } from './plans/aNoiseless';
import { aNoisyScalingPlan } from './plans/aNoisyScaling';
import { bBalanceMultistepPlan } from './plans/bBalanceMultistep';
import { bBalanceOnestepPlan } from './plans/bBalanceOnestep';
import { bIsotropyPlan } from './plans/bIsotropy';
import { cCapacityOnestepPlan } from './plans/cCapacityOnestep';
import { cCriticalBatchPlan } from './plans/cCriticalBatch';
import { cMinibatchPlan } from './plans/cMinibatch';
import { cMultistepPlan } from './plans/cMultistep';
import { aDataScalingPlan } from './plans/aDataScaling';
import { bHeavyTailQaPlan } from './plans/bHeavyTailQa';
import { bTransformerAblationPlan } from './plans/bTransformerAblation';
import { bTransformerIsotropyPlan } from './plans/bTransformerIsotropy';
import { presetInfo, type PresetCell, type PresetInfo, type Scale } from './types';

/** Every preset's plan by name, in the order `muonlab presets` lists them. */
const PRESET_PLANS = {
  'b-balance-onestep': bBalanceOnestepPlan,
  'c-capacity-onestep': cCapacityOnestepPlan,
  'c-critical-batch': cCriticalBatchPlan,
  'c-multistep': cMultistepPlan,
  'a-noiseless': aNoiselessPlan,
  'c-minibatch': cMinibatchPlan,
  'b-balance-multistep': bBalanceMultistepPlan,
  'b-isotropy': bIsotropyPlan,
  'a-noisy-scaling': aNoisyScalingPlan,
  // The transformer lab (issue 13, docs/transformer.md §6).
  'b-transformer-ablation': bTransformerAblationPlan,
  'b-heavy-tail-qa': bHeavyTailQaPlan,
  'b-transformer-isotropy': bTransformerIsotropyPlan,
  'a-data-scaling': aDataScalingPlan,
};

export type PresetName = keyof typeof PRESET_PLANS;
export const PRESET_NAMES = Object.keys(PRESET_PLANS) as PresetName[];

/**
 * Whether `name` is a preset's name (narrows it for presetCells and PRESET_CATALOG).
 *
 * @example
 * if (isPresetName(arg)) console.log(PRESET_CATALOG[arg].scales.ci.sizes);
 */
export function isPresetName(name: string): name is PresetName {
  return Object.hasOwn(PRESET_PLANS, name);
}

export const PRESET_CATALOG = Object.fromEntries(PRESET_NAMES.map((name) => [name, presetInfo(PRESET_PLANS[name])])) as Record<
  PresetName,
  PresetInfo
>;

/**
 * A preset's cells at a scale, as the page runs them (the same plan code): what the CLI shards,
 * resumes and writes into preset.json.
 *
 * @example
 * presetCells('b-balance-onestep', 'ci').map((c) => c.id); // ['identity', 'coupled-rotation']
 */
export function presetCells(name: PresetName, scale: Scale): PresetCell[] {
  return PRESET_PLANS[name].cells(scale);
}
