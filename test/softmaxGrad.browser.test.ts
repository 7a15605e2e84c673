// The softmax cross-entropy gradient on the GPU (src/kernels/softmaxGrad/softmaxGrad.ts) against the Float64
// twin (src/cpu/softmaxGrad.ts), on the same f32 inputs (embeddings read back from the GPU).
// Case ids are addressable: `-t "identity,N=300"`.
//
// Tolerances (per element, absolute, derived in softmaxGradTolerances in
// src/kernels/softmaxGrad/check.ts; u = 2^-24, γ_n = n·u/(1 − n·u)): logits are two f32 dot products,
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
import {
  compareSoftmaxGrad,
  runSoftmaxGradCase,
  softmaxGradCaseId,
  softmaxGradCases,
  softmaxGradTolerances,
  STAGED_CASES,
  type SoftmaxGradCaseResult,
} from '../src/kernels/softmaxGrad/check';
import { computeSoftmaxGrad, createSoftmaxGradWorkspace, softmaxGrad, type SoftmaxGradArgs } from '../src/kernels/softmaxGrad/softmaxGrad';
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
        expect(
          x.worstRatio,
          `${name}: error ${x.maxAbsError} at ${x.worstIndex} (got ${x.worstGot}, want ${x.worstWant})`,
        ).toBeLessThanOrEqual(1);
      }
      expect(cmp.correctMismatches, 'recovered flags').toBe(0);
      expect(r.viewPaddingChanged, "elements of G's buffer outside its view").toBe(0);
      expect(r.staged, 'staged exactly when a binding cap is set').toBe(Boolean(c.maxBindingBytes));
      if (c.computeO || !['identity', 'coupled-rotation'].includes(c.embedding)) expect(cmp.o, 'o is compared').toBeDefined();
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

/**
 * Two GPU results of the same case are each within their bound of the same Float64 values, so they
 * differ by at most the sum of the two bounds (per element); recovered flags must be equal.
 */
function expectSameWithinBounds(a: SoftmaxGradCaseResult, b: SoftmaxGradCaseResult): void {
  const tolA = softmaxGradTolerances(a);
  const tolB = softmaxGradTolerances(b);
  for (const key of ['lse', 'loss', 'zTrue', 'pTrue', 'G', 'o'] as const) {
    const x = a.got[key];
    const y = b.got[key];
    if (key === 'o' && !x && !y) continue;
    expect(x && y, `${key} present in both`).toBeTruthy();
    expect(y!.length, key).toBe(x!.length);
    let worst = 0;
    for (let i = 0; i < x!.length; i++) {
      const diff = Math.abs(x![i] - y![i]);
      // A zero bound (identity logits are W's entries exactly) admits only equality.
      worst = Math.max(worst, diff === 0 ? 0 : diff / (tolA[key][i] + tolB[key][i]));
    }
    expect(worst, key).toBeLessThanOrEqual(1);
  }
  expect(Array.from(b.got.correct)).toEqual(Array.from(a.got.correct));
}

describe('chunking', () => {
  test('N = 1031 in 9 chunks of 128 (and blocks of 300 queries) equals one chunk', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const base = softmaxGradCases('full').find((c) => c.N === 1031 && !c.chunkSize && !c.maxBindingBytes)!;
    const one = await withErrorScopes(gpu, () => runSoftmaxGradCase(gpu, { ...base, chunkSize: 2048 }));
    const chunked = await withErrorScopes(gpu, () => runSoftmaxGradCase(gpu, { ...base, chunkSize: 128, queryBlock: 300 }));
    expect(one.chunks).toBe(1);
    expect(chunked.chunks).toBe(9);
    expectSameWithinBounds(one, chunked);
  });
});

