// The run profiler (src/gpu/runProfile.ts) on short training runs: the profile lists the kernels the
// scheduler dispatches, with the dispatch counts per step its structure dictates (src/train/
// trainCell.ts: one command buffer per step t = 0…T; update kernels only for t < T), time shares
// that sum to 1, and FLOP-based GFLOP/s where the kernels have a FLOP model.
//
// Known structure, per group of runs sharing an optimizer kernel, population mode:
//   every step        softmaxGrad at W_t        (identity embedding: one identity_softmax_grad)
//   steps t < T       optimizer(G)              (gd: gd_update check + apply passes)
//                     advance_runs              (one)
//   Muon with orth = two cubic steps (c = 0: no A² product): muon_input, sum_squares, ns_normalize,
//   then per NS step one Gram product and one X ← aX + A·X product, then muon_update check + apply.
import { describe, expect, test } from 'vitest';
import { gpuOrSkip, withErrorScopes } from './gpuFixture';
import { parseExperimentConfig, type ExperimentConfigInput } from '../src/experiments/config';
import { trainCell } from '../src/train/trainCell';
import type { ProfileKernel, RunProfile } from '../src/gpu/runProfile';
import { RunProfileSchema, withPeak } from '../src/gpu/runProfile';
import { setVariantChoices, variantChoices } from '../src/kernels/variants';
import { MATMUL_SHAPE_CLASSES } from '../src/kernels/matmul/matmul';

const cfg = (c: Omit<ExperimentConfigInput, 'name'>) => parseExperimentConfig({ name: 'profile-test', ...c });

function kernel(profile: RunProfile, label: string): ProfileKernel {
  const k = profile.kernels.find((x) => x.label === label);
  if (!k) throw new Error(`no kernel "${label}" in the profile: ${profile.kernels.map((x) => x.label).join(', ')}`);
  return k;
}

function expectSharesSumToOne(profile: RunProfile): void {
  const sum = profile.kernels.reduce((s, k) => s + k.share, 0);
  expect(Math.abs(sum - 1)).toBeLessThan(1e-12);
  const total = profile.kernels.reduce((s, k) => s + k.totalMs, 0);
  expect(Math.abs(total - profile.totalGpuMs)).toBeLessThanOrEqual(1e-9 * total);
  for (const k of profile.kernels) expect(Math.abs(k.share - k.totalMs / profile.totalGpuMs)).toBeLessThan(1e-12);
}

