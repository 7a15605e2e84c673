// The training scheduler on the GPU (src/train/trainCell.ts) against closed forms of docs/math.md §4 and
// Float64 re-implementations of a few steps (src/cpu/softmaxGrad.ts + src/cpu/optim.ts). Sizes are
// tiny (N ≤ 48) so the file stays fast on SwiftShader.
import { describe, expect, test } from 'vitest';
import { gpuOrSkip, trackBuffers, withErrorScopes } from './gpuFixture';
import { readTensor } from '../src/gpu/tensor';
import { defaultRunParams } from '../src/gpu/runParams';
import { F32_UNIT_ROUNDOFF } from '../src/cpu/compare';
import { softmaxGradCpu } from '../src/cpu/softmaxGrad';
import { optimizerStepCpu, type CpuRunState } from '../src/cpu/optim';
import { polarFactor } from '../src/cpu/polar';
import { parseExperimentConfig, type ExperimentConfigInput } from '../src/experiments/config';
import { parseOptimizerConfig, runParamsFor } from '../src/optim';
import { createGpuTask } from '../src/task/taskGpu';
import { sampleMinibatchCpu, samplingThresholds } from '../src/task/sampling';
import { learningRateAt } from '../src/optim/schedule';
import { trainCell } from '../src/train/trainCell';
import type { TrainProgress } from '../src/train/records';
import { EXACT_MAX_STEPS } from '../src/cpu/exactPolar';

const cfg = (c: Omit<ExperimentConfigInput, 'name'> & { name?: string }) => parseExperimentConfig({ name: 'train-test', ...c });