describe('staged path (sizes beyond the binding limit)', () => {
  // The binding cap stands in for maxStorageBufferBindingSize (1 GiB on SwiftShader, too large to
  // exceed in a test): the staged result must equal the unstaged one within the two bounds.
  const expected: Record<number, { runGroups: number; blocks?: number; chunks?: number }> = {
    0: { runGroups: 1, blocks: 5, chunks: 5 },
    // Chunks are capped too: a copied chunk of E (dIn = 32) rows fits 1024 bytes at 8 rows.
    1: { runGroups: 2, blocks: 10, chunks: 33 },
    2: { runGroups: 3, blocks: 4, chunks: 5 },
    3: { runGroups: 3, blocks: 1 },
    4: { runGroups: 2 },
    5: { runGroups: 2 },
  };
  STAGED_CASES.forEach((c, k) => {
    test(`${softmaxGradCaseId(c)} equals the unstaged result`, async (ctx) => {
      const gpu = await gpuOrSkip(ctx);
      if (!gpu) return;
      const staged = await withErrorScopes(gpu, () => runSoftmaxGradCase(gpu, c));
      const whole = await withErrorScopes(gpu, () => runSoftmaxGradCase(gpu, { ...c, maxBindingBytes: undefined }));
      expect(staged.staged).toBe(true);
      expect(whole.staged).toBe(false);
      expect(staged.runGroups).toBe(expected[k].runGroups);
      if (expected[k].blocks) expect(staged.blocks).toBe(expected[k].blocks);
      if (expected[k].chunks) expect(staged.chunks).toBe(expected[k].chunks);
      // Every buffer the staged call used fits the cap, except the full-size results (outputs, o).
      for (const [label, bytes] of Object.entries(staged.memory.buffers)) {
        if (label === 'outputs' || label === 'o') continue;
        expect(bytes, label).toBeLessThanOrEqual(c.maxBindingBytes!);
      }
      expectSameWithinBounds(whole, staged);
    });
  });

  test("one run's N×N matrix above the binding cap is an error naming the limit and the largest N", async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const c = STAGED_CASES.find((x) => x.embedding === 'identity')!;
    await expect(runSoftmaxGradCase(gpu, { ...c, maxBindingBytes: 9000 })).rejects.toThrow(
      /identity embeddings: one run's 48×48 matrix \(9216 bytes\) is above the binding limit 9000 .* the largest N that fits is 47/,
    );
  });
});

