/**
 * The config the page's editor starts with: small enough for a CPU adapter (SwiftShader runs it in
 * seconds) and with every live plot's series — two optimizers, two seeds (minibatches, so the seeds
 * differ and draw a band), power-law frequencies (head and tail buckets, [C]'s predicted slopes),
 * a zipped sweep over d (capacity vs d) and isotropy (spectra).
 */
import type { ExperimentConfigInput } from '../experiments/config';

export const EXAMPLE_CONFIG: ExperimentConfigInput = {
  name: 'page-example',
  description: 'GD vs Muon on a power-law task, two seeds, d in {16, 32}',
  task: { N: 64, dIn: 32, dOut: 32, embedding: 'gaussian', frequency: { kind: 'power', powerExponent: 1.5 }, taskSeed: 1 },
  optimizers: [
    { name: 'gd', lr: 4 },
    { name: 'muon', lr: 0.5, momentum: 0.5 },
  ],
  training: { mode: 'minibatch', batchSize: 32, steps: 12, runSeeds: [0, 1] },
  metrics: { every: 2, isotropy: true },
  sweep: [
    { path: 'task.dIn', values: [16, 32], zip: 'd' },
    { path: 'task.dOut', values: [16, 32], zip: 'd' },
  ],
};
