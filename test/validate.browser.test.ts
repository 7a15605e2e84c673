// Validation mode (src/experiments/validate.ts): 3 steps of every optimizer on the GPU and the
// Float64 CPU reference, re-synchronized each step (the CPU starts every step from the GPU's state),
// largest normwise relative difference per quantity against a tolerance derived per quantity.
// u = 2⁻²⁴ (f32 unit roundoff), S = 3 steps, N = 64 items, d = 8 (d_in = d_out).
//
// - loss: Σ p_i·loss_i of per-item losses built from d-long logits and an N-long log-sum-exp:
//   (N + d)·u relative.
// - gradient: N-long sums of residual·embedding products, each residual from the N-long softmax:
//   (N + d)·u relative to the sum of |terms|, with 2× for the cancellation between o_q and ẽ*_q.
// - update W_t − W_{t+1} (from the same G): W is stored in f32, so both W_t and W_{t+1} carry
//   u·|W| ≤ u·S·max|ΔW| (W grows by about one update per step from 0), plus ≤ 3 roundings of the
//   update: (2S + 3)·u — and on top, per optimizer:
//   · adam/adamw: the bias corrections 1 − β^t cancel; β^t from f32 pow (≤ 2 ulp = 4u·β^t) puts
//     4u/(1 − β2) on 1 − β2^t (half of it after the square root) and 4u/(1 − β1) on 1 − β1^t;
//   · muon with a schedule: nsTolerance (per-step f32 rounding through the later polynomials'
//     gains, derived in src/kernels/newtonSchulz/check.ts), absolute on D; relative to max|D| ≥ 1/√d
//     (an orthogonal d × d matrix has unit rows) that is ×√d;
//   · muon `exact`: ‖GPU − U·Vᵀ‖₂ ≤ exactToleranceFor(√d·κ(G)) (src/kernels/newtonSchulz/check.ts:
//     one more f32 rounding of G seen through the polar factor's condition, ‖G‖_F/σ_min ≤ √d·κ,
//     plus each step's rounding), valid for κ(G) ≤ 1e6 (the GPU `exact`'s design range; the test
//     checks κ), elementwise ≤ spectral, ×√d as above;
//   · muon-reg: forming GᵀG in f32 costs κ(G)²·u in its small eigen-directions (src/kernels/optimizers/check.ts), ×√d;
//   · tra-signgd: two N-long products of unit-norm embedding rows: 2N·u.
// - weights W_{t+1}: the update's error is carried into W, whose max is ≥ the update's here (W
//   grows from 0): the update's tolerance.
// - state (momentum, Adam's moments): μ·m + g or β·m + (1 − β)·g (and g²) from identical inputs:
//   ≤ 3 roundings, 4u.
import { describe, expect, test } from 'vitest';
import { gpuOrSkip, withErrorScopes } from './gpuFixture';
import { F32_UNIT_ROUNDOFF as u } from '../src/cpu/compare';
import { nsSchedule } from '../src/cpu/newtonSchulz';
import { exactToleranceFor, nsTolerance } from '../src/kernels/newtonSchulz/check';
import { validateConfig, type ValidationReport, type ValidationRow } from '../src/experiments/validate';
import type { ExperimentConfigInput } from '../src/experiments/config';

const S = 3;
const N = 64;
const d = 8;

type Entry = ExperimentConfigInput['optimizers'][number] & { label: string };
const ENTRIES: Entry[] = [
  { name: 'gd', lr: 8, label: 'gd' },
  { name: 'sgd', lr: 8, momentum: 0.9, label: 'sgd momentum' },
  { name: 'sgd', lr: 8, momentum: 0.9, nesterov: true, label: 'sgd nesterov' },
  { name: 'signgd', lr: 0.05, label: 'signgd' },
  { name: 'adam', lr: 0.05, label: 'adam' },
  { name: 'adamw', lr: 0.05, weightDecay: 0.1, label: 'adamw' },
  { name: 'muon', lr: 0.3, orth: 'ns5', label: 'muon ns5' },
  { name: 'muon', lr: 0.3, orth: 'polar-express', nesterov: true, label: 'muon polar-express' },
  { name: 'muon', lr: 0.3, orth: 'cubic', momentumForm: 'sum', momentum: 0.5, label: 'muon cubic' },
  { name: 'muon', lr: 0.3, orth: 'exact', momentum: 0, label: 'muon exact' },
  { name: 'muon-reg', lr: 0.3, lambda: 0.05, label: 'muon-reg' },
] as Entry[];

const elementwise = (2 * S + 3) * u;

