// Optimizer configs, learning-rate schedules and the Float64 twins (src/optim/, src/cpu/optim.ts),
// on the CPU. Expected values are computed here by hand from docs/math.md §2's formulas (or by an
// independent route: the eigen-decomposition form of muon-reg against the twin's SVD form), never
// read from the code under test. Float64 throughout: tolerances 1e-12 relative unless stated.
import { describe, expect, test } from 'vitest';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { defaultRunParams, type RunParamValues } from '../src/gpu/runParams';
import { FLAG_DECOUPLED, FLAG_EMA, FLAG_NESTEROV, optimizerStepCpu, traSignDirectionCpu, type CpuRunState } from '../src/cpu/optim';
import { singularValues } from '../src/cpu/polar';
import { seededUniform } from '../src/cpu/random';
import { parseOptimizerConfig, type OptimizerConfigInput } from '../src/optim/config';
import { evaluateExpression, learningRateAt, resolveSchedule } from '../src/optim/schedule';
import { runParamsFor } from '../src/optim/common';

const dims = { d_in: 64, d_out: 64, N: 100 };

describe('learning-rate expressions (no eval)', () => {
  test.each([
    ['sqrt(d)', 8],
    ['2*sqrt(d)', 16],
    ['0.01 * sqrt(d_in) + N/100', 1.08],
    ['2 + 3 * 4 ^ 2', 50],
    ['-2^2', -4],
    ['(1 + 1) * (2 + 2)', 8],
    ['min(d, N) / max(1, 2)', 32],
    ['log(exp(3))', 3],
    ['1e-3', 0.001],
    ['pow(2, 10)', 1024],
  ])('%s = %d', (text, want) => {
    expect(evaluateExpression(text, dims)).toBeCloseTo(want, 12);
  });

  test.each([
    ['"d" when d_in ≠ d_out', 'sqrt(d)', { d_in: 4, d_out: 9, N: 1 }, /"d" is ambiguous.*d_in = 4, d_out = 9/],
    ['an unknown name', 'sqrt(width)', dims, /unknown name "width"/],
    ['an unknown function', 'abs(d)', dims, /unknown function "abs"/],
    ['code', 'process.exit(1)', dims, /unknown name "process"|unexpected character|bad number/],
    ['a trailing token', '2 3', dims, /trailing input/],
    ['an unclosed parenthesis', 'sqrt(d', dims, /expected "\)"/],
    ['the wrong arity', 'max(1)', dims, /takes 2 argument/],
    ['N when the item count is unknown', 'sqrt(N)', { d_in: 4, d_out: 4, N: Number.NaN }, /"N" is not known here/],
  ])('rejects %s', (_n, text, d, message) => {
    expect(() => evaluateExpression(text, d)).toThrow(message);
  });
});

describe('schedules', () => {
  test('geometric η_t = η_1·g^{t−1}', () => {
    const s = resolveSchedule({ kind: 'geometric', lr: '0.01*sqrt(d)', growth: 1.5 }, dims, 10);
    expect([1, 2, 3].map((t) => learningRateAt(s, t))).toEqual([0.08, 0.08 * 1.5, 0.08 * 2.25].map((x) => expect.closeTo(x, 14)));
    expect(s).toMatchObject({ kind: 'geometric', initial: 0.08, growth: 1.5 });
  });

  test('a list gives one η per step; shorter than the steps is an error naming the field', () => {
    const s = resolveSchedule({ kind: 'list', values: [0.1, 'sqrt(d)', 0.3] }, dims, 3);
    expect([1, 2, 3].map((t) => learningRateAt(s, t))).toEqual([0.1, 8, 0.3]);
    expect(() => resolveSchedule({ kind: 'list', values: [0.1, 0.2] }, dims, 5)).toThrow(
      /lr.values: the list has 2 learning rates but the run takes 5 steps/,
    );
    expect(() => learningRateAt(s, 4)).toThrow(/no learning rate for step 4/);
  });

  test('negative or non-finite learning rates are rejected with the field', () => {
    expect(() => resolveSchedule(-0.1, dims)).toThrow(/lr: learning rate must be ≥ 0, got -0.1/);
    expect(() => resolveSchedule('-sqrt(d)', dims)).toThrow(/learning rate must be ≥ 0, got -8 from "-sqrt\(d\)"/);
    expect(() => resolveSchedule('1/0', dims)).toThrow(/must be a finite number/);
    expect(() => resolveSchedule({ kind: 'geometric', lr: 1, growth: 0 }, dims)).toThrow(/lr.growth: must be a finite number > 0/);
  });
});

