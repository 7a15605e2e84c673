// [C] Fig. 3 at `ci` scale: one minibatch step from W₀ = 0, batch sweep per d (N = 2048, a = 1.5,
// d ∈ {32, 64, 128}). Pass/fail is recomputed here from the raw capacities, with thresholds written
// here (not the preset's `agrees`). Also checks the preset's Float64 gradient at W₀ = 0 against the
// GPU's softmax-gradient kernel, since the preset forms minibatch gradients that way.
import { expect, test } from 'vitest';
import { computeSoftmaxGrad } from '../src/kernels/softmaxGrad/softmaxGrad';
import { createTensor, readTensor } from '../src/gpu/tensor';
import { F32_UNIT_ROUNDOFF } from '../src/cpu/compare';
import { createGpuTask } from '../src/task/taskGpu';
import { criticalBatch } from '../src/experiments/criticalBatch';
import { gradientAtZero, readEmbeddings } from '../src/experiments/minibatchOneStep';
import { cCriticalBatch, SATURATION_FRACTION, type BatchPoint } from '../src/experiments/presets/cCriticalBatch';
import { fitPowerLaw } from '../src/metrics/fits';
import { gpuOrSkip, withErrorScopes } from './gpuFixture';

test('criticalBatch interpolates the first crossing in log B', () => {
  const curve = [
    { batchSize: 4, capacity: 1 },
    { batchSize: 16, capacity: 5 },
    { batchSize: 64, capacity: 20 },
    { batchSize: 256, capacity: 21 },
  ];
  // target 0.9·20 = 18 lies between 5 (B = 16) and 20 (B = 64): s = 13/15 of the way in log B.
  expect(criticalBatch(curve, 20, 0.9)).toBeCloseTo(Math.exp(Math.log(16) + (13 / 15) * Math.log(4)), 10);
  expect(criticalBatch(curve, 100, 0.9)).toBeNaN();
  expect(criticalBatch(curve, 1, 0.9)).toBe(4);
});

test("gradient at W₀ = 0 in Float64 = the GPU kernel's population gradient", async (ctx) => {
  const gpu = await gpuOrSkip(ctx);
  if (!gpu) return;
  const N = 512;
  const d = 16;
  const task = await createGpuTask(gpu, {
    N,
    dIn: d,
    dOut: d,
    embedding: 'gaussian',
    frequency: { kind: 'power', powerExponent: 1.5 },
    taskSeed: 3,
  });
  const W = createTensor(gpu, { rows: d, cols: d, label: 'W0' });
  const G = createTensor(gpu, { rows: d, cols: d, label: 'G' });
  try {
    const emb = await readEmbeddings(gpu, task);
    const want = gradientAtZero(emb, task.frequencies);
    const r = await withErrorScopes(gpu, () =>
      computeSoftmaxGrad(gpu, {
        W,
        G,
        embeddings: task.embeddings,
        targets: { kind: 'population', weights: task.weights },
        noise: 0,
        noiseTarget: 'sampled',
      }),
    );
    r.destroy();
    const got = await readTensor(gpu, G);
    // Bound per entry: the f32 sums over N items (G and ē) err by ≤ (N + 4)·u times the sum of the
    // absolute terms, Σ_i p_i(|ē_r| + |ẽ_ir|)|e_ic|, plus ē's own error N·u·mean|ẽ_r| times |Σ p_i e_ic|.
    for (let r = 0; r < d; r++) {
      let meanAbs = 0;
      let mean = 0;
      for (let i = 0; i < N; i++) {
        meanAbs += Math.abs(emb.Et[i * d + r]) / N;
        mean += emb.Et[i * d + r] / N;
      }
      for (let c = 0; c < d; c++) {
        let terms = 0;
        let s = 0;
        for (let i = 0; i < N; i++) {
          terms += task.frequencies[i] * (Math.abs(mean) + Math.abs(emb.Et[i * d + r])) * Math.abs(emb.E[i * d + c]);
          s += task.frequencies[i] * emb.E[i * d + c];
        }
        const bound = (N + 4) * F32_UNIT_ROUNDOFF * (terms + meanAbs * Math.abs(s));
        expect(Math.abs(got[r * d + c] - want[r * d + c]), `G[${r}][${c}]`).toBeLessThanOrEqual(bound);
      }
    }
  } finally {
    for (const t of [W, G]) t.buffer.destroy();
    task.destroy();
  }
});