describe('workspace', () => {
  // The scheduler calls the gradient every step: with a workspace, calls after the first create no
  // storage buffer (only the recorder's per-dispatch uniform buffers), hold the same bytes, and give
  // bit-identical results; dispose() frees everything and the workspace refuses further use.
  test('repeated calls reuse the buffers (dense, identity, staged)', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const dense = await createGpuTask(gpu, { N: 97, dIn: 13, dOut: 21, embedding: 'gaussian', taskSeed: 2 });
    const ident = await createGpuTask(gpu, { N: 24, dIn: 24, dOut: 24, embedding: 'identity', taskSeed: 2 });
    const made: { buffer: GPUBuffer }[] = [];
    const tensors = (rows: number, cols: number) => {
      const W = uploadTensor(
        gpu,
        { batch: 2, rows, cols, label: 'W' },
        Float32Array.from({ length: 2 * rows * cols }, (_, i) => Math.cos(i)),
      );
      const G = createTensor(gpu, { batch: 2, rows, cols, label: 'G' });
      made.push(W, G);
      return { W, G };
    };
    const setups: SoftmaxGradArgs[] = [
      {
        ...tensors(21, 13),
        embeddings: dense.embeddings,
        targets: { kind: 'population', weights: dense.weights },
        noise: 0.2,
        noiseTarget: 'expected',
        chunkSize: 40,
      },
      {
        ...tensors(24, 24),
        embeddings: ident.embeddings,
        targets: { kind: 'population', weights: ident.weights },
        noise: 0,
        noiseTarget: 'expected',
        computeO: true,
      },
      {
        ...tensors(21, 13),
        embeddings: dense.embeddings,
        targets: { kind: 'population', weights: dense.weights },
        noise: 0.2,
        noiseTarget: 'expected',
        chunkSize: 40,
        maxBindingBytes: 2048,
      },
    ];
    const workspace = createSoftmaxGradWorkspace(gpu);
    const device = gpu.device;
    const create = device.createBuffer.bind(device);
    let storageCreated = 0;
    device.createBuffer = (descriptor: GPUBufferDescriptor) => {
      if (descriptor.usage & GPUBufferUsage.STORAGE) storageCreated++;
      return create(descriptor);
    };
    try {
      const held: number[] = [];
      const outputs: Float32Array[] = [];
      for (let call = 0; call < 4; call++) {
        const before = storageCreated;
        const rec = new CommandRecorder(gpu);
        const results = [];
        for (const args of setups) results.push(await softmaxGrad(rec, { ...args, workspace }));
        await rec.submit();
        if (call > 0) expect(storageCreated - before, `storage buffers created by call ${call}`).toBe(0);
        held.push(workspace.bytes);
        // (results[0] and results[2] have the same shapes, so they share their outputs and o buffers:
        // the callers' G tensors are what is compared for them.)
        const read = async (t: Parameters<typeof readTensor>[1]) => Array.from(await readTensor(gpu, t));
        outputs.push(
          Float32Array.from([
            ...(await read(setups[0].G)),
            ...(await read(results[1].o!)),
            ...(await read(results[1].outputs)),
            ...(await read(setups[2].G)),
          ]),
        );
        for (const r of results) r.destroy(); // a no-op with a caller's workspace
      }
      expect(storageCreated, 'the first call created its buffers').toBeGreaterThan(0);
      expect(new Set(held).size, `bytes held per call: ${held.join(', ')}`).toBe(1);
      for (const x of outputs.slice(1)) expect(Array.from(x)).toEqual(Array.from(outputs[0]));
      expect(workspace.bufferCount).toBeGreaterThan(0);
      workspace.dispose();
      expect(workspace.bytes).toBe(0);
      const rec = new CommandRecorder(gpu);
      await expect(softmaxGrad(rec, { ...setups[0], workspace })).rejects.toThrow(/workspace was disposed/);
    } finally {
      device.createBuffer = create;
      workspace.dispose();
      for (const t of made) t.buffer.destroy();
      dense.destroy();
      ident.destroy();
    }
  });
});