describe('optimizer configs: errors name the field and the allowed values', () => {
  test.each([
    [
      'unknown optimizer',
      { name: 'lion', lr: 1 },
      /optimizer.name: unknown optimizer "lion"; allowed: gd, sgd, signgd, adam, adamw, muon, muon-reg, tra-signgd/,
    ],
    [
      'unknown coefficient schedule',
      { name: 'muon', lr: 1, orth: 'ns7' },
      /optimizer.orth: unknown coefficient schedule "ns7"; allowed: ns5, polar-express, cubic, exact/,
    ],
    ['negative learning rate', { name: 'gd', lr: -1 }, /optimizer.lr: learning rate must be a finite number ≥ 0, got -1/],
    ['β1 = 1', { name: 'adam', lr: 1, beta1: 1 }, /optimizer.beta1: must be in \[0, 1\), got 1/],
    ['β2 < 0', { name: 'adamw', lr: 1, beta2: -0.1 }, /optimizer.beta2: must be in \[0, 1\), got -0.1/],
    ['momentum 1.2', { name: 'muon', lr: 1, momentum: 1.2 }, /optimizer.momentum: must be in \[0, 1\), got 1.2/],
    ['λ = 0', { name: 'muon-reg', lr: 1, lambda: 0 }, /optimizer.lambda: must be > 0, got 0/],
    ['λ < 0', { name: 'muon-reg', lr: 1, lambda: -2 }, /optimizer.lambda: must be > 0, got -2/],
    ['an unknown key', { name: 'gd', lr: 1, beta: 0.9 }, /optimizer\.beta: unknown key \(allowed: name, lr, momentum, nesterov\)/],
    ['a misspelt key', { name: 'adam', lr: 1, beta11: 0.9 }, /optimizer\.beta11: unknown key \(did you mean "beta1"\?\)/],
    ['a bad expression', { name: 'muon', lr: '2*sqrt(width)' }, /optimizer.lr: expression: unknown name "width"/],
    ['an empty schedule list', { name: 'gd', lr: { kind: 'list', values: [] } }, /optimizer.lr.values/],
  ])('%s', (_n, config, message) => {
    expect(() => parseOptimizerConfig(config)).toThrow(message);
  });

  test('defaults are filled in', () => {
    expect(parseOptimizerConfig({ name: 'adam', lr: 1e-3 })).toEqual({
      name: 'adam',
      lr: 1e-3,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0,
    });
    expect(parseOptimizerConfig({ name: 'muon', lr: 'sqrt(d)' })).toMatchObject({
      momentum: 0.95,
      momentumForm: 'ema',
      nesterov: false,
      shapeScale: false,
      orth: 'ns5',
    });
  });

  test('run parameters from a config: schedule, flags, shape scale', () => {
    const muon = runParamsFor(
      parseOptimizerConfig({ name: 'muon', lr: { kind: 'geometric', lr: 'sqrt(d)', growth: 2 }, nesterov: true, shapeScale: true }),
      { rows: 36, cols: 9, dims },
    );
    expect(muon.params).toMatchObject({ lr: 8, lrBase: 8, lrGrowth: 2, flags: FLAG_NESTEROV | FLAG_EMA, scale: 2 });
    expect(runParamsFor(parseOptimizerConfig({ name: 'adamw', lr: 1 }), { rows: 2, cols: 2 }).params.flags).toBe(FLAG_DECOUPLED);
    expect(() =>
      runParamsFor(parseOptimizerConfig({ name: 'gd', lr: { kind: 'list', values: [1] } }), { rows: 2, cols: 2, steps: 3 }),
    ).toThrow(/optimizer.lr.values: the list has 1/);
  });
});

function params(over: Partial<RunParamValues>): RunParamValues {
  return defaultRunParams(over);
}
const cfg = (c: OptimizerConfigInput) => parseOptimizerConfig(c);