describe('profiled training runs', () => {
  test('gd + adam on the identity task: kernels, dispatches per step, shares', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    if (!gpu.hasTimestamps) return ctx.skip('this adapter has no timestamp-query feature');
    const T = 3;
    const config = cfg({
      task: { N: 16, dIn: 16, dOut: 16, embedding: 'identity', frequency: { kind: 'power', powerExponent: 1 } },
      optimizers: [
        { name: 'gd', lr: 2 },
        { name: 'adam', lr: 0.1 },
      ],
      training: { steps: T, runSeeds: [0, 1] },
    });
    const result = await withErrorScopes(gpu, () => trainCell(gpu, config, {}, { profile: true }));
    const profile = RunProfileSchema.parse(result.profile);
    expect(profile.steps).toBe(T + 1);
    // Two groups (gd, adam): the softmax gradient twice per step, every step.
    const softmax = kernel(profile, 'identity_softmax_grad');
    expect([softmax.dispatches, softmax.steps, softmax.dispatchesPerStep]).toEqual([2 * (T + 1), T + 1, 2]);
    expect(softmax.variants).toEqual(['softmaxGrad/identity.wgsl:identity_softmax_grad']);
    for (const label of ['gd_update (check)', 'gd_update (apply)', 'adam_update (check)', 'adam_update (apply)']) {
      const k = kernel(profile, label);
      expect([label, k.dispatches, k.steps, k.dispatchesPerStep]).toEqual([label, T, T, 1]);
    }
    const advance = kernel(profile, 'advance_runs');
    expect([advance.dispatches, advance.steps, advance.dispatchesPerStep]).toEqual([2 * T, T, 2]);
    expect(profile.dispatches).toBe(profile.kernels.reduce((s, k) => s + k.dispatches, 0));
    expectSharesSumToOne(profile);
    for (const k of profile.kernels) {
      expect(k.totalMs, k.label).toBeGreaterThanOrEqual(0);
      expect(k.timedPasses + (k.dispatches - k.timedPasses)).toBe(k.dispatches);
      expect(k.timedPasses).toBeLessThanOrEqual(k.dispatches);
    }
    // Unprofiled, nothing is attached.
    const plain = await trainCell(gpu, config);
    expect(plain.profile).toBeUndefined();
  });

  test('muon with two cubic NS steps on a dense task: NS structure, matmul variants, GFLOP/s and peak fractions', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    if (!gpu.hasTimestamps) return ctx.skip('this adapter has no timestamp-query feature');
    const T = 2;
    const config = cfg({
      task: { N: 32, dIn: 16, dOut: 16, embedding: 'gaussian', frequency: { kind: 'power', powerExponent: 1 } },
      optimizers: [
        {
          name: 'muon',
          lr: 0.5,
          momentum: 0,
          orth: {
            coefficients: [
              [1.5, -0.5, 0],
              [1.5, -0.5, 0],
            ],
          },
        },
      ],
      training: { steps: T, runSeeds: [0] },
    });
    // The variant chosen is what the profile names: pick one through the device's choice table (the
    // plain register-blocked kernel also compiles fastest on SwiftShader).
    const before = variantChoices(gpu);
    const v = 'register-blocked';
    setVariantChoices(gpu, { ...before, matmul: Object.fromEntries(MATMUL_SHAPE_CLASSES.map((shapeClass) => [shapeClass, v])) });
    let result;
    try {
      result = await withErrorScopes(gpu, () => trainCell(gpu, config, {}, { profile: true }));
    } finally {
      setVariantChoices(gpu, before);
    }
    const profile = result.profile!;
    expect(profile.steps).toBe(T + 1);
    for (const [label, perStep] of [
      ['muon_input', 1],
      ['sum_squares', 1],
      ['ns_normalize', 1],
      ['ns: X = aX + P·X', 2],
      ['muon_update (check)', 1],
      ['muon_update (apply)', 1],
      ['advance_runs', 1],
    ] as const) {
      const k = kernel(profile, label);
      expect([label, k.dispatches, k.steps]).toEqual([label, perStep * T, T]);
    }
    const gram = profile.kernels.filter((k) => k.label.startsWith('ns: A = X·Xᵀ'));
    expect(gram.reduce((s, k) => s + k.dispatches, 0)).toBe(2 * T);
    // The query projection H = W·e runs once per step (every step evaluates the population).
    const h = kernel(profile, 'softmaxGrad:H');
    expect([h.dispatches, h.steps]).toEqual([T + 1, T + 1]);
    expect(h.variants).toEqual(['matmul/matmul.wgsl:matmul_register_blocked']);
    expect(h.costModel).toBe('exact');
    // FLOPs of H per step: 2·N·dOut·dIn (one run), summed over the timed passes.
    expect(h.flops).toBe(h.timedPasses * 2 * 32 * 16 * 16);
    if (h.timedPasses > 0) expect(h.gflops!).toBeGreaterThan(0);
    expectSharesSumToOne(profile);
    const withFractions = withPeak(profile, { gflops: 10, gbps: 20 });
    const hf = kernel(withFractions, 'softmaxGrad:H');
    if (hf.gflops !== null) expect(hf.peakFraction).toBeCloseTo(hf.gflops / 10, 12);
    if (hf.gbps !== null) expect(hf.bandwidthFraction).toBeCloseTo(hf.gbps / 20, 12);
  });
});