describe('bad input', () => {
  async function setup(gpu: Parameters<typeof computeSoftmaxGrad>[0], N = 12, d = 6) {
    const task = await createGpuTask(gpu, { N, dIn: d, dOut: d, embedding: 'gaussian', taskSeed: 1 });
    const W = uploadTensor(gpu, { rows: d, cols: d, label: 'W' }, new Float32Array(d * d).fill(0.5));
    const G = createTensor(gpu, { rows: d, cols: d, label: 'G' });
    const args = {
      W,
      G,
      embeddings: task.embeddings,
      targets: { kind: 'population' as const, weights: task.weights },
      noise: 0,
      noiseTarget: 'expected' as const,
    };
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
      await expect(computeSoftmaxGrad(gpu, { ...s.args, embeddings: { ...s.task.embeddings, Et } })).rejects.toThrow(
        /embeddings\.Et .* 1 non-finite/,
      );
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
      await expect(computeSoftmaxGrad(gpu, { ...s.args, embeddings: { kind: 'identity', N: 6, dIn: 6, dOut: 5 } })).rejects.toThrow(
        /identity embeddings need dIn = dOut = N/,
      );
      await expect(
        computeSoftmaxGrad(gpu, { ...s.args, embeddings: { kind: 'coupled-rotation', N: 4, dIn: 4, dOut: 4, blockIn: [], blockOut: [] } }),
      ).rejects.toThrow(/coupled-rotation embeddings need N = dIn = dOut divisible by 3/);
      await expect(computeSoftmaxGrad(gpu, { ...s.args, embeddings: { kind: 'identity', N: 0, dIn: 0, dOut: 0 } })).rejects.toThrow(
        /N must be a positive integer, got 0/,
      );
      await expect(createGpuTask(gpu, { N: 0, dIn: 4, dOut: 4, embedding: 'gaussian' })).rejects.toThrow(/task\.N/);
      await expect(createGpuTask(gpu, { N: 7, dIn: 7, dOut: 7, embedding: 'coupled-rotation' })).rejects.toThrow(
        /task\.N: coupled-rotation/,
      );
      await expect(createGpuTask(gpu, { N: 7, dIn: 6, dOut: 7, embedding: 'identity' })).rejects.toThrow(/task\.dIn: identity/);
    } finally {
      s.destroy();
    }
  });

  test('non-finite input embeddings and a non-finite entry of a strided W view are named', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const s = await setup(gpu);
    try {
      if (s.task.embeddings.kind !== 'dense') throw new Error('dense expected');
      const e = new Float32Array(12 * 6).fill(0.1);
      e[40] = NaN;
      const E = uploadTensor(gpu, { rows: 12, cols: 6, label: 'E bad' }, e);
      await expect(computeSoftmaxGrad(gpu, { ...s.args, embeddings: { ...s.task.embeddings, E } })).rejects.toThrow(
        /embeddings\.E \("E bad"\) has 1 non-finite/,
      );
      E.buffer.destroy();
      // Two runs at offset 3 with stride 40 (4 padding elements): the NaN in run 1 is found, the
      // Infinity in the padding is not part of W and is ignored.
      const host = new Float32Array(3 + 2 * 40).fill(0.25);
      host[3 + 40 + 17] = NaN;
      host[3 + 36] = Infinity;
      const buffer = uploadTensor(gpu, { rows: 1, cols: host.length, label: 'W runs' }, host);
      const W = { ...buffer, batch: 2, rows: 6, cols: 6, offset: 3, batchStride: 40 };
      const G = createTensor(gpu, { batch: 2, rows: 6, cols: 6, label: 'G2' });
      await expect(computeSoftmaxGrad(gpu, { ...s.args, W, G })).rejects.toThrow(/W \("W runs"\) has 1 non-finite/);
      buffer.buffer.destroy();
      G.buffer.destroy();
    } finally {
      s.destroy();
    }
  });

  test('dimension mismatches, bad frequencies, bad views and bad options name the field', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const s = await setup(gpu);
    const extra: { buffer: GPUBuffer }[] = [];
    const keep = <T extends { buffer: GPUBuffer }>(t: T) => (extra.push(t), t);
    try {
      if (s.task.embeddings.kind !== 'dense') throw new Error('dense expected');
      const W75 = keep(createTensor(gpu, { rows: 7, cols: 6, label: 'W 7×6' }));
      await expect(computeSoftmaxGrad(gpu, { ...s.args, W: W75 })).rejects.toThrow(/W has 7 rows but the output embeddings have dOut = 6/);
      const E5 = keep(createTensor(gpu, { rows: 12, cols: 5, label: 'E 12×5' }));
      await expect(computeSoftmaxGrad(gpu, { ...s.args, embeddings: { ...s.task.embeddings, E: E5 } })).rejects.toThrow(
        /embeddings\.E is 12×5, expected N×dIn = 12×6/,
      );
      const G2 = keep(createTensor(gpu, { batch: 2, rows: 6, cols: 6, label: 'G 2 runs' }));
      await expect(computeSoftmaxGrad(gpu, { ...s.args, G: G2 })).rejects.toThrow(/G has batch 2, expected 1/);
      // Frequencies: negative, or not summing to 1 (the f32 weights read back from the GPU).
      const neg = keep(uploadTensor(gpu, { rows: 12, cols: 1, label: 'weights' }, [0.5, -0.1, ...new Array(10).fill(0.06)]));
      await expect(computeSoftmaxGrad(gpu, { ...s.args, targets: { kind: 'population', weights: neg } })).rejects.toThrow(
        /targets\.weights\[1\] is -0\.1.*non-negative/,
      );
      const over = keep(uploadTensor(gpu, { rows: 12, cols: 1, label: 'weights' }, new Array(12).fill(0.1)));
      await expect(computeSoftmaxGrad(gpu, { ...s.args, targets: { kind: 'population', weights: over } })).rejects.toThrow(
        /targets\.weights must sum to 1 .* got 1\.2/,
      );
      const W2 = keep(createTensor(gpu, { batch: 2, rows: 6, cols: 6, label: 'W 2 runs' }));
      await expect(computeSoftmaxGrad(gpu, { ...s.args, W: W2, G: { ...G2, batchStride: 0 } })).rejects.toThrow(
        /G\.batchStride is 0: every run would write the same matrix/,
      );
      await expect(computeSoftmaxGrad(gpu, { ...s.args, W: W2, G: { ...G2, batchStride: 20 } })).rejects.toThrow(
        /G\.batchStride 20 is smaller than one 6×6 matrix/,
      );
      await expect(computeSoftmaxGrad(gpu, { ...s.args, W: W2, G: { ...G2, offset: 4 } })).rejects.toThrow(
        /G \("G 2 runs"\) layout needs 304 bytes but its buffer has 288/,
      );
      await expect(computeSoftmaxGrad(gpu, { ...s.args, G: { ...s.W } })).rejects.toThrow(/G must not share W's buffer/);
      await expect(computeSoftmaxGrad(gpu, { ...s.args, maxBindingBytes: 8 })).rejects.toThrow(
        /maxBindingBytes must be an integer ≥ 16, got 8/,
      );
      await expect(computeSoftmaxGrad(gpu, { ...s.args, chunkSize: 0 })).rejects.toThrow(/chunkSize must be a positive integer, got 0/);
      await expect(computeSoftmaxGrad(gpu, { ...s.args, noise: Number.NaN })).rejects.toThrow(/noise: must be in \[0, 1\), got NaN/);
      // A binding cap below one embedding row.
      await expect(computeSoftmaxGrad(gpu, { ...s.args, maxBindingBytes: 20 })).rejects.toThrow(
        /one embedding row \(6 floats\) is above the binding limit 20 bytes/,
      );
    } finally {
      for (const t of extra) t.buffer.destroy();
      s.destroy();
    }
  });

  test('device memory exhausted at a buffer: the error names it and about the largest N (simulated out-of-memory scope)', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const s = await setup(gpu);
    // Exhausting real device memory would take the shared machine's RAM: instead the error scope
    // around the creation of the "o" buffer reports an out-of-memory error.
    const device = gpu.device;
    const create = device.createBuffer.bind(device);
    const pop = device.popErrorScope.bind(device);
    let failNext = false;
    device.createBuffer = (d: GPUBufferDescriptor) => {
      if (d.label === 'softmaxGrad o') failNext = true;
      return create(d);
    };
    device.popErrorScope = () => {
      const p = pop();
      if (!failNext) return p;
      failNext = false;
      return p.then(() => ({ message: 'simulated: not enough memory' }) as GPUError);
    };
    try {
      let message = '';
      await runCommands(gpu, async (rec) => {
        await softmaxGrad(rec, s.args);
      }).catch((err: Error) => (message = err.message));
      expect(message).toMatch(
        /out of device memory creating buffer "o" \(288 bytes; 1 buffer\(s\) failed, this call needs \d+ bytes .*simulated: not enough memory\. .*about N = (\d+) would fit/,
      );
      const n = Number(/about N = (\d+)/.exec(message)![1]);
      expect(n).toBeGreaterThan(0);
      expect(n).toBeLessThan(12);
    } finally {
      device.createBuffer = create;
      device.popErrorScope = pop;
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
          await softmaxGrad(rec, {
            W,
            G,
            embeddings: task.embeddings,
            targets: { kind: 'population', weights: task.weights },
            noise: 0,
            noiseTarget: 'expected',
          });
        }),
      ).rejects.toThrow(new RegExp(`maxBufferSize ${limit}; the largest N that fits is ${largest}`));
    } finally {
      W.buffer.destroy();
      G.buffer.destroy();
      task.destroy();
    }
  });
});
