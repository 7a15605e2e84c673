// Every optimizer's GPU step against its Float64 twin from the same f32 state (cases and the
// per-optimizer tolerances — absolute per element, from the magnitudes each formula combines — are
// in src/kernels/optimizers/check.ts, shared with `muonlab check optimizers`).
import { describe, expect, test } from 'vitest';
import { optimCaseId, optimCases, runOptimCase } from '../src/kernels/optimizers/check';
import { gpuOrSkip, withErrorScopes } from './gpuFixture';
import { runCommands } from '../src/gpu/commands';
import type { Gpu } from '../src/gpu/device';
import {
  advanceRuns,
  createRunParams,
  defaultRunParams,
  readRunParams,
  RUN_PARAM_FIELDS,
  RUN_PARAMS_BYTES,
  type RunParamValues,
} from '../src/gpu/runParams';
import { readTensor, uploadTensor, writeTensor } from '../src/gpu/tensor';
import { F32_UNIT_ROUNDOFF } from '../src/cpu/compare';
import { optimizerStepCpu, type CpuRunState } from '../src/cpu/optim';
import { frobeniusNorm } from '../src/cpu/newtonSchulz';
import { regularizedPolar, spectralNorm } from '../src/cpu/polar';
import { randomF32 } from '../src/cpu/random';
import { conditionedMatrix } from '../src/kernels/newtonSchulz/check';
import {
  createOptimizer,
  parseOptimizerConfig,
  runParamsFor,
  stepOptimizer,
  writeListLearningRates,
  type OptimizerConfigInput,
} from '../src/optim';
import { createMuonReg } from '../src/optim/muonReg';

