/**
 * Training the transformer on the GPU against the Float64 twin (issue 12), on a tiny model
 * (L = 2, d = 8, H = 2, V = 11, T = 5, 2 sequences, 2 replicas with different seeds):
 *
 * - 1 and 3 steps of AdamW, Muon ns5 (Nesterov, AdamW on the tables and the head) and a mixed
 *   assignment (Muon on V, O and the MLP, SGD with momentum on Q, K, SignGD on pos, AdamW on the rest,
 *   warm-up and cosine decay, clipping), weights compared per matrix. The bound: the GPU's f32
 *   gradients differ from the twin's by ~1e-6 relative (the kernel tolerances compose over ~20
 *   roundings of d- and T-long sums); Adam divides by √v so its update is a smooth function of g
 *   away from g ≈ 0, and Newton–Schulz in f32 adds ~1e-6 (docs: `--validate` sees ≈ 1e-6 for
 *   Muon). So the weights' change W_t − W_0 agrees within 1e-3 of ‖W_t − W_0‖_F (Frobenius, per
 *   matrix and replica): three orders of magnitude above the expected error, and far below what a
 *   wrong gradient, a wrong schedule or a misrouted group produces (those change the update by
 *   O(1)). SignGD flips where |g| is below the f32 error: its matrix is compared the same way (a
 *   flipped element moves by 2η, a fraction of ‖ΔW‖ that the bound tolerates only if rare).
 * - One batched Newton–Schulz call per Muon slot per step (counted dispatches).
 * - Causality: changing input token t leaves every per-position output before t bit-identical.
 * - Overfitting one fixed batch drives the loss below 0.01 within 300 steps.
 * - Checkpoints: a run restored from step 4 reaches step 6 bit-identical to the uninterrupted run;
 *   a checkpoint of another config is refused, naming the first difference.
 */
import { describe, expect, it } from 'vitest';
import { TransformerTrainer } from '../src/model/trainer';
import { CpuTransformerTrainer } from '../src/cpu/transformerTrain';
import type { TransformerConfigInput } from '../src/model/config';
import { transformerMatrices } from '../src/layout/transformerShape';
import { readTensor } from '../src/gpu/tensor';
import { decodeCheckpoint } from '../src/model/checkpoint';
import { gpuOrSkip, withErrorScopes } from './gpuFixture';

const tiny = (
  optimizers: TransformerConfigInput['optimizers'],
  extra: Partial<TransformerConfigInput['training']> = {},
): TransformerConfigInput => ({
  schema: 'muonlab.transformer/1',
  name: 'tiny',
  model: { layers: 2, dModel: 8, heads: 2, vocab: 11, maxSeqLen: 6 },
  data: { kind: 'markov', vocab: 11, branching: 3, seed: 4 },
  optimizers,
  training: { steps: 3, batchSize: 2, seqLen: 5, seeds: [1, 2], ...extra },
  metrics: { every: 1 },
});

const ASSIGNMENTS: Record<string, TransformerConfigInput> = {
  adamw: tiny([{ patterns: ['*'], optimizer: { name: 'adamw', lr: 0.01 } }]),
  'muon ns5': tiny([
    { patterns: ['layer.*'], optimizer: { name: 'muon', lr: 0.05, nesterov: true, orth: 'ns5' }, muonScale: 'shape' },
    { patterns: ['*'], optimizer: { name: 'adamw', lr: 0.01 } },
  ]),
  mixed: tiny(
    [
      {
        patterns: ['*.v', '*.o', '*.in', '*.out'],
        optimizer: { name: 'muon', lr: 0.05, nesterov: true },
        schedule: { warmup: 2, decay: 'cosine', final: 0.2 },
      },
      { patterns: ['*.q', '*.k'], optimizer: { name: 'sgd', lr: 0.5, momentum: 0.9 } },
      { patterns: ['pos'], optimizer: { name: 'signgd', lr: 0.001 } },
      { patterns: ['*'], optimizer: { name: 'adamw', lr: 0.01 }, schedule: { warmup: 1, decay: 'linear', final: 0.5 } },
    ],
    { clipNorm: 0.5 },
  ),
};