function updateTolerance(label: string, row: ValidationRow): number {
  if (label.startsWith('adam')) return elementwise + (0.5 * 4 * u) / (1 - 0.999) + (4 * u) / (1 - 0.9);
  if (label === 'muon exact') {
    // Below σ_min/σ_max ≈ 1e-6 the GPU treats σ as null space while the Float64 reference lifts them.
    expect(row.gradientCondition!, `κ(G) at step ${row.step}`).toBeLessThanOrEqual(1e6);
    return elementwise + exactToleranceFor(Math.sqrt(d) * row.gradientCondition!, d, d) * Math.sqrt(d);
  }
  if (label.startsWith('muon ')) {
    const orth = label.slice('muon '.length) as 'ns5' | 'polar-express' | 'cubic';
    return elementwise + nsTolerance(nsSchedule(orth), d, d) * Math.sqrt(d);
  }
  if (label === 'muon-reg') return elementwise + row.gradientCondition! ** 2 * u * Math.sqrt(d);
  if (label === 'tra-signgd') return elementwise + 2 * N * u;
  return elementwise;
}

function tolerance(label: string, row: ValidationRow, items: number): number {
  switch (row.quantity) {
    case 'loss':
      return (items + d) * u;
    case 'gradient':
      return 2 * (items + d) * u;
    case 'update':
    case 'weights':
      return updateTolerance(label, row);
    case 'state':
      return 4 * u;
  }
}

function expectWithin(report: ValidationReport, labels: string[], items: number): void {
  const seen = new Set<string>();
  for (const row of report.rows) {
    const label = labels[Number(row.optimizer.split(':')[0])];
    const tol = tolerance(
      label,
      report.rows.find((r) => r.optimizer === row.optimizer && r.run === row.run && r.step === row.step && r.quantity === 'update') ?? row,
      items,
    );
    expect(
      row.maxRelative,
      `${label} ${row.quantity}${row.detail ? ` ${row.detail}` : ''} step ${row.step} run ${row.run}`,
    ).toBeLessThanOrEqual(tol);
    seen.add(`${label}|${row.quantity}`);
  }
  // Every optimizer reports every step of loss, gradient, update and weights.
  for (const label of labels) {
    for (const q of ['loss', 'gradient', 'update', 'weights']) {
      expect(
        report.rows.filter((r) => labels[Number(r.optimizer.split(':')[0])] === label && r.quantity === q).length,
        `${label} ${q}`,
      ).toBe(S * (report.rows.some((r) => r.run === 1) ? 2 : 1));
    }
  }
  expect(seen.size).toBeGreaterThan(0);
}

describe('validate: GPU vs Float64 CPU, one step at a time from the same state', () => {
  test('every optimizer (gd, sgd momentum/nesterov, signgd, adam, adamw, muon ns5/polar-express/cubic/exact, muon-reg), population', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    // Uniform frequencies and gaussian embeddings with N = 8d: G is well conditioned (κ ≈ 4 at W_0).
    const report = await withErrorScopes(gpu, () =>
      validateConfig(
        gpu,
        {
          name: 'validate-all',
          task: { N, dIn: d, dOut: d, embedding: 'gaussian', frequency: { kind: 'uniform' }, taskSeed: 3 },
          optimizers: ENTRIES,
          training: { steps: S, runSeeds: [0, 1] },
        },
        { steps: S },
      ),
    );
    expect(report.steps).toBe(S);
    expectWithin(
      report,
      ENTRIES.map((e) => e.label),
      N,
    );
    // Momentum / moments are compared too.
    expect(report.rows.filter((r) => r.quantity === 'state').map((r) => r.detail)).toEqual(expect.arrayContaining(['momentum', 'm', 'v']));
    // state rows for all but signgd and muon-reg (no state).
    expect(report.worst).toHaveLength(ENTRIES.length * 4 + ENTRIES.length - 2);
  });

  test('tra-signgd on orthonormal embeddings, and minibatch sgd/adam from the GPU draws', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const tra = await withErrorScopes(gpu, () =>
      validateConfig(gpu, {
        name: 'validate-tra',
        task: { N: 16, dIn: 16, dOut: 16, embedding: 'orthonormal', frequency: { kind: 'power', powerExponent: 1 }, taskSeed: 3 },
        optimizers: [{ name: 'tra-signgd', lr: 0.05 }],
        training: { steps: S },
      }),
    );
    expectWithin(tra, ['tra-signgd'], 16);
    const B = 8;
    const mb = await withErrorScopes(gpu, () =>
      validateConfig(gpu, {
        name: 'validate-minibatch',
        task: { N, dIn: d, dOut: d, embedding: 'gaussian', frequency: { kind: 'power', powerExponent: 1 }, taskSeed: 3, noise: 0.1 },
        optimizers: [
          { name: 'sgd', lr: 4, momentum: 0.5 },
          { name: 'adam', lr: 0.05 },
        ],
        training: { steps: S, mode: 'minibatch', batchSize: B, runSeeds: [1, 2] },
      }),
    );
    // A minibatch loss and gradient are B-long sums over the draws (the softmax is still N-long).
    expectWithin(mb, ['sgd', 'adam'], N);
  });

  test('refuses a config too large for the CPU reference, naming the field', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    await expect(
      validateConfig(gpu, {
        name: 'too-big',
        task: { N: 4096, dIn: 8, dOut: 8, embedding: 'gaussian' },
        optimizers: [{ name: 'gd', lr: 1 }],
        training: { steps: 3 },
      }),
    ).rejects.toThrow(/task\.N = 4096 \(at most 1024\)/);
  });
});
