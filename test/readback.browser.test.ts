// Double-buffered metric readback (src/train/readback.ts, used by src/train/trainCell.ts): the
// results equal those of a synchronous readback exactly (same GPU work, only the host reads later),
// and the staging buffers are a fixed set reused across steps — none leak, none pile up.
import { describe, expect, test } from 'vitest';
import { gpuOrSkip, trackBuffers, withErrorScopes } from './gpuFixture';
import { parseExperimentConfig, type ExperimentConfigInput } from '../src/experiments/config';
import { trainCell } from '../src/train/trainCell';
import type { CellResult, TrainProgress } from '../src/train/records';
import { EXACT_MAX_STEPS } from '../src/cpu/exactPolar';

const cfg = (c: Omit<ExperimentConfigInput, 'name'>) => parseExperimentConfig({ name: 'readback-test', ...c });

/** Everything a cell returns except wall-clock times, as plain JSON (typed arrays as arrays). */
function comparable(r: CellResult): unknown {
  return JSON.parse(
    JSON.stringify({ ...r, elapsedMs: 0, recording: undefined }, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v)),
  );
}

const N = 16;
const optimizers = [
  { name: 'gd' as const, lr: 20, momentum: 0.5 },
  { name: 'adam' as const, lr: 0.3 },
  { name: 'muon' as const, lr: 1, orth: 'exact' as const },
  { name: 'signgd' as const, lr: 0.2, label: 'signgd' },
];

describe('double-buffered readback', () => {
  test('population and minibatch cells: every record, per-item array and outcome equals the synchronous readback', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const configs = [
      cfg({
        task: { N, dIn: N, dOut: N, embedding: 'orthonormal', frequency: { kind: 'power', powerExponent: 1 } },
        optimizers,
        training: { steps: 7, runSeeds: [0, 1] },
        metrics: { every: 2, isotropy: true, tau: [0.1, 0.5] },
      }),
      cfg({
        task: { N, dIn: 8, dOut: 8, embedding: 'gaussian', frequency: { kind: 'power', powerExponent: 1.2 }, noise: 0.1, taskSeed: 3 },
        optimizers: [
          { name: 'sgd', lr: 2, momentum: 0.9, nesterov: true },
          { name: 'muon', lr: 0.3, orth: 'ns5' },
        ],
        training: { mode: 'minibatch', batchSize: 6, steps: 5, runSeeds: [4, 9] },
        metrics: { every: 1 },
      }),
    ];
    for (const config of configs) {
      const progress: Record<string, number[]> = { sync: [], double: [] };
      const sync = await withErrorScopes(gpu, () =>
        trainCell(gpu, config, { onProgress: (e) => progress.sync.push(e.step) }, { readback: 'synchronous' }),
      );
      const double = await withErrorScopes(gpu, () => trainCell(gpu, config, { onProgress: (e) => progress.double.push(e.step) }));
      expect(double.records.length).toBe(sync.records.length);
      expect(sync.records.length).toBeGreaterThan(8);
      expect(comparable(double)).toEqual(comparable(sync));
      expect(progress.double).toEqual(progress.sync);
      expect(progress.sync).toEqual(Array.from({ length: config.training.steps + 1 }, (_, i) => i));
    }
    // Muon exact's stop decisions are copied out with the step, not read after later steps overwrote them.
    const muonRecords = (await trainCell(gpu, configs[0])).records.filter((r) => r.optimizerName === 'muon' && r.step < 7);
    expect(muonRecords.every((r) => r.orthExact && r.orthExact.steps >= 1 && r.orthExact.steps <= EXACT_MAX_STEPS)).toBe(true);
  });

  test('a stop rule decided at step t drops the readbacks queued after it: same steps, records and progress as synchronous', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const config = cfg({
      task: { N, dIn: N, dOut: N, embedding: 'identity', frequency: { kind: 'uniform' } },
      optimizers: [{ name: 'gd', lr: 40 }],
      training: { steps: 40, runSeeds: [0, 1], stop: { targetLoss: 0.5 } },
      metrics: { every: 1 },
    });
    const steps: Record<string, TrainProgress[]> = { sync: [], double: [] };
    const sync = await trainCell(gpu, config, { onProgress: (e) => steps.sync.push(e) }, { readback: 'synchronous' });
    const double = await trainCell(gpu, config, { onProgress: (e) => steps.double.push(e) });
    expect(sync.stopped).toBe('targetLoss');
    expect(sync.steps).toBeLessThan(40);
    expect(comparable(double)).toEqual(comparable(sync));
    expect(steps.double.map((e) => e.step)).toEqual(steps.sync.map((e) => e.step));
    expect(steps.double.at(-1)!.step).toBe(sync.steps);
  });

  test('staging buffers are a fixed set: the same number for 3 and 13 steps, and none left after the cell', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const counts: number[] = [];
    for (const steps of [3, 13]) {
      const tracked = trackBuffers(gpu);
      const config = cfg({
        task: { N, dIn: N, dOut: N, embedding: 'orthonormal' },
        optimizers,
        training: { steps },
        metrics: { every: 1, isotropy: true },
      });
      await withErrorScopes(gpu, () => trainCell(tracked.gpu, config));
      expect([...tracked.live].map((b) => b.label)).toEqual([]);
      counts.push(tracked.mapReadCreated());
    }
    // Per group and set: outputs, run params, W, W after; Muon exact also its step changes. Four
    // groups (gd, adam, muon, signgd): 4·4 + 1 = 17 per set, two sets.
    expect(counts[0]).toBe(2 * 17);
    expect(counts[1]).toBe(counts[0]);
  });
});
