// The softmax cross-entropy gradient on the GPU (src/kernels/softmaxGrad.ts) against the Float64
// twin (src/cpu/softmaxGrad.ts), on the same f32 inputs (embeddings read back from the GPU).
// Case ids are addressable: `-t "identity,N=300"`.
//
// Tolerances (per element, absolute, derived in softmaxGradTolerances in
// src/kernels/softmaxGradCheck.ts; u = 2^-24, γ_n = n·u/(1 − n·u)): logits are two f32 dot products,
// δz = γ_{dIn+dOut+1}·|ẽ|ᵀ|W||e| (0 for identity: they are W's entries); every exp carries WGSL's
// 3 + 2|x| ULP plus 2δz; the softmax sum γ_N and each chunk rescale (4 + 2X)u; lse adds WGSL log's
// 2^-21 absolute error near 1; the loss is log1p(S) whose error is S/(1+S)·ΔS/S (relative for tiny
// losses, which is what makes the margin-25 case meaningful); o, the residual and G propagate these
// through their sums (γ_N, γ_Q). Recovered flags must match exactly except where the Float64 margin
// lies within the logit error. Extra checks stated at each test (tiny loss 1e-3 relative as the issue
// asks, chunked = unchunked, memory linear in N).
import { describe, expect, test } from 'vitest';
import { CommandRecorder, runCommands } from '../src/gpu/commands';
import { createTensor, readTensor, uploadTensor } from '../src/gpu/tensor';
import { compareSoftmaxGrad, runSoftmaxGradCase, softmaxGradCaseId, softmaxGradCases, softmaxGradTolerances } from '../src/kernels/softmaxGradCheck';
import { computeSoftmaxGrad, softmaxGrad } from '../src/kernels/softmaxGrad';
import { createGpuTask } from '../src/task/taskGpu';
import { gpuOrSkip, withErrorScopes } from './gpuFixture';


describe('softmaxGrad vs Float64', () => {
  for (const c of softmaxGradCases('full')) {
    test(softmaxGradCaseId(c), async (ctx) => {
      const gpu = await gpuOrSkip(ctx);
      if (!gpu) return;
      const r = await withErrorScopes(gpu, () => runSoftmaxGradCase(gpu, c));
      const cmp = compareSoftmaxGrad(r);
      for (const [name, x] of Object.entries(cmp)) {
        if (typeof x === 'number' || !x) continue;
        expect(x.nonFinite, `${name}: non-finite values`).toBe(0);
        expect(x.worstRatio, `${name}: error ${x.maxAbsError} at ${x.worstIndex} (got ${x.worstGot}, want ${x.worstWant})`).toBeLessThanOrEqual(1);
      }
      expect(cmp.correctMismatches, 'recovered flags').toBe(0);
      if (c.pattern === 'tiny-loss-margin-25') {
        // loss = log1p((N−1)e^{-25}) ≈ 8.8e-10: to 1e-3 relative, and not 0 (lse − z_y would read 0).
        for (let i = 0; i < r.ref.loss.length; i++) {
          expect(r.got.loss[i]).toBeGreaterThan(0);
          expect(Math.abs(r.got.loss[i] / r.ref.loss[i] - 1)).toBeLessThanOrEqual(1e-3);
        }
      }
      if (c.pattern === 'all-equal-large') {
        for (let i = 0; i < r.ref.loss.length; i++) expect(r.got.correct[i], 'ties are not recovered').toBe(0);
      }
    });
  }
});

describe('chunking', () => {
  test('N = 1031 in 9 chunks of 128 (and blocks of 300 queries) equals one chunk', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const base = softmaxGradCases('full').find((c) => c.N === 1031 && !c.chunkSize)!;
    const one = await withErrorScopes(gpu, () => runSoftmaxGradCase(gpu, { ...base, chunkSize: 2048 }));
    const chunked = await withErrorScopes(gpu, () => runSoftmaxGradCase(gpu, { ...base, chunkSize: 128, queryBlock: 300 }));
    expect(one.chunks).toBe(1);
    expect(chunked.chunks).toBe(9);
    // Both are within their bound of the same Float64 values, so they differ by at most the sum.
    const tolOne = softmaxGradTolerances(one);
    const tolChunked = softmaxGradTolerances(chunked);
    for (const key of ['lse', 'loss', 'zTrue', 'pTrue', 'G', 'o'] as const) {
      const a = one.got[key]!;
      const b = chunked.got[key]!;
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / (tolOne[key][i] + tolChunked[key][i]));
      expect(worst, key).toBeLessThanOrEqual(1);
    }
    expect(Array.from(chunked.got.correct)).toEqual(Array.from(one.got.correct));
  });
});