test("c-critical-batch ci: Muon saturates at a batch far above SGD's, and B*_Muon grows with d faster than SGD's", async (ctx) => {
  const gpu = await gpuOrSkip(ctx);
  if (!gpu) return;
  const report = await cCriticalBatch.run(gpu, 'ci', () => {});
  const points: BatchPoint[] = report.measurements;
  const ds = [32, 64, 128];
  const bstar = (d: number, optimizer: string) => {
    const sel = points.filter((p) => p.d === d && p.optimizer === optimizer);
    const plateau = sel.find((p) => p.batchSize === null)!.capacity;
    return criticalBatch(
      sel.filter((p) => p.batchSize !== null).map((p) => ({ batchSize: p.batchSize!, capacity: p.capacity })),
      plateau,
      SATURATION_FRACTION,
    );
  };
  const muon = ds.map((d) => bstar(d, 'Muon'));
  const sgd = ds.map((d) => bstar(d, 'SGD'));
  const muonFit = fitPowerLaw(ds, muon);
  console.log(
    `[c-critical-batch ci] B* Muon ${muon.map((b) => b.toFixed(0)).join(', ')} (exponent ${muonFit.slope.toFixed(3)}, predicted 2); B* SGD ${sgd.map((b) => b.toFixed(1)).join(', ')}; ` +
      `plateaus Muon ${ds.map((d) => points.find((p) => p.d === d && p.optimizer === 'Muon' && p.batchSize === null)!.capacity).join(', ')}, SGD ${ds.map((d) => points.find((p) => p.d === d && p.optimizer === 'SGD' && p.batchSize === null)!.capacity).join(', ')}; ${(report.elapsedMs / 1000).toFixed(1)} s`,
  );
  // Finite sizes: the population capacity fits above d^{1+1/(2a)} (≈ d^1.4–1.6 here), and B* ≈ capacity^a,
  // so the exponent lands above a + 1/2 = 2; one seed and three d give a wide interval.
  expect(muonFit.slope).toBeGreaterThanOrEqual(1.5);
  expect(muonFit.slope).toBeLessThanOrEqual(3);
  // SGD saturates within tens of draws; Muon's critical batch is far above it once d ≥ 64 and the
  // ratio grows with d (predicted d^a).
  for (const [k, d] of ds.entries()) {
    expect(sgd[k], `SGD B* at d = ${d}`).toBeLessThan(64);
    expect(muon[k] / sgd[k], `Muon/SGD B* at d = ${d}`).toBeGreaterThan(d >= 64 ? 20 : 3);
  }
  expect(muon[2] / sgd[2]).toBeGreaterThan(muon[0] / sgd[0]);
  // Below saturation Muon recovers about every item drawn: capacity ≈ B^{1/a} ≈ distinct items.
  const limited = points.filter(
    (p) =>
      p.optimizer === 'Muon' &&
      p.batchSize !== null &&
      p.distinct <= 0.25 * points.find((q) => q.d === p.d && q.optimizer === 'Muon' && q.batchSize === null)!.capacity,
  );
  expect(limited.length).toBeGreaterThanOrEqual(6);
  const ratio = limited.reduce((s, p) => s + p.capacity, 0) / limited.reduce((s, p) => s + p.distinctEvaluated, 0);
  expect(ratio).toBeGreaterThanOrEqual(0.85);
  // An undrawn item carries no signal in W (its output enters only through ē/N): its true output wins
  // the argmax only by chance, ≈ 1/N each, so ≈ (512 − drawn)/2048 ≤ 0.25 chance wins per evaluation
  // (Poisson); an excess of 3 or more at one point would mean drawn-ness is not what limits capacity.
  for (const p of points.filter((q) => q.batchSize !== null))
    expect(p.capacity - p.distinctEvaluated, `${p.optimizer} d = ${p.d}, B = ${p.batchSize}`).toBeLessThanOrEqual(2);
}, 1_200_000);
