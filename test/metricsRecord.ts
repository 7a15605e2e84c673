/**
 * A training metrics record with plausible defaults (two buckets, 8 evaluated items), for tests of
 * the figures and the page that build records by hand.
 *
 * @example
 * metricsRecord({ step: 10, loss: 0.5 });
 */
import type { TrainMetricsRecord } from '../src/train/records';

export function metricsRecord(over: Partial<TrainMetricsRecord>): TrainMetricsRecord {
  return {
    run: 0,
    optimizer: 'gd',
    optimizerName: 'gd',
    runSeed: 0,
    step: 0,
    lr: 1,
    loss: 1,
    evalItems: 8,
    capacity: 1,
    capacityPrefix: 1,
    delta: 0.5,
    maxPCorrect: 0.9,
    minPCorrect: 0.4,
    buckets: [
      { bucket: 'head', items: 2, meanPCorrect: 0.9, accuracy: 1 },
      { bucket: 'tail', items: 6, meanPCorrect: 0.4, accuracy: 0 },
    ],
    diverged: false,
    divergedAtStep: null,
    ...over,
  };
}