describe('memory', () => {
  // Peak allocated GPU bytes (operands + every buffer the call creates, counted by the call as it
  // creates them, + 256 bytes per dispatch for its uniform buffer) of a population gradient: linear
  // in N (ratio ≤ 4.5 for 4× N) and under 2·(4N·d + 2d²)·4·R bytes — an N×N logits buffer alone
  // would be 1.6 GB at N = 20,000. N = 5,000 runs to completion (outputs checked finite); N = 20,000
  // is recorded — every buffer really created — but not submitted: its 2.6e10 multiply-adds take
  // minutes on a CPU adapter, and WebGPU allocates at createBuffer, not at submit.
  test('population gradient at N = 5,000 and 20,000 (d = 32): linear, under the bound', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const d = 32;
    const R = 1;
    const peaks: number[] = [];
    for (const N of [5000, 20_000]) {
      const task = await createGpuTask(gpu, { N, dIn: d, dOut: d, embedding: 'gaussian', frequency: { kind: 'power', powerExponent: 1.5 }, taskSeed: 3 });
      const W = uploadTensor(gpu, { batch: R, rows: d, cols: d, label: 'W' }, Float32Array.from({ length: R * d * d }, (_, i) => Math.sin(i)));
      const G = createTensor(gpu, { batch: R, rows: d, cols: d, label: 'G' });
      try {
        const args = { W, G, embeddings: task.embeddings, targets: { kind: 'population' as const, weights: task.weights }, noise: 0, noiseTarget: 'expected' as const };
        let memory;
        if (N === 5000) {
          const r = await withErrorScopes(gpu, () => computeSoftmaxGrad(gpu, args));
          const out = await readTensor(gpu, r.outputs);
          expect(out.every(Number.isFinite)).toBe(true);
          memory = r.memory;
          r.destroy();
        } else {
          const rec = new CommandRecorder(gpu);
          const r = await softmaxGrad(rec, args);
          memory = r.memory;
          r.destroy();
        }
        const bound = 2 * (4 * N * d + 2 * d * d) * 4 * R;
        expect(memory.peakBytes, `N = ${N}: ${JSON.stringify(memory.buffers)}`).toBeLessThan(bound);
        for (const [label, bytes] of Object.entries(memory.buffers)) expect(bytes, `${label} is not N×N-sized`).toBeLessThan((N * N * 4) / 8);
        peaks.push(memory.peakBytes);
      } finally {
        W.buffer.destroy();
        G.buffer.destroy();
        task.destroy();
      }
    }
    expect(peaks[1] / peaks[0]).toBeLessThanOrEqual(4.5);
  });
});