function worstRelative(
  gpu: Record<string, Float64Array>[],
  cpu: Record<string, Float64Array>[],
  init: Record<string, Float64Array>[],
  names: string[],
) {
  let worst = 0;
  let where = '';
  for (let r = 0; r < gpu.length; r++) {
    for (const n of names) {
      let diff = 0;
      let change = 0;
      for (let i = 0; i < cpu[r][n].length; i++) {
        diff += (gpu[r][n][i] - cpu[r][n][i]) ** 2;
        change += (cpu[r][n][i] - init[r][n][i]) ** 2;
      }
      const rel = change > 0 ? Math.sqrt(diff / change) : Math.sqrt(diff);
      if (rel > worst) {
        worst = rel;
        where = `${n} replica ${r}`;
      }
    }
  }
  return { worst, where };
}

describe('transformer training: GPU vs the Float64 twin', () => {
  for (const [label, config] of Object.entries(ASSIGNMENTS)) {
    it(`${label}: 1 and 3 steps, weights within 1e-3 of the update (Frobenius)`, async (ctx) => {
      const gpu = await gpuOrSkip(ctx);
      if (!gpu) return;
      const trainer = await TransformerTrainer.create(gpu, config);
      try {
        const cpu = new CpuTransformerTrainer(config);
        const init = cpu.params;
        const names = transformerMatrices(trainer.model.shape.dims).map((m) => m.name);
        for (const steps of [1, 3]) {
          while (trainer.step < steps) {
            const records = await withErrorScopes(gpu, () => trainer.runStep(true));
            cpu.step();
            // The loss: the head's nll is within Cz·u ≈ 1.3e-5 per position (check.ts, d = 8, V = 11) and
            // the f32 forward through two blocks adds a few 1e-6: 1e-4 relative bounds both with margin.
            for (const rec of records!)
              expect(Math.abs(rec.loss - cpu.lastLoss[rec.replica])).toBeLessThanOrEqual(1e-4 * Math.max(1, cpu.lastLoss[rec.replica]));
          }
          const { worst, where } = worstRelative(await trainer.model.readParams(), cpu.params, init, names);
          console.log(`[train ${label}] after ${steps} step(s): worst ‖ΔW_gpu − ΔW_cpu‖/‖ΔW_cpu‖ = ${worst.toExponential(2)} (${where})`);
          expect(worst).toBeLessThanOrEqual(1e-3);
        }
        const muonSlots = trainer.model.slots.filter((s) => config.optimizers[s.group].optimizer.name === 'muon').length;
        expect(trainer.lastDispatched.filter((d) => d === 'ns_normalize').length).toBe(muonSlots);
      } finally {
        trainer.destroy();
      }
    });
  }
});

