// The Float64 reference of the softmax cross-entropy gradient (src/cpu/softmaxGrad.ts) checked
// against itself by finite differences on tiny sizes, and its loss against closed forms.
//
// Finite differences: central differences with step h = 1e-5 have truncation error ≤ h²/6·|L'''|
// (|L'''| = O(‖e‖³‖ẽ‖³) ≈ 1 here → ~2e-11) and rounding error ≈ ε_f64·|L|/h ≈ 2e-11; the tolerance
// 1e-8 sits well above both and far below any real gradient error (a missing term of G is ≥ 1e-3).
import { describe, expect, test } from 'vitest';
import { queryLoss, softmaxGradCpu, softmaxLossCpu, type SoftmaxGradCpuArgs } from '../src/cpu/softmaxGrad';
import { gaussianEmbeddingHost } from '../src/task/embeddings';
import { frequencies } from '../src/task/frequencies';
import { seededUniform } from '../src/cpu/random';

function tinyArgs(targets: SoftmaxGradCpuArgs['targets'], noise: number, noiseTarget: 'sampled' | 'expected'): SoftmaxGradCpuArgs {
  const N = 5;
  const dIn = 3;
  const dOut = 4;
  const R = 2;
  const next = seededUniform(3);
  return {
    runs: R,
    N,
    dIn,
    dOut,
    W: Float64Array.from({ length: R * dOut * dIn }, () => 4 * next() - 2),
    E: gaussianEmbeddingHost(1, 1, N, dIn),
    Et: gaussianEmbeddingHost(1, 2, N, dOut),
    targets,
    noise,
    noiseTarget,
  };
}

const cases: [string, SoftmaxGradCpuArgs][] = [
  ['population, no noise', tinyArgs({ kind: 'population', weights: frequencies(5, { kind: 'power', powerExponent: 1 }) }, 0, 'expected')],
  [
    'population, noise 0.3',
    tinyArgs({ kind: 'population', weights: frequencies(5, { kind: 'power', powerExponent: 1 }) }, 0.3, 'expected'),
  ],
  [
    'minibatch sampled, noisy labels',
    tinyArgs({ kind: 'minibatch', batchSize: 3, items: [0, 2, 2, 4, 1, 1], labels: [3, 2, 0, 4, 1, 2] }, 0.3, 'sampled'),
  ],
  [
    'minibatch expected, noise 0.3',
    tinyArgs({ kind: 'minibatch', batchSize: 3, items: [0, 2, 2, 4, 1, 1], labels: [0, 2, 2, 4, 1, 1] }, 0.3, 'expected'),
  ],
];

describe('gradient = finite differences of the loss', () => {
  for (const [name, args] of cases) {
    test(name, () => {
      const G = softmaxGradCpu(args).G;
      const h = 1e-5;
      const W = Float64Array.from(args.W);
      for (let i = 0; i < W.length; i++) {
        const run = Math.floor(i / (args.dOut * args.dIn));
        const plus = Float64Array.from(W);
        plus[i] += h;
        const minus = Float64Array.from(W);
        minus[i] -= h;
        const fd = (softmaxLossCpu({ ...args, W: plus })[run] - softmaxLossCpu({ ...args, W: minus })[run]) / (2 * h);
        expect(Math.abs(G[i] - fd), `G[${i}] = ${G[i]}, fd ${fd}`).toBeLessThan(1e-8);
      }
    });
  }
});

describe('loss closed forms', () => {
  test('W = 0: every logit 0, loss log N, p = 1/N, not recovered (tie)', () => {
    const args = tinyArgs({ kind: 'population', weights: new Float64Array(5).fill(0.2) }, 0, 'expected');
    const r = softmaxGradCpu({ ...args, W: new Float64Array(args.W.length) });
    for (let q = 0; q < 10; q++) {
      expect(r.loss[q]).toBeCloseTo(Math.log(5), 14);
      expect(r.pTrue[q]).toBeCloseTo(0.2, 14);
      expect(r.correct[q]).toBe(0);
    }
  });
  test('tiny loss keeps its digits: margin 40 → loss = (N−1)e^{-40}', () => {
    const z = [40, 0, 0, 0];
    expect(queryLoss(z, 0, { noise: 0 }) / (3 * Math.exp(-40)) - 1).toBeLessThan(1e-12);
  });
  test('noise: loss = (1−ε)(−log p_y) + ε·mean_j(−log p_j)', () => {
    const z = [1, 2, -1];
    const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(-1));
    const want = 0.8 * (lse - 1) + (0.2 * (3 * lse - 2)) / 3;
    expect(queryLoss(z, 0, { noise: 0.2 })).toBeCloseTo(want, 13);
  });
});