describe('bad input', () => {
  async function setup(gpu: Parameters<typeof computeSoftmaxGrad>[0], N = 12, d = 6) {
    const task = await createGpuTask(gpu, { N, dIn: d, dOut: d, embedding: 'gaussian', taskSeed: 1 });
    const W = uploadTensor(gpu, { rows: d, cols: d, label: 'W' }, new Float32Array(d * d).fill(0.5));
    const G = createTensor(gpu, { rows: d, cols: d, label: 'G' });
    const args = { W, G, embeddings: task.embeddings, targets: { kind: 'population' as const, weights: task.weights }, noise: 0, noiseTarget: 'expected' as const };
    return { task, W, G, args, destroy: () => (task.destroy(), W.buffer.destroy(), G.buffer.destroy()) };
  }

  test('non-finite W and non-finite embeddings are named', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const s = await setup(gpu);
    try {
      const bad = new Float32Array(36).fill(0.5);
      bad[7] = NaN;
      bad[20] = Infinity;
      const W = uploadTensor(gpu, { rows: 6, cols: 6, label: 'W bad' }, bad);
      await expect(computeSoftmaxGrad(gpu, { ...s.args, W })).rejects.toThrow(/W .* 2 non-finite values/);
      W.buffer.destroy();
      if (s.task.embeddings.kind !== 'dense') throw new Error('dense expected');
      const e = new Float32Array(12 * 6).fill(0.1);
      e[3] = -Infinity;
      const Et = uploadTensor(gpu, { rows: 12, cols: 6, label: 'Ẽ bad' }, e);
      await expect(computeSoftmaxGrad(gpu, { ...s.args, embeddings: { ...s.task.embeddings, Et } })).rejects.toThrow(/embeddings\.Et .* 1 non-finite/);
      Et.buffer.destroy();
    } finally {
      s.destroy();
    }
  });

  test('shape, noise and structural-kind errors name the field', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const s = await setup(gpu);
    try {
      const W = createTensor(gpu, { rows: 6, cols: 5, label: 'W 6×5' });
      await expect(computeSoftmaxGrad(gpu, { ...s.args, W })).rejects.toThrow(/W has 5 columns but the input embeddings have dIn = 6/);
      W.buffer.destroy();
      await expect(computeSoftmaxGrad(gpu, { ...s.args, noise: 1 })).rejects.toThrow(/noise: must be in \[0, 1\)/);
      await expect(computeSoftmaxGrad(gpu, { ...s.args, noise: -0.5 })).rejects.toThrow(/noise/);
      await expect(computeSoftmaxGrad(gpu, { ...s.args, embeddings: { kind: 'identity', N: 6, dIn: 6, dOut: 5 } })).rejects.toThrow(/identity embeddings need dIn = dOut = N/);
      await expect(computeSoftmaxGrad(gpu, { ...s.args, embeddings: { kind: 'coupled-rotation', N: 4, dIn: 4, dOut: 4, blockIn: [], blockOut: [] } }))
        .rejects.toThrow(/coupled-rotation embeddings need N = dIn = dOut divisible by 3/);
      await expect(computeSoftmaxGrad(gpu, { ...s.args, embeddings: { kind: 'identity', N: 0, dIn: 0, dOut: 0 } })).rejects.toThrow(/N must be a positive integer, got 0/);
      await expect(createGpuTask(gpu, { N: 0, dIn: 4, dOut: 4, embedding: 'gaussian' })).rejects.toThrow(/task\.N/);
      await expect(createGpuTask(gpu, { N: 7, dIn: 7, dOut: 7, embedding: 'coupled-rotation' })).rejects.toThrow(/task\.N: coupled-rotation/);
      await expect(createGpuTask(gpu, { N: 7, dIn: 6, dOut: 7, embedding: 'identity' })).rejects.toThrow(/task\.dIn: identity/);
    } finally {
      s.destroy();
    }
  });

  test('one buffer beyond maxBufferSize: the error names the limit and the largest N that fits', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const limit = gpu.limits.maxBufferSize;
    // 300 runs × N = 1000 queries × dOut = 1024 floats = 1.2 GB for H, above SwiftShader's 1 GiB.
    const N = 1000;
    const dOut = 1024;
    const R = Math.ceil(limit / (N * dOut * 4)) + 1;
    const task = await createGpuTask(gpu, { N, dIn: 1, dOut, embedding: 'gaussian', taskSeed: 1 });
    const W = createTensor(gpu, { batch: R, rows: dOut, cols: 1, label: 'W' });
    const G = createTensor(gpu, { batch: R, rows: dOut, cols: 1, label: 'G' });
    try {
      const largest = Math.floor(limit / (4 * R * dOut));
      await expect(
        runCommands(gpu, async (rec) => {
          await softmaxGrad(rec, { W, G, embeddings: task.embeddings, targets: { kind: 'population', weights: task.weights }, noise: 0, noiseTarget: 'expected' });
        }),
      ).rejects.toThrow(new RegExp(`maxBufferSize ${limit}; the largest N that fits is ${largest}`));
    } finally {
      W.buffer.destroy();
      G.buffer.destroy();
      task.destroy();
    }
  });
});