describe('transformer on the GPU: causality, overfitting, checkpoints', () => {
  it('changing input token t never changes outputs at positions < t', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const trainer = await TransformerTrainer.create(gpu, {
      ...ASSIGNMENTS.adamw,
      training: { steps: 1, batchSize: 1, seqLen: 6, seeds: [3] },
    });
    try {
      const m = trainer.model;
      const batch = trainer.source.batch(0, 0, 1, 6);
      const outputsFor = async (inputs: Uint32Array<ArrayBuffer>) => {
        gpu.device.queue.writeBuffer(m.inputs.buffer, 0, inputs);
        gpu.device.queue.writeBuffer(m.targets.buffer, 0, batch.targets);
        gpu.device.queue.writeBuffer(m.weights.buffer, 0, new Float32Array(6).fill(1 / 6));
        const { runCommands } = await import('../src/gpu/commands');
        await runCommands(gpu, (rec) => m.forward(rec, { gradients: false }));
        return Array.from(await readTensor(gpu, m.head.outputs));
      };
      const base = await outputsFor(batch.inputs);
      for (const t of [0, 2, 5]) {
        const changed = Uint32Array.from(batch.inputs);
        changed[t] = (changed[t] + 1) % 11;
        const after = await outputsFor(changed);
        expect(after.slice(0, t * 5), `positions before ${t}`).toEqual(base.slice(0, t * 5));
        expect(after.slice(t * 5, t * 5 + 2), `position ${t} itself changes`).not.toEqual(base.slice(t * 5, t * 5 + 2));
      }
    } finally {
      trainer.destroy();
    }
  });

  it('overfits a single batch below loss 0.01 within 300 steps', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const config: TransformerConfigInput = {
      ...ASSIGNMENTS.adamw,
      data: { kind: 'markov', vocab: 11, branching: 3, seed: 4, fixedBatch: true },
      optimizers: [{ patterns: ['*'], optimizer: { name: 'adamw', lr: 0.02, weightDecay: 0 } }],
      training: { steps: 300, batchSize: 2, seqLen: 5, seeds: [1] },
      metrics: { every: 25 },
    };
    const trainer = await TransformerTrainer.create(gpu, config);
    try {
      const losses: [number, number][] = [];
      let below: number | undefined;
      await trainer.train({
        onRecord: (r) => {
          losses.push([r.step, r.loss]);
          if (below === undefined && r.loss < 0.01) below = r.step;
        },
      });
      console.log(`[overfit] loss by step: ${losses.map(([s, l]) => `${s}:${l.toExponential(2)}`).join(' ')}`);
      expect(losses[0][1]).toBeGreaterThan(1);
      expect(below, 'a step with loss < 0.01').toBeDefined();
    } finally {
      trainer.destroy();
    }
  });

  it('a checkpoint resumes bit for bit; another config is refused naming the first difference', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const config: TransformerConfigInput = {
      ...ASSIGNMENTS.mixed,
      training: { ...ASSIGNMENTS.mixed.training, steps: 6 },
      checkpoint: { every: 2 },
    };
    const whole = await TransformerTrainer.create(gpu, config);
    const resumed = await TransformerTrainer.create(gpu, config);
    const other = await TransformerTrainer.create(gpu, { ...config, training: { ...config.training, clipNorm: 0.25 } });
    try {
      const checkpoints = new Map<number, Uint8Array>();
      const recordsWhole: number[] = [];
      await whole.train({ onCheckpoint: (bytes, step) => void checkpoints.set(step, bytes), onRecord: (r) => recordsWhole.push(r.loss) });
      expect([...checkpoints.keys()]).toEqual([2, 4, 6]);
      resumed.restore(checkpoints.get(4)!);
      expect(resumed.step).toBe(4);
      const recordsResumed: number[] = [];
      await resumed.train({ onRecord: (r) => recordsResumed.push(r.loss) });
      const [a, b] = [await whole.model.readParams(), await resumed.model.readParams()];
      for (let r = 0; r < a.length; r++) for (const n of Object.keys(a[r])) expect(Array.from(b[r][n]), n).toEqual(Array.from(a[r][n]));
      // Step 4's and 5's records (2 replicas each) and the final evaluation equal the uninterrupted run's.
      expect(recordsResumed).toEqual(recordsWhole.slice(-recordsResumed.length));
      const [final, reference] = [decodeCheckpoint(await resumed.checkpoint()), decodeCheckpoint(checkpoints.get(6)!)];
      expect(final.header.step).toBe(6);
      for (const [name, bytes] of reference.tensors) expect(Array.from(final.tensors.get(name)!), name).toEqual(Array.from(bytes));
      expect(() => other.restore(checkpoints.get(4)!)).toThrow(/another config.*first difference.*training\.clipNorm: 0\.5 ≠ 0\.25/);
    } finally {
      whole.destroy();
      resumed.destroy();
      other.destroy();
    }
  });
});