describe('CPU twins: one step by hand (1×2 matrices)', () => {
  test('gd heavy ball and Nesterov', () => {
    const s: CpuRunState = { w: Float64Array.of(1, 2), m: Float64Array.of(0.5, -1) };
    optimizerStepCpu(s, {
      config: cfg({ name: 'gd', lr: 0.1, momentum: 0.9 }),
      rows: 1,
      cols: 2,
      params: params({ lr: 0.1, momentum: 0.9 }),
      gradient: [2, 3],
    });
    // m = 0.9·m + g = (2.45, 2.1); W = W − 0.1·m
    expect(Array.from(s.m!)).toEqual([2.45, 2.1].map((x) => expect.closeTo(x, 12)));
    expect(Array.from(s.w)).toEqual([1 - 0.245, 2 - 0.21].map((x) => expect.closeTo(x, 12)));
    const n: CpuRunState = { w: Float64Array.of(1, 2), m: Float64Array.of(0.5, -1) };
    optimizerStepCpu(n, {
      config: cfg({ name: 'gd', lr: 0.1, momentum: 0.9, nesterov: true }),
      rows: 1,
      cols: 2,
      params: params({ lr: 0.1, momentum: 0.9, flags: FLAG_NESTEROV }),
      gradient: [2, 3],
    });
    // D = g + 0.9·m_new = (2 + 2.205, 3 + 1.89)
    expect(Array.from(n.w)).toEqual([1 - 0.4205, 2 - 0.489].map((x) => expect.closeTo(x, 12)));
  });

  test('adam with bias correction at t = 2, and adamw decoupled decay', () => {
    const s: CpuRunState = { w: Float64Array.of(1, -1), m: Float64Array.of(0.1, 0), v: Float64Array.of(0.01, 0) };
    const p = params({ lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 1 });
    optimizerStepCpu(s, { config: cfg({ name: 'adam', lr: 0.01 }), rows: 1, cols: 2, params: p, gradient: [0.5, -2] });
    const m0 = 0.9 * 0.1 + 0.1 * 0.5; // 0.14
    const v0 = 0.999 * 0.01 + 0.001 * 0.25;
    const d0 = m0 / (1 - 0.81) / (Math.sqrt(v0 / (1 - 0.998001)) + 1e-8);
    expect(s.w[0]).toBeCloseTo(1 - 0.01 * d0, 12);
    const d1 = (0.1 * -2) / 0.19 / (Math.sqrt((0.001 * 4) / 0.001999) + 1e-8);
    expect(s.w[1]).toBeCloseTo(-1 - 0.01 * d1, 12);
    const w: CpuRunState = { w: Float64Array.of(2), m: Float64Array.of(0), v: Float64Array.of(0) };
    optimizerStepCpu(w, {
      config: cfg({ name: 'adamw', lr: 0.1, weightDecay: 0.5 }),
      rows: 1,
      cols: 1,
      params: params({ lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 0, weightDecay: 0.5, flags: FLAG_DECOUPLED }),
      gradient: [3],
    });
    // t = 1: m̂ = g, v̂ = g², D = 1; W = 2 − 0.1·(1 + 0.5·2)
    expect(w.w[0]).toBeCloseTo(1.8, 12);
  });

  test('adam with β1 = β2 = 0, ε = 1e-12 equals signgd wherever |G| > 1e-9 (within ε/|G|)', () => {
    const rnd = seededUniform(3);
    const g = Array.from({ length: 200 }, (_, i) => (rnd() - 0.5) * 10 ** -(i % 12));
    const a: CpuRunState = { w: new Float64Array(200), m: new Float64Array(200), v: new Float64Array(200) };
    const sg: CpuRunState = { w: new Float64Array(200) };
    optimizerStepCpu(a, {
      config: cfg({ name: 'adam', lr: 1, beta1: 0, beta2: 0, eps: 1e-12 }),
      rows: 10,
      cols: 20,
      params: params({ lr: 1, eps: 1e-12 }),
      gradient: g,
    });
    optimizerStepCpu(sg, { config: cfg({ name: 'signgd', lr: 1 }), rows: 10, cols: 20, params: params({ lr: 1 }), gradient: g });
    let checked = 0;
    g.forEach((gi, i) => {
      if (Math.abs(gi) > 1e-9) {
        expect(Math.abs(a.w[i] - sg.w[i])).toBeLessThanOrEqual(1e-12 / Math.abs(gi) + 1e-15);
        checked++;
      }
    });
    expect(checked).toBeGreaterThan(100);
  });

  test('muon sum and EMA forms with Nesterov build the documented orth input (1×1, exact: orth(x) = sign(x))', () => {
    // A 1×1 matrix is its own singular value: `exact` maps x → sign(x). The momentum arithmetic
    // decides the sign here, so pick a case where the Nesterov input flips it.
    const run = (form: 'sum' | 'ema', nesterov: boolean) => {
      const s: CpuRunState = { w: Float64Array.of(0), m: Float64Array.of(-1) };
      const flags = (nesterov ? FLAG_NESTEROV : 0) | (form === 'ema' ? FLAG_EMA : 0);
      optimizerStepCpu(s, {
        config: cfg({ name: 'muon', lr: 1, momentum: 0.5, momentumForm: form, nesterov, orth: 'exact' }),
        rows: 1,
        cols: 1,
        params: params({ lr: 1, momentum: 0.5, flags }),
        gradient: [1.2],
      });
      return [s.w[0], s.m![0]];
    };
    // sum: B = 0.5·(−1) + 1.2 = 0.7 → D = 1; Nesterov X = 1.2 + 0.35 > 0 → D = 1.
    expect(run('sum', false)).toEqual([-1, expect.closeTo(0.7, 14)]);
    // EMA: B = −0.5 + 0.6 = 0.1 → D = 1; Nesterov X = 0.6 + 0.05 → D = 1.
    expect(run('ema', false)).toEqual([-1, expect.closeTo(0.1, 14)]);
    const s: CpuRunState = { w: Float64Array.of(0), m: Float64Array.of(-3) };
    optimizerStepCpu(s, {
      config: cfg({ name: 'muon', lr: 1, momentum: 0.5, momentumForm: 'ema', nesterov: true, orth: 'exact' }),
      rows: 1,
      cols: 1,
      params: params({ lr: 1, momentum: 0.5, flags: FLAG_NESTEROV | FLAG_EMA }),
      gradient: [1.2],
    });
    // B = −1.5 + 0.6 = −0.9 (D would be −1 → W = +1); Nesterov X = 0.6 − 0.45 = 0.15 > 0 → W = −1.
    expect(s.w[0]).toBe(-1);
  });

  test('muon-reg: the twin (SVD form) equals G·(GᵀG + λ²I)^{−1/2} from an eigen-decomposition', () => {
    const rnd = seededUniform(9);
    const g = Array.from({ length: 15 }, () => rnd() - 0.5); // 3×5
    const lambda = 0.2;
    const s: CpuRunState = { w: new Float64Array(15) };
    optimizerStepCpu(s, {
      config: cfg({ name: 'muon-reg', lr: 1, lambda }),
      rows: 3,
      cols: 5,
      params: params({ lr: 1, lambda, scale: 1 }),
      gradient: g,
    });
    const G = new Matrix([g.slice(0, 5), g.slice(5, 10), g.slice(10, 15)]);
    const M = G.transpose()
      .mmul(G)
      .add(Matrix.eye(5).mul(lambda * lambda));
    const e = new EigenvalueDecomposition(M);
    const invSqrt = e.eigenvectorMatrix
      .mmul(Matrix.diag(e.realEigenvalues.map((x) => 1 / Math.sqrt(x))))
      .mmul(e.eigenvectorMatrix.transpose());
    const want = G.mmul(invSqrt).to1DArray();
    s.w.forEach((v, i) => expect(-v).toBeCloseTo(want[i], 12));
  });

  test('tra-signgd on identity embeddings is signgd; on a rotation it is not', () => {
    const N = 3;
    const eye = [1, 0, 0, 0, 1, 0, 0, 0, 1];
    const g = [0.3, -0.2, 0.1, -0.5, 0.4, 0.6, 0.2, -0.1, -0.9];
    expect(Array.from(traSignDirectionCpu(g, 3, 3, { N, input: eye, output: eye }))).toEqual(g.map(Math.sign));
    const c = Math.cos(0.4);
    const sn = Math.sin(0.4);
    const rot = [c, -sn, 0, sn, c, 0, 0, 0, 1];
    const d = traSignDirectionCpu(g, 3, 3, { N, input: rot, output: eye });
    expect(Array.from(d).every((x, i) => Math.abs(x - Math.sign(g[i])) < 1e-12)).toBe(false);
    // Its singular values are those of sign(ẼᵀGE): orthogonal embeddings preserve them.
    expect(singularValues(d, 3, 3)[0]).toBeGreaterThan(0);
  });
});

describe('bad input and divergence on the CPU twin', () => {
  test('a non-finite gradient is an error naming the field and the entry', () => {
    const s: CpuRunState = { w: new Float64Array(4) };
    expect(() =>
      optimizerStepCpu(s, {
        config: cfg({ name: 'signgd', lr: 1 }),
        rows: 2,
        cols: 2,
        params: params({ lr: 1 }),
        gradient: [0, 1, Number.NaN, 2],
      }),
    ).toThrow(/gradient: non-finite value NaN at \(1, 0\)/);
  });

  test('an overflowing update marks the run diverged and keeps the last finite state', () => {
    const s: CpuRunState = { w: Float64Array.of(1, 2), m: Float64Array.of(0, 0) };
    const r = optimizerStepCpu(s, {
      config: cfg({ name: 'gd', lr: 1 }),
      rows: 1,
      cols: 2,
      params: params({ lr: 1e308 }),
      gradient: [1e10, 1],
    });
    expect(r.diverged).toBe(true);
    expect(Array.from(s.w)).toEqual([1, 2]);
    expect(Array.from(s.m!)).toEqual([0, 0]);
  });
});