describe('trainCell on the GPU', () => {
  // Orthonormal embeddings of every kind give the same margins (docs/math.md §4: "identical for both").
  test.for(['identity', 'coupled-rotation', 'orthonormal'] as const)(
    'one population GD step from W = 0 (%s, two-class): pCorrect_k = e^{ηp_k}/(e^{ηp_k} + N − 1)',
    async (embedding, ctx) => {
      const gpu = await gpuOrSkip(ctx);
      if (!gpu) return;
      const N = 48;
      const eta = 60;
      const config = cfg({
        task: { N, dIn: N, dOut: N, embedding, frequency: { kind: 'two-class', headCount: 12, headMass: 0.8 } },
        optimizers: [{ name: 'gd', lr: eta }],
        training: { steps: 1, runSeeds: [0, 1] },
      });
      const result = await withErrorScopes(gpu, () => trainCell(gpu, config));
      expect(result.stopped).toBe('steps');
      expect(result.steps).toBe(1);
      expect(result.records.map((r) => [r.run, r.step])).toEqual([
        [0, 0],
        [1, 0],
        [0, 1],
        [1, 1],
      ]);
      const p = Array.from({ length: N }, (_, k) => (k < 12 ? 0.8 / 12 : 0.2 / 36));
      const closed = p.map((pk) => Math.exp(eta * pk) / (Math.exp(eta * pk) + N - 1));
      // f32: the logits ηp_k(1 − 1/N) and −ηp_k/N carry a few roundings (margin error ≲ 8ε·ηp_k, and
      // pCorrect moves by ≤ ¼ of that), the softmax sum of N terms ≲ N·ε relative.
      const tol = (x: number) => 4 * N * F32_UNIT_ROUNDOFF * x + 1e-7;
      for (const run of result.finalPerItem!.runs) {
        expect(result.finalPerItem!.step).toBe(1);
        run.pCorrect.forEach((got, k) =>
          expect(Math.abs(got - closed[k]), `item ${k}: ${got} vs ${closed[k]}`).toBeLessThanOrEqual(tol(closed[k])),
        );
        // margin ηp_k > 0 for every item: all recovered after one step (none at W_0, where all tie).
        expect(Array.from(run.correct).every((c) => c === 1)).toBe(true);
      }
      const at0 = result.records.find((r) => r.step === 0)!;
      expect(at0.capacity).toBe(0);
      expect(at0.loss).toBeCloseTo(Math.log(N), 5);
      const last = result.records.find((r) => r.step === 1 && r.run === 0)!;
      const lossClosed = p.reduce((s, pk) => s + pk * Math.log1p((N - 1) * Math.exp(-eta * pk)), 0);
      expect(Math.abs(last.loss - lossClosed)).toBeLessThanOrEqual(4 * N * F32_UNIT_ROUNDOFF * lossClosed);
      expect(last.capacity).toBe(N);
      expect(last.capacityPrefix).toBe(N);
      expect(last.buckets.map((b) => b.bucket)).toEqual(['head', 'tail']);
      expect(last.buckets[0].meanPCorrect).toBeCloseTo(closed[0], 5);
      expect(last.buckets[1].meanPCorrect).toBeCloseTo(closed[N - 1], 5);
      expect(last.maxPCorrect - last.minPCorrect).toBeCloseTo(last.delta, 12);
    },
  );

  test('3 steps of population GD and Muon (ns5) on a gaussian task = Float64 re-implementation (loss per step)', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const N = 40;
    const d = 12;
    const taskInput = {
      N,
      dIn: d,
      dOut: d,
      embedding: 'gaussian' as const,
      frequency: { kind: 'power' as const, powerExponent: 1 },
      taskSeed: 7,
    };
    const optimizers = [
      { name: 'gd' as const, lr: 4 },
      { name: 'muon' as const, lr: 0.5, momentum: 0.5, orth: 'ns5' as const },
    ];
    const config = cfg({ task: taskInput, optimizers, training: { steps: 3 } });
    const task = await createGpuTask(gpu, config.task);
    try {
      if (task.embeddings.kind !== 'dense') throw new Error('gaussian embeddings are dense');
      // The CPU side sees the GPU's embeddings (normals differ in the last bits, docs/math.md §6).
      const E = Float64Array.from(await readTensor(gpu, task.embeddings.E));
      const Et = Float64Array.from(await readTensor(gpu, task.embeddings.Et));
      const result = await withErrorScopes(gpu, () => trainCell(gpu, config, {}, { task, chunkSize: 16 }));
      expect(result.records).toHaveLength(8);
      for (const [k, entry] of optimizers.entries()) {
        const oc = parseOptimizerConfig(entry);
        const params = defaultRunParams(runParamsFor(oc, { rows: d, cols: d }).params);
        const state: CpuRunState = { w: new Float64Array(d * d) };
        for (let t = 0; t <= 3; t++) {
          const ref = softmaxGradCpu({
            runs: 1,
            N,
            dIn: d,
            dOut: d,
            W: state.w,
            E,
            Et,
            targets: { kind: 'population', weights: task.frequencies },
            noise: 0,
            noiseTarget: 'expected',
          });
          let want = 0;
          for (let i = 0; i < N; i++) want += task.frequencies[i] * ref.loss[i];
          const got = result.records.find((r) => r.run === k && r.step === t)!;
          // f32 GPU vs Float64: the logits and each step's gradient are (N + d)-long sums, so
          // ~(N + d)·ε relative error (measured: ≤ 7e-8 relative over the 3 steps).
          expect(Math.abs(got.loss - want), `${entry.name} step ${t}: ${got.loss} vs ${want}`).toBeLessThanOrEqual(
            (N + d) * F32_UNIT_ROUNDOFF * want,
          );
          const correctCpu = Array.from(ref.correct).reduce((a, b) => a + b, 0);
          expect(Math.abs(got.capacity - correctCpu), `${entry.name} step ${t} capacity`).toBeLessThanOrEqual(1);
          if (t < 3) {
            optimizerStepCpu(state, { config: oc, rows: d, cols: d, params, gradient: ref.G });
            params.step++;
          }
        }
      }
    } finally {
      task.destroy();
    }
  });

  test('Muon (exact) on identity: loss falls, same-frequency items equal, balanced where GD at lower loss is not', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const N = 24;
    const config = cfg({
      task: { N, dIn: N, dOut: N, embedding: 'identity', frequency: { kind: 'hierarchical', groups: 3, groupExponent: 2 } },
      optimizers: [
        { name: 'muon', lr: 1, momentum: 0, momentumForm: 'sum', orth: 'exact', label: 'muon exact' },
        { name: 'gd', lr: 30 },
      ],
      training: { steps: 3 },
    });
    const result = await withErrorScopes(gpu, () => trainCell(gpu, config));
    const muon = result.records.filter((r) => r.run === 0);
    const gd = result.records.filter((r) => r.run === 1);
    expect(muon[0].optimizer).toBe('muon exact');
    expect(gd[0].optimizer).toBe('gd');
    for (let t = 1; t < muon.length; t++) expect(muon[t].loss).toBeLessThan(muon[t - 1].loss);
    // The GPU `exact` reports its polar iteration per update (none at the last step: no update).
    for (const r of muon.slice(0, -1)) {
      expect(r.orthExact!.steps).toBeGreaterThanOrEqual(1);
      expect(r.orthExact!.steps).toBeLessThanOrEqual(EXACT_MAX_STEPS);
      expect(r.orthExact!.stepChange).toBeLessThan(1e-3);
    }
    expect(muon[muon.length - 1].orthExact).toBeUndefined();
    expect(gd[0].orthExact).toBeUndefined();
    const pc = result.finalPerItem!.runs[0].pCorrect;
    // Items of one group are interchangeable (same p_i): equal up to f32 noise of the GPU polar factor.
    for (let g = 0; g < 3; g++) {
      const group = Array.from(pc.subarray(8 * g, 8 * g + 8));
      expect(Math.max(...group) - Math.min(...group), `group ${g + 1}`).toBeLessThanOrEqual(1e-5);
    }
    // Float64 Muon (exact polar factor) on the same problem.
    const p = new Float64Array(N);
    for (let i = 0; i < N; i++) p[i] = (Math.floor(i / 8) + 1) ** -2;
    const sum = p.reduce((a, b) => a + b, 0);
    p.forEach((x, i) => (p[i] = x / sum));
    const I = new Float64Array(N * N);
    for (let i = 0; i < N; i++) I[i * N + i] = 1;
    let W = new Float64Array(N * N);
    for (let t = 0; t <= 3; t++) {
      const ref = softmaxGradCpu({
        runs: 1,
        N,
        dIn: N,
        dOut: N,
        W,
        E: I,
        Et: I,
        targets: { kind: 'population', weights: p },
        noise: 0,
        noiseTarget: 'expected',
      });
      const want = ref.loss.reduce((s, l, i) => s + p[i] * l, 0);
      // GPU `exact` stops at its achieved polar error (~1e-6 relative in f32; measured loss error
      // ≤ 1e-7 relative, pCorrect ≤ 2e-7).
      expect(Math.abs(muon[t].loss - want), `step ${t}`).toBeLessThanOrEqual(1e-5 * want);
      if (t === 3) ref.pTrue.forEach((x, i) => expect(Math.abs(pc[i] - x), `item ${i}`).toBeLessThanOrEqual(1e-5));
      const D = polarFactor(ref.G, N, N);
      W = W.map((w, i) => w - D[i]);
    }
    // docs/math.md §4 ([A], [B]): Muon learns every group at nearly the same rate; GD starves the tail even
    // at a lower loss (Float64: Muon min/max ≈ 0.90 at loss 0.75, GD η = 30 ≈ 0.11 at loss 0.55).
    const last = (rs: typeof muon) => rs[rs.length - 1];
    expect(last(gd).loss).toBeLessThan(last(muon).loss);
    expect(last(muon).minPCorrect / last(muon).maxPCorrect).toBeGreaterThan(0.85);
    expect(last(gd).minPCorrect / last(gd).maxPCorrect).toBeLessThan(0.2);
    expect(last(muon).buckets.map((b) => b.bucket)).toEqual(['group 1', 'group 2', 'group 3']);
  });

  test('a diverging run is frozen and reported once; the other run of its batch goes on', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const N = 12;
    // GD with momentum ½ on identity, one head item of mass 0.9: η = 3e38 puts W_00 at
    // η·0.9·(1 − 1/N) ≈ 2.5e38 after the first update and the momentum term pushes it past the f32
    // maximum in the second (its gradient is 0 by then: p̂ saturates), so W_2 would be infinite.
    // Both entries use the gd kernel, so they share one batch.
    const config = cfg({
      task: { N, dIn: N, dOut: N, embedding: 'identity', frequency: { kind: 'two-class', headCount: 1, headMass: 0.9 } },
      optimizers: [
        { name: 'gd', lr: 1, momentum: 0.5, label: 'sane' },
        { name: 'gd', lr: 3e38, momentum: 0.5, label: 'huge' },
      ],
      training: { steps: 4 },
    });
    const result = await withErrorScopes(gpu, () => trainCell(gpu, config));
    expect(result.stopped).toBe('steps');
    const sane = result.records.filter((r) => r.optimizer === 'sane');
    const huge = result.records.filter((r) => r.optimizer === 'huge');
    expect(sane.map((r) => r.step)).toEqual([0, 1, 2, 3, 4]);
    expect(sane.every((r) => !r.diverged)).toBe(true);
    for (let t = 1; t < sane.length; t++) expect(sane[t].loss).toBeLessThan(sane[t - 1].loss);
    expect(huge.map((r) => [r.step, r.diverged])).toEqual([
      [0, false],
      [1, false],
      [2, true],
    ]);
    expect(huge[2].divergedAtStep).toBe(2);
    expect(huge[1].capacity).toBe(N);
    expect(result.runs.map((r) => [r.optimizer, r.diverged, r.divergedAtStep])).toEqual([
      ['sane', false, null],
      ['huge', true, 2],
    ]);
    // Frozen at W_1 (finite): its final per-item values are still those of W_1.
    expect(Array.from(result.finalPerItem!.runs[1].correct).every((c) => c === 1)).toBe(true);
  });

  test('a run whose loss is non-finite (W finite) is frozen by the scheduler and reported once', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const N = 12;
    // SignGD with label noise: W_1 = η(2I − 11ᵀ), finite for η = 1e38, but the noisy loss's
    // ε·(lse − Σ_j z_j/N) term sums N − 1 logits of −1e38 and overflows f32: loss = +∞ at step 1.
    // The update kernels cannot see that (every candidate W is finite), so the scheduler sets the flag.
    const config = cfg({
      task: { N, dIn: N, dOut: N, embedding: 'identity', noise: 0.1 },
      optimizers: [
        { name: 'signgd', lr: 0.1, label: 'sane' },
        { name: 'signgd', lr: 1e38, label: 'overflow' },
      ],
      training: { steps: 3 },
    });
    const result = await withErrorScopes(gpu, () => trainCell(gpu, config));
    const sane = result.records.filter((r) => r.optimizer === 'sane');
    const bad = result.records.filter((r) => r.optimizer === 'overflow');
    expect(sane.map((r) => [r.step, r.diverged])).toEqual([
      [0, false],
      [1, false],
      [2, false],
      [3, false],
    ]);
    expect(bad.map((r) => [r.step, r.diverged, r.divergedAtStep])).toEqual([
      [0, false, null],
      [1, true, 1],
    ]);
    expect(Number.isFinite(bad[1].loss)).toBe(false);
    expect(result.runs[1].diverged).toBe(true);
    expect(result.stopped).toBe('steps');
    // The flag lands after step 1's command buffer, whose update already took W_1 to W_2 = 0 (at W_1
    // p̂ is one-hot, so sign(G) = −(2I − 11ᵀ) exactly undoes it). Frozen, W stays 0 (pCorrect = 1/N);
    // without the freeze step 2 would bring back W_3 = W_1 (pCorrect ≈ 1).
    result.finalPerItem!.runs[1].pCorrect.forEach((x) => expect(x).toBeCloseTo(1 / N, 6));
  });

  test('stops at targetLoss, on capacity stall, and when cancelled; progress events count steps', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const N = 16;
    const task = { N, dIn: N, dOut: N, embedding: 'identity' as const, frequency: { kind: 'uniform' as const } };
    const progress: TrainProgress[] = [];
    // GD on uniform identity: loss_t = log(1 + (N−1)e^{−m_t}) with margins growing each step.
    const target = await withErrorScopes(gpu, () =>
      trainCell(
        gpu,
        cfg({
          task,
          optimizers: [{ name: 'gd', lr: 40 }],
          training: { steps: 50, runSeeds: [0, 1], stop: { targetLoss: 0.5 } },
          metrics: { every: 2 },
        }),
        {
          cell: 'c1',
          onProgress: (e) => progress.push(e),
        },
      ),
    );
    expect(target.stopped).toBe('targetLoss');
    expect(target.steps).toBeLessThan(50);
    expect(target.steps % 2).toBe(0);
    const final = target.records.filter((r) => r.step === target.steps);
    expect(final).toHaveLength(2);
    final.forEach((r) => expect(r.loss).toBeLessThan(0.5));
    target.records.filter((r) => r.step < target.steps).forEach((r) => expect(r.loss).toBeGreaterThanOrEqual(0.5));
    expect(progress.map((e) => e.step)).toEqual(Array.from({ length: target.steps + 1 }, (_, i) => i));
    expect(progress.every((e) => e.cell === 'c1' && e.steps === 50)).toBe(true);

    // Capacity: every item is recovered after one step, so it cannot gain over a window of 2 steps.
    const stall = await trainCell(
      gpu,
      cfg({ task, optimizers: [{ name: 'gd', lr: 1 }], training: { steps: 30, stop: { capacityGain: { percent: 0.5, window: 2 } } } }),
    );
    expect(stall.stopped).toBe('capacityGain');
    expect(stall.steps).toBe(3);

    const controller = new AbortController();
    const cancelled = await trainCell(gpu, cfg({ task, optimizers: [{ name: 'gd', lr: 1 }], training: { steps: 100 } }), {
      signal: controller.signal,
      onProgress: (e) => {
        if (e.step === 4) controller.abort();
      },
    });
    expect(cancelled.stopped).toBe('cancelled');
    expect(cancelled.steps).toBe(4);
    expect(cancelled.records.map((r) => r.step)).toEqual([0, 1, 2, 3, 4]);
  });

  test('minibatch SGD with a geometric schedule and label noise = Float64 re-implementation from the same draws', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const N = 32;
    const d = 8;
    const B = 12;
    const seeds = [3, 11];
    const steps = 3;
    const entry = { name: 'sgd' as const, lr: { kind: 'geometric' as const, lr: 0.5, growth: 2 } };
    const config = cfg({
      task: {
        N,
        dIn: d,
        dOut: d,
        embedding: 'gaussian',
        frequency: { kind: 'power', powerExponent: 1.2 },
        noise: 0.2,
        noiseTarget: 'sampled',
        taskSeed: 5,
      },
      optimizers: [entry],
      training: { mode: 'minibatch', batchSize: B, steps, runSeeds: seeds },
      metrics: { every: 2 },
    });
    const task = await createGpuTask(gpu, config.task);
    try {
      if (task.embeddings.kind !== 'dense') throw new Error('gaussian embeddings are dense');
      const E = Float64Array.from(await readTensor(gpu, task.embeddings.E));
      const Et = Float64Array.from(await readTensor(gpu, task.embeddings.Et));
      const result = await withErrorScopes(gpu, () => trainCell(gpu, config, {}, { task }));
      // Metric steps: 0, 2 and the last (3).
      expect(result.records.map((r) => [r.run, r.step])).toEqual([
        [0, 0],
        [1, 0],
        [0, 2],
        [1, 2],
        [0, 3],
        [1, 3],
      ]);
      const oc = parseOptimizerConfig(entry);
      const { schedule } = runParamsFor(oc, { rows: d, cols: d, dims: { d_in: d, d_out: d, N } });
      const thresholds = samplingThresholds(task.frequencies);
      seeds.forEach((seed, r) => {
        const params = defaultRunParams(runParamsFor(oc, { rows: d, cols: d }).params);
        const state: CpuRunState = { w: new Float64Array(d * d) };
        for (let t = 0; t <= steps; t++) {
          const pop = softmaxGradCpu({
            runs: 1,
            N,
            dIn: d,
            dOut: d,
            W: state.w,
            E,
            Et,
            targets: { kind: 'population', weights: task.frequencies },
            noise: 0.2,
            noiseTarget: 'sampled',
          });
          const record = result.records.find((x) => x.run === r && x.step === t);
          if (record) {
            const want = pop.loss.reduce((s, l, i) => s + task.frequencies[i] * l, 0);
            // (N + d)-long f32 sums per step, as in the population test.
            expect(Math.abs(record.loss - want), `seed ${seed} step ${t}`).toBeLessThanOrEqual((N + d) * F32_UNIT_ROUNDOFF * want);
            expect(record.lr).toBeCloseTo(learningRateAt(schedule, t + 1), 5);
          }
          if (t === steps) {
            expect(record!.minibatchLoss, 'no draws at the last step').toBeUndefined();
            break;
          }
          const draws = sampleMinibatchCpu({ seeds: [seed], step: t, batchSize: B, thresholds, N, noise: 0.2 });
          const mb = softmaxGradCpu({
            runs: 1,
            N,
            dIn: d,
            dOut: d,
            W: state.w,
            E,
            Et,
            targets: { kind: 'minibatch', batchSize: B, items: draws.items, labels: draws.labels },
            noise: 0.2,
            noiseTarget: 'sampled',
          });
          if (record) {
            const want = mb.loss.reduce((a, b) => a + b, 0) / B;
            expect(Math.abs(record.minibatchLoss! - want), `minibatch loss, seed ${seed} step ${t}`).toBeLessThanOrEqual(
              (N + d) * F32_UNIT_ROUNDOFF * want,
            );
          }
          params.lr = learningRateAt(schedule, t + 1);
          optimizerStepCpu(state, { config: oc, rows: d, cols: d, params, gradient: mb.G });
          params.step++;
        }
      });
    } finally {
      task.destroy();
    }
  });

  test('tra-signgd and Muon on identity: closed-form margins, evalItems, power buckets, isotropy of the update', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const N = 16;
    const eta = 0.75;
    const config = cfg({
      task: { N, dIn: N, dOut: N, embedding: 'identity', frequency: { kind: 'power', powerExponent: 1 } },
      optimizers: [
        { name: 'tra-signgd', lr: eta },
        { name: 'muon', lr: 1, momentum: 0, momentumForm: 'sum', orth: 'exact' },
      ],
      training: { steps: 1 },
      metrics: { evalItems: 8, isotropy: true },
    });
    const result = await withErrorScopes(gpu, () => trainCell(gpu, config));
    // tra-signgd with E = Ẽ = I: D = sign(G) = sign((P − T)diag(p)) = 11ᵀ − 2I at W_0, so every item
    // gets the margin 2η: pCorrect = 1 / (1 + (N − 1)e^{−2η}), whatever its frequency.
    const tra = result.finalPerItem!.runs[0];
    const want = 1 / (1 + (N - 1) * Math.exp(-2 * eta));
    tra.pCorrect.forEach((x, i) => expect(Math.abs(x - want), `item ${i}`).toBeLessThanOrEqual(4 * N * F32_UNIT_ROUNDOFF));
    const r1 = result.records.find((r) => r.run === 0 && r.step === 1)!;
    expect(r1.evalItems).toBe(8);
    expect(r1.capacity).toBe(8);
    expect(r1.buckets.map((b) => [b.bucket, b.items])).toEqual([
      ['ranks 1-1', 1],
      ['ranks 2-3', 2],
      ['ranks 4-7', 4],
      ['ranks 8-15', 1],
    ]);
    const r0 = result.records.find((r) => r.run === 1 && r.step === 0)!;
    expect(r0.isotropy!.w.n, 'W_0 = 0 has no singular values').toBe(0);
    // Muon's first update orth(G_0) has N − 1 unit singular values (G_0's null space is the all-ones
    // direction): eRank = N − 1, TopE_1 = 1/(N − 1), Q75/25 = 1, up to the GPU polar factor's
    // achieved error (~1e-6). Its null direction holds ~1e-5 (f32 Polar Express fills it a little,
    // docs/math.md §2) — above the f32 zero threshold, so n may count it, with no visible energy.
    const u = r0.isotropy!.update!;
    expect(Math.abs(u.eRank - (N - 1))).toBeLessThanOrEqual(1e-3);
    expect(Math.abs(u.topE[0] - 1 / (N - 1))).toBeLessThanOrEqual(1e-4);
    expect(Math.abs(u.q75over25! - 1)).toBeLessThanOrEqual(1e-3);
    expect(u.hNorm!).toBeGreaterThanOrEqual(Math.log(N - 1) / Math.log(N) - 1e-4);
    expect(result.records.find((r) => r.run === 1 && r.step === 1)!.isotropy!.update).toBeNull();
  });

  test('a step plan: steps after the first record without new buffers or bind groups, and the results are bit-identical to recording afresh', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    // Counts createBuffer and createBindGroup through a proxy of the device.
    let buffers = 0;
    let bindGroups = 0;
    const device = new Proxy(gpu.device, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (prop === 'createBuffer') return (d: GPUBufferDescriptor) => (buffers++, target.createBuffer(d));
        if (prop === 'createBindGroup') return (d: GPUBindGroupDescriptor) => (bindGroups++, target.createBindGroup(d));
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const counted = { ...gpu, device } as typeof gpu;
    const task = { N: 16, dIn: 8, dOut: 8, embedding: 'gaussian' as const };
    const optimizers = [
      { name: 'adam' as const, lr: 0.05 },
      { name: 'muon' as const, lr: 0.5 },
    ];
    // Minibatch mode: the sampler's and the loss guard's uniforms carry the step; metric steps (every
    // 2nd) add the population evaluation's dispatches.
    const config = (steps: number) =>
      cfg({ task, optimizers, training: { steps, mode: 'minibatch', batchSize: 4, runSeeds: [1, 2] }, metrics: { every: 2 } });
    const run = async (steps: number, stepPlan: boolean) => {
      const before = { buffers, bindGroups };
      const result = await withErrorScopes(gpu, () => trainCell(counted, config(steps), {}, { stepPlan }));
      return { result, buffers: buffers - before.buffers, bindGroups: bindGroups - before.bindGroups };
    };
    // T = 4 and T = 8: both fill the readback ring's two staging sets (metric steps 0, 2, 4, …; its
    // buffers are made at a set's first use), so the difference is steps only.
    const short = await run(4, true);
    const long = await run(8, true);
    // Four more steps (two of them metric steps) made nothing new.
    expect([long.buffers, long.bindGroups]).toEqual([short.buffers, short.bindGroups]);
    expect(long.result.recording!.plan!.bindGroupsCreated).toBe(short.result.recording!.plan!.bindGroupsCreated);
    expect(long.result.recording!.plan!.uniformWrites).toBeGreaterThan(short.result.recording!.plan!.uniformWrites);
    expect(long.result.recording!.dispatches).toBeGreaterThan(short.result.recording!.dispatches);
    // Without the plan every dispatch makes its uniform buffers and bind group (what this test detects).
    const fresh = await run(8, false);
    expect(fresh.bindGroups - long.bindGroups).toBeGreaterThanOrEqual(
      fresh.result.recording!.dispatches - long.result.recording!.plan!.bindGroupsCreated,
    );
    expect(fresh.result.recording!.plan).toBeUndefined();
    // Same records and final per-item arrays, bit for bit.
    expect(long.result.records).toEqual(fresh.result.records);
    expect(long.result.finalPerItem).toEqual(fresh.result.finalPerItem);
    expect(long.result.records.length).toBeGreaterThan(0);
  });

  test('every buffer it creates is destroyed (population and minibatch, all optimizer kinds)', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    // Counts createBuffer / destroy through a proxy of the device (methods bound to the real one).
    const { gpu: tracked, live, created } = trackBuffers(gpu);
    const N = 12;
    const optimizers = [
      { name: 'gd' as const, lr: 1 },
      { name: 'signgd' as const, lr: 0.1 },
      { name: 'adam' as const, lr: 0.1 },
      { name: 'muon' as const, lr: 0.5, orth: 'exact' as const },
      { name: 'muon-reg' as const, lr: 0.5, lambda: 0.01 },
      { name: 'tra-signgd' as const, lr: 0.1 },
    ];
    const task = { N, dIn: N, dOut: N, embedding: 'orthonormal' as const };
    await withErrorScopes(gpu, async () => {
      await trainCell(tracked, cfg({ task, optimizers, training: { steps: 2 }, metrics: { isotropy: true } }));
      await trainCell(
        tracked,
        cfg({ task, optimizers, training: { steps: 2, mode: 'minibatch', batchSize: 4, runSeeds: [1, 2] }, metrics: { every: 2 } }),
      );
    });
    expect(created.length).toBeGreaterThan(20);
    expect([...live].map((b) => b.label)).toEqual([]);
  });
});
