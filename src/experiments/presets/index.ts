/** The presets the page can run, by name (docs/math.md §5). Metadata lives in catalog.ts (Node-safe). */
import { aNoiseless } from './aNoiseless';
import { bBalanceOnestep } from './bBalanceOnestep';
import { cCapacityOnestep } from './cCapacityOnestep';
import { cCriticalBatch } from './cCriticalBatch';
import { cMinibatch } from './cMinibatch';
import { cMultistep } from './cMultistep';
import { bBalanceMultistep } from './bBalanceMultistep';
import { bIsotropy } from './bIsotropy';
import { aNoisyScaling } from './aNoisyScaling';
import { aDataScaling } from './aDataScaling';
import { bHeavyTailQa } from './bHeavyTailQa';
import { bTransformerAblation } from './bTransformerAblation';
import { bTransformerIsotropy } from './bTransformerIsotropy';
import type { PresetName } from './catalog';
import type { Preset } from './cellular';

export const PRESETS: Record<PresetName, Preset> = {
  'a-noiseless': aNoiseless,
  'a-noisy-scaling': aNoisyScaling,
  'b-balance-multistep': bBalanceMultistep,
  'b-balance-onestep': bBalanceOnestep,
  'b-isotropy': bIsotropy,
  'c-capacity-onestep': cCapacityOnestep,
  'c-critical-batch': cCriticalBatch,
  'c-multistep': cMultistep,
  'c-minibatch': cMinibatch,
  'b-transformer-ablation': bTransformerAblation,
  'b-heavy-tail-qa': bHeavyTailQa,
  'b-transformer-isotropy': bTransformerIsotropy,
  'a-data-scaling': aDataScaling,
};

export function presetByName(name: string): Preset {
  const preset = (PRESETS as Record<string, Preset>)[name];
  if (!preset) throw new RangeError(`unknown preset "${name}"; presets: ${Object.keys(PRESETS).join(', ')}`);
  return preset;
}