describe('optimizer step: GPU = CPU twin', () => {
  for (const c of optimCases('full')) {
    test(optimCaseId(c), async (ctx) => {
      const gpu = await gpuOrSkip(ctx);
      if (!gpu) return;
      const r = await withErrorScopes(gpu, () => runOptimCase(gpu, c));
      expect(r.diverged, 'no run diverges on finite inputs').toEqual(r.diverged.map(() => 0));
      expect(r.w.nonFinite).toBe(0);
      expect(
        r.w.worstRatio,
        `W: max error ${r.w.maxAbsError} at ${r.w.worstIndex} (got ${r.w.worstGot}, want ${r.w.worstWant})`,
      ).toBeLessThanOrEqual(1);
      r.state.forEach((s, k) => {
        expect(
          s.worstRatio,
          `state ${k}: max error ${s.maxAbsError} at ${s.worstIndex} (got ${s.worstGot}, want ${s.worstWant})`,
        ).toBeLessThanOrEqual(1);
      });
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Cross-optimizer identities, muon-reg against the SVD form, divergence.

async function gpuStep(
  gpu: Gpu,
  config: OptimizerConfigInput,
  shape: { batch: number; rows: number; cols: number },
  w0: Float32Array,
  g: Float32Array,
  over: Partial<RunParamValues>[] = [],
) {
  const cfg = parseOptimizerConfig(config);
  const runs = Array.from({ length: shape.batch }, (_, r) => defaultRunParams({ ...runParamsFor(cfg, shape).params, ...over[r] }));
  const params = createRunParams(gpu, runs);
  const w = uploadTensor(gpu, { ...shape, label: 'W' }, w0);
  const gt = uploadTensor(gpu, { ...shape, label: 'G' }, g);
  const opt = createOptimizer(gpu, cfg, shape);
  try {
    await runCommands(gpu, (rec) => opt.step(rec, { w, g: gt, params }));
    return { w: await readTensor(gpu, w), runs: await readRunParams(gpu, params) };
  } finally {
    opt.destroy();
    for (const b of [params.buffer, w.buffer, gt.buffer]) b.destroy();
  }
}

describe('identities on the GPU', () => {
  test('adam with β1 = β2 = 0, ε = 1e-12 equals signgd wherever |G| > 1e-9', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const shape = { batch: 2, rows: 12, cols: 20 };
    const n = 2 * 12 * 20;
    // |G| spread over 1 … 1e-11 so the comparison sees both sides of the 1e-9 line.
    const g = randomF32(n, 5, -1, 1).map((v, i) => v * 10 ** -(i % 12));
    const w0 = randomF32(n, 6);
    const adam = await withErrorScopes(gpu, () => gpuStep(gpu, { name: 'adam', lr: 0.5, beta1: 0, beta2: 0, eps: 1e-12 }, shape, w0, g));
    const sign = await withErrorScopes(gpu, () => gpuStep(gpu, { name: 'signgd', lr: 0.5 }, shape, w0, g));
    let compared = 0;
    for (let i = 0; i < n; i++) {
      if (Math.abs(g[i]) <= 1e-9) continue;
      // Adam's D = G/(|G| + ε) differs from sign(G) by ≤ ε/|G| ≤ 1e-3; f32: sqrt(G²) and the division
      // add ≤ 3u relative, and W − η·D rounds once more at |W| + η.
      const tol = 0.5 * (1e-12 / Math.abs(g[i]) + 4 * F32_UNIT_ROUNDOFF) + 2 * F32_UNIT_ROUNDOFF * (Math.abs(w0[i]) + 0.5);
      expect(Math.abs(adam.w[i] - sign.w[i]), `entry ${i}, G = ${g[i]}`).toBeLessThanOrEqual(tol);
      compared++;
    }
    expect(compared).toBeGreaterThan(300);
  });
});

describe('muon-reg on the GPU against the SVD form σ → σ/√(σ² + λ²)', () => {
  // κ-aware tolerance in spectral norm, ‖D_GPU − D_SVD‖₂ ≤ κ(G)²·u: forming GᵀG in f32 rounds it
  // by u relative to σ_max², which is κ(GᵀG)·u = κ²·u relative to its smallest eigenvalues — the
  // error the inverse square root inherits (κ = 10: 6e-6, κ = 100: 6e-4; docs/math.md measured 5e-6 and
  // 3e-4 with λ = 1e-3·σ_max, this suite ≈ 1.2e-6 and 6e-5). A 0.1 % scale error already fails both.
  for (const kappa of [10, 100]) {
    test(`κ = ${kappa}, λ = 1e-3·σ_max, 16×24, R = 2`, async (ctx) => {
      const gpu = await gpuOrSkip(ctx);
      if (!gpu) return;
      const [rows, cols, R] = [16, 24, 2];
      const per = rows * cols;
      const g = new Float32Array(R * per);
      for (let r = 0; r < R; r++) g.set(conditionedMatrix(rows, cols, kappa, 40 + r, 0, 1 + r), r * per);
      const shape = { batch: R, rows, cols };
      const lambdas = [1e-3, 2e-3]; // 1e-3·σ_max with σ_max = 1, 2
      const opt = createMuonReg(gpu, shape, 60);
      const params = createRunParams(
        gpu,
        lambdas.map((lambda) => defaultRunParams({ lr: 1, scale: 1, lambda })),
      );
      const w = uploadTensor(gpu, { ...shape, label: 'W' }, new Float32Array(R * per));
      const gt = uploadTensor(gpu, { ...shape, label: 'G' }, g);
      try {
        await withErrorScopes(gpu, () => runCommands(gpu, (rec) => opt.step(rec, { w, g: gt, params })));
        const got = await readTensor(gpu, w);
        const report = await opt.report();
        for (let r = 0; r < R; r++) {
          const want = regularizedPolar(g.subarray(r * per, (r + 1) * per), rows, cols, lambdas[r]);
          const err = spectralNorm(
            Array.from(want, (v, i) => -got[r * per + i] - v),
            rows,
            cols,
          );
          expect(err, `run ${r}: ${report.iterations[r]} iterations, residual ${report.residual[r]}`).toBeLessThanOrEqual(
            kappa ** 2 * F32_UNIT_ROUNDOFF,
          );
          expect(report.iterations[r]).toBeLessThan(60);
        }
      } finally {
        opt.destroy();
        for (const b of [params.buffer, w.buffer, gt.buffer]) b.destroy();
      }
    });
  }

  test('large λ: λ·D → G relatively, with error ≈ σ²/(2λ²)', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const [rows, cols] = [20, 12];
    const g = conditionedMatrix(rows, cols, 4, 77);
    const lambda = 30;
    const r = await withErrorScopes(gpu, () =>
      gpuStep(gpu, { name: 'muon-reg', lr: 1, lambda }, { batch: 1, rows, cols }, new Float32Array(rows * cols), g),
    );
    const lambdaD = Array.from(r.w, (v) => -lambda * v);
    const rel = frobeniusNorm(lambdaD.map((v, i) => v - g[i])) / frobeniusNorm(g);
    // Exact: λσ/√(σ²+λ²) = σ(1 − σ²/(2λ²) + …): the relative gap is between σ_min² and σ_max²
    // over 2λ² (σ ∈ [0.25, 1] here: 1.7e-5 … 5.6e-4), far above the f32 floor (~1e-6). An absolute
    // tolerance would pass a GPU that returned G/λ exactly; this one needs the right deviation.
    const wantRel = frobeniusNorm(Array.from(regularizedPolar(g, rows, cols, lambda), (v, i) => lambda * v - g[i])) / frobeniusNorm(g);
    expect(wantRel).toBeGreaterThan(0.25 ** 2 / (2 * lambda ** 2));
    expect(wantRel).toBeLessThan(1 / (2 * lambda ** 2));
    expect(Math.abs(rel - wantRel)).toBeLessThanOrEqual(0.05 * wantRel);
  });
});

describe('divergence: a run whose update becomes non-finite freezes, the others go on', () => {
  function lrOffset(run: number): number {
    return run * RUN_PARAMS_BYTES + RUN_PARAM_FIELDS.find((f) => f.name === 'lr')!.offset;
  }

  test('gd, R = 3: run 1 overflows at step 2; its W and flag stay, runs 0 and 2 match the CPU twin after 3 steps', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const shape = { batch: 3, rows: 5, cols: 7 };
    const per = 35;
    const cfg = parseOptimizerConfig({ name: 'gd', lr: 0.1, momentum: 0.5 });
    const w0 = randomF32(3 * per, 11);
    const g = randomF32(3 * per, 12, 1, 10); // |G| ≥ 1: η = 1e38 overflows f32
    const runs = [0, 1, 2].map(() => defaultRunParams(runParamsFor(cfg, shape).params));
    const params = createRunParams(gpu, runs);
    const w = uploadTensor(gpu, { ...shape, label: 'W' }, w0);
    const gt = uploadTensor(gpu, { ...shape, label: 'G' }, g);
    const opt = createOptimizer(gpu, cfg, shape);
    try {
      const step = () =>
        withErrorScopes(gpu, () =>
          runCommands(gpu, async (rec) => {
            await opt.step(rec, { w, g: gt, params });
            await advanceRuns(rec, params);
          }),
        );
      await step();
      const afterOne = await readTensor(gpu, w);
      const momentumAfterOne = await readTensor(gpu, opt.state.momentum);
      gpu.device.queue.writeBuffer(params.buffer, lrOffset(1), new Float32Array([1e38]));
      await step();
      gpu.device.queue.writeBuffer(params.buffer, lrOffset(1), new Float32Array([0.1]));
      await step();
      const got = await readTensor(gpu, w);
      const momentum = await readTensor(gpu, opt.state.momentum);
      const final = await readRunParams(gpu, params);
      expect(final.map((p) => p.diverged)).toEqual([0, 1, 0]);
      expect(final[1].divergedAtStep).toBe(2);
      expect(final.map((p) => p.step)).toEqual([3, 1, 3]);
      expect(Array.from(got.subarray(per, 2 * per))).toEqual(Array.from(afterOne.subarray(per, 2 * per)));
      expect(Array.from(momentum.subarray(per, 2 * per))).toEqual(Array.from(momentumAfterOne.subarray(per, 2 * per)));
      for (const r of [0, 2]) {
        const s: CpuRunState = { w: Float64Array.from(w0.subarray(r * per, (r + 1) * per)), m: new Float64Array(per) };
        for (let t = 0; t < 3; t++)
          optimizerStepCpu(s, { config: cfg, rows: 5, cols: 7, params: runs[r], gradient: g.subarray(r * per, (r + 1) * per) });
        // Three elementwise steps, each ≤ 32u of |W| + η(|G| + |m|) ≤ 1 + 0.1·30.
        s.w.forEach((v, i) => expect(Math.abs(got[r * per + i] - v)).toBeLessThanOrEqual(3 * 32 * F32_UNIT_ROUNDOFF * 4 + 1e-6));
      }
    } finally {
      opt.destroy();
      for (const b of [params.buffer, w.buffer, gt.buffer]) b.destroy();
    }
  });

  const nanCases: [string, OptimizerConfigInput][] = [
    ['muon ns5', { name: 'muon', lr: 0.05, momentum: 0.9, orth: 'ns5' }],
    ['muon exact', { name: 'muon', lr: 0.05, momentum: 0.9, orth: 'exact' }],
    ['adam', { name: 'adam', lr: 0.05 }],
    ['muon-reg', { name: 'muon-reg', lr: 0.05, lambda: 0.1, maxIterations: 20 }],
  ];
  test.for(nanCases)('%s, R = 3: a NaN gradient in run 2 freezes run 2 (W and state) and the other runs go on', async ([, config], ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const shape = { batch: 3, rows: 8, cols: 12 };
    const per = 96;
    const cfg = parseOptimizerConfig(config);
    const w0 = randomF32(3 * per, 21);
    const g = randomF32(3 * per, 22);
    const bad = Float32Array.from(g);
    bad[2 * per + 17] = Number.NaN;
    const runs = [0, 1, 2].map(() => defaultRunParams(runParamsFor(cfg, shape).params));
    const params = createRunParams(gpu, runs);
    const w = uploadTensor(gpu, { ...shape, label: 'W' }, w0);
    const gt = uploadTensor(gpu, { ...shape, label: 'G' }, g);
    const opt = createOptimizer(gpu, cfg, shape);
    try {
      await withErrorScopes(gpu, () => runCommands(gpu, (rec) => opt.step(rec, { w, g: gt, params })));
      const afterOne = await readTensor(gpu, w);
      const stateOf = async () =>
        Promise.all(Object.values(opt.state).map(async (t) => Array.from((await readTensor(gpu, t)).subarray(2 * per))));
      const stateAfterOne = await stateOf();
      writeTensor(gpu, gt, bad);
      await withErrorScopes(gpu, () => runCommands(gpu, (rec) => opt.step(rec, { w, g: gt, params })));
      const got = await readTensor(gpu, w);
      const final = await readRunParams(gpu, params);
      expect(final.map((p) => p.diverged)).toEqual([0, 0, 1]);
      expect(Array.from(got.subarray(2 * per))).toEqual(Array.from(afterOne.subarray(2 * per)));
      expect(await stateOf()).toEqual(stateAfterOne);
      expect(got.subarray(0, 2 * per).every(Number.isFinite)).toBe(true);
      // Runs 0 and 1 did take their second step.
      expect(Array.from(got.subarray(0, 2 * per))).not.toEqual(Array.from(afterOne.subarray(0, 2 * per)));
    } finally {
      opt.destroy();
      for (const b of [params.buffer, w.buffer, gt.buffer]) b.destroy();
    }
  });
});

describe('bad input: a non-finite gradient handed to stepOptimizer is an error naming the field', () => {
  test.for([
    ['muon ns5', { name: 'muon', lr: 0.05, orth: 'ns5' }, Number.NaN],
    ['adam', { name: 'adam', lr: 0.05 }, Number.NEGATIVE_INFINITY],
  ] as [string, OptimizerConfigInput, number][])(
    '%s, R = 3: a non-finite entry of run 2 at (1, 5) throws before any run is updated; checkFinite: false marks run 2 diverged',
    async ([, config, bad], ctx) => {
      const gpu = await gpuOrSkip(ctx);
      if (!gpu) return;
      const shape = { batch: 3, rows: 8, cols: 12 };
      const per = 96;
      const cfg = parseOptimizerConfig(config);
      const w0 = randomF32(3 * per, 41);
      const g = randomF32(3 * per, 42);
      g[2 * per + 1 * 12 + 5] = bad;
      const params = createRunParams(
        gpu,
        [0, 1, 2].map(() => defaultRunParams(runParamsFor(cfg, shape).params)),
      );
      const w = uploadTensor(gpu, { ...shape, label: 'W' }, w0);
      const gt = uploadTensor(gpu, { ...shape, label: 'G' }, g);
      const opt = createOptimizer(gpu, cfg, shape);
      try {
        await expect(stepOptimizer(gpu, opt, { w, g: gt, params })).rejects.toThrow(
          new RegExp(`^gradient: non-finite value ${bad} at \\(1, 5\\) of run 2 \\(1 non-finite entry in 1 of 3 runs\\)`),
        );
        expect(Array.from(await readTensor(gpu, w)), 'no run was updated').toEqual(Array.from(w0));
        expect((await readRunParams(gpu, params)).map((p) => [p.diverged, p.step])).toEqual([
          [0, 0],
          [0, 0],
          [0, 0],
        ]);
        // The scheduler's reading: no validation, the run with the bad gradient freezes, the others step.
        await withErrorScopes(gpu, () => stepOptimizer(gpu, opt, { w, g: gt, params }, { checkFinite: false }));
        const got = await readTensor(gpu, w);
        expect((await readRunParams(gpu, params)).map((p) => p.diverged)).toEqual([0, 0, 1]);
        expect(Array.from(got.subarray(2 * per))).toEqual(Array.from(w0.subarray(2 * per)));
        expect(Array.from(got.subarray(0, 2 * per))).not.toEqual(Array.from(w0.subarray(0, 2 * per)));
        expect(got.every(Number.isFinite)).toBe(true);
      } finally {
        opt.destroy();
        for (const b of [params.buffer, w.buffer, gt.buffer]) b.destroy();
      }
    },
  );

  test('finite gradients pass the check and the step equals the unchecked one (signgd, R = 2)', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const shape = { batch: 2, rows: 5, cols: 7 };
    const cfg = parseOptimizerConfig({ name: 'signgd', lr: 0.25 });
    const w0 = randomF32(70, 51);
    const g = randomF32(70, 52).map((v, i) => (i === 3 ? 3.4028234663852886e38 : v)); // the largest finite f32 passes
    const params = createRunParams(
      gpu,
      [0, 1].map(() => defaultRunParams(runParamsFor(cfg, shape).params)),
    );
    const w = uploadTensor(gpu, { ...shape, label: 'W' }, w0);
    const gt = uploadTensor(gpu, { ...shape, label: 'G' }, g);
    const opt = createOptimizer(gpu, cfg, shape);
    try {
      await withErrorScopes(gpu, () => stepOptimizer(gpu, opt, { w, g: gt, params }));
      const got = await readTensor(gpu, w);
      // W − 0.25·sign(G): one f32 subtraction of an exact power of two, |W| ≤ 1.
      got.forEach((v, i) => expect(Math.abs(v - (w0[i] - 0.25 * Math.sign(g[i])))).toBeLessThanOrEqual(2 * F32_UNIT_ROUNDOFF * 1.25));
    } finally {
      opt.destroy();
      for (const b of [params.buffer, w.buffer, gt.buffer]) b.destroy();
    }
  });
});

describe('schedules on the GPU', () => {
  test('signgd, R = 3: constant, geometric (advance_runs) and list (host-written) learning rates over 3 steps', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const shape = { batch: 3, rows: 4, cols: 6 };
    const per = 24;
    const lrs: OptimizerConfigInput['lr'][] = [
      0.25,
      { kind: 'geometric', lr: '0.125*sqrt(d_in)', growth: 2 },
      { kind: 'list', values: [0.5, 0.125, 1] },
    ];
    const configs = lrs.map((lr) => parseOptimizerConfig({ name: 'signgd', lr }));
    const resolved = configs.map((c) => runParamsFor(c, { rows: 4, cols: 6, steps: 3, dims: { d_in: 4, d_out: 4, N: 4 } }));
    const params = createRunParams(
      gpu,
      resolved.map((r) => defaultRunParams(r.params)),
    );
    const w0 = randomF32(3 * per, 31);
    const g = randomF32(3 * per, 32).map((v) => (v === 0 ? 1 : v));
    const w = uploadTensor(gpu, { ...shape, label: 'W' }, w0);
    const gt = uploadTensor(gpu, { ...shape, label: 'G' }, g);
    const opt = createOptimizer(gpu, configs[0], shape);
    try {
      for (let t = 1; t <= 3; t++) {
        writeListLearningRates(
          gpu,
          params,
          resolved.map((r) => r.schedule),
          t,
        );
        await withErrorScopes(gpu, () =>
          runCommands(gpu, async (rec) => {
            await opt.step(rec, { w, g: gt, params });
            await advanceRuns(rec, params);
          }),
        );
      }
      const got = await readTensor(gpu, w);
      // Σ η_t: constant 0.75; geometric η_1 = 0.125·√4 = 0.25, ×2 per step: 0.25 + 0.5 + 1; list 1.625.
      const total = [0.75, 1.75, 1.625];
      for (let r = 0; r < 3; r++) {
        for (let i = 0; i < per; i++) {
          const k = r * per + i;
          // Three f32 subtractions of exact powers of two times ±1: ≤ 3 roundings at |W| ≤ 3.
          expect(Math.abs(got[k] - (w0[k] - total[r] * Math.sign(g[k])))).toBeLessThanOrEqual(3 * 4 * F32_UNIT_ROUNDOFF);
        }
      }
    } finally {
      opt.destroy();
      for (const b of [params.buffer, w.buffer, gt.buffer]) b.destroy();
    }
  });
});
