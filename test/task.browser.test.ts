// The task on the GPU (src/task/taskGpu.ts) against the CPU twins: gaussian embeddings generated
// on the GPU equal the Float64 formula within WGSL's accuracy for the normals (bound derived in
// test/philox.browser.test.ts: ≤ 4e-3 per N(0,1) value) times the 1/√d scale, plus the f32 rounding
// of the scale and product (2 ULP relative); minibatch items and noisy labels are bit-identical
// to sampleMinibatchCpu (integer arithmetic only, docs/math.md §6); orthonormal tables are the uploaded
// Gram–Schmidt of the same normals (orthonormal in f32 to 1e-6 ≈ d·u).
import { describe, expect, test } from 'vitest';
import { runCommands } from '../src/gpu/commands';
import { readTensor, uploadTensor, createTensor } from '../src/gpu/tensor';
import { PHILOX_STREAMS } from '../src/cpu/philox';
import { createGpuTask, sampleMinibatch } from '../src/task/taskGpu';
import { gaussianEmbeddingHost } from '../src/task/embeddings';
import { frequencies } from '../src/task/frequencies';
import { sampleMinibatchCpu, samplingThresholds } from '../src/task/sampling';
import { gpuOrSkip, withErrorScopes } from './gpuFixture';

describe('task on the GPU', () => {
  test('gaussian embeddings generated on the GPU match the host formula (N = 257, dIn = 3, dOut = 67)', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const task = await withErrorScopes(gpu, () => createGpuTask(gpu, { N: 257, dIn: 3, dOut: 67, embedding: 'gaussian', taskSeed: 99 }));
    try {
      if (task.embeddings.kind !== 'dense') throw new Error('gaussian must be dense');
      for (const [t, stream, d] of [
        [task.embeddings.E, PHILOX_STREAMS.embeddingIn, 3],
        [task.embeddings.Et, PHILOX_STREAMS.embeddingOut, 67],
      ] as const) {
        const got = await readTensor(gpu, t);
        const want = gaussianEmbeddingHost(99, stream, 257, d);
        const scale = 1 / Math.sqrt(d);
        let worst = 0;
        for (let k = 0; k < want.length; k++) {
          const tol = 4e-3 * scale + 2 * 2 ** -23 * Math.abs(want[k]);
          worst = Math.max(worst, Math.abs(got[k] - want[k]) / tol);
        }
        expect(worst, `d = ${d}`).toBeLessThanOrEqual(1);
      }
    } finally {
      task.destroy();
    }
  });

  test('orthonormal embeddings: rows orthonormal in f32 (N = 50, d = 64)', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const task = await withErrorScopes(gpu, () => createGpuTask(gpu, { N: 50, dIn: 64, dOut: 64, embedding: 'orthonormal', taskSeed: 4 }));
    try {
      if (task.embeddings.kind !== 'dense') throw new Error('orthonormal must be dense');
      const e = await readTensor(gpu, task.embeddings.Et);
      for (let i = 0; i < 50; i++) {
        for (let j = 0; j < 50; j++) {
          let dot = 0;
          for (let c = 0; c < 64; c++) dot += e[i * 64 + c] * e[j * 64 + c];
          expect(Math.abs(dot - (i === j ? 1 : 0))).toBeLessThan(1e-6);
        }
      }
    } finally {
      task.destroy();
    }
  });

  test('structural kinds allocate no dense embedding table', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const a = await createGpuTask(gpu, { N: 300, dIn: 300, dOut: 300, embedding: 'identity' });
    const b = await createGpuTask(gpu, { N: 300, dIn: 300, dOut: 300, embedding: 'coupled-rotation' });
    expect(a.embeddings.kind).toBe('identity');
    expect(b.embeddings.kind).toBe('coupled-rotation');
    a.destroy();
    b.destroy();
  });

  const samplingCases = [
    { N: 1, B: 5, runs: 1, noise: 0, frequency: { kind: 'uniform' as const } },
    { N: 20, B: 1000, runs: 3, noise: 0, frequency: { kind: 'power' as const, powerExponent: 1.5 } },
    { N: 300, B: 777, runs: 2, noise: 0.25, frequency: { kind: 'two-class' as const, headCount: 60, headMass: 0.8 } },
    { N: 12, B: 100, runs: 1, noise: 0.9, frequency: { kind: 'hierarchical' as const, groups: 3, groupExponent: 2 } },
  ];
  for (const c of samplingCases) {
    test(`minibatch draws bit-identical to the CPU twin: N=${c.N}, B=${c.B}, runs=${c.runs}, noise=${c.noise}, ${c.frequency.kind}`, async (ctx) => {
      const gpu = await gpuOrSkip(ctx);
      if (!gpu) return;
      const p = frequencies(c.N, c.frequency);
      const t = samplingThresholds(p);
      const seeds = Array.from({ length: c.runs }, (_, r) => 1000 + 17 * r);
      const thresholds = uploadTensor(gpu, { rows: Math.max(1, t.length), cols: 1, dtype: 'u32', label: 'thresholds' }, t.length ? t : [0]);
      const seedT = uploadTensor(gpu, { batch: c.runs, rows: 1, cols: 1, dtype: 'u32', label: 'seeds' }, seeds);
      const items = createTensor(gpu, { batch: c.runs, rows: c.B, cols: 1, dtype: 'u32', label: 'items' });
      const labels = createTensor(gpu, { batch: c.runs, rows: c.B, cols: 1, dtype: 'u32', label: 'labels' });
      try {
        await withErrorScopes(gpu, () =>
          runCommands(gpu, (rec) =>
            sampleMinibatch(rec, { seeds: seedT, thresholds, thresholdCount: t.length, N: c.N, noise: c.noise, step: 4, items, labels }),
          ),
        );
        const want = sampleMinibatchCpu({ seeds, step: 4, batchSize: c.B, thresholds: t, N: c.N, noise: c.noise });
        expect(Array.from(await readTensor(gpu, items))).toEqual(Array.from(want.items));
        expect(Array.from(await readTensor(gpu, labels))).toEqual(Array.from(want.labels));
      } finally {
        for (const x of [thresholds, seedT, items, labels]) x.buffer.destroy();
      }
    });
  }
});

describe('library index', () => {
  // `import … from 'muonlab'` reaches the task and the softmax gradient (the index imports shaders,
  // so this is a browser test).
  test('exports the task and softmax-gradient API', async () => {
    const lib = await import('../src/index');
    const names = [
      'createGpuTask',
      'sampleMinibatch',
      'parseTaskConfig',
      'TaskConfigSchema',
      'EMBEDDING_KINDS',
      'frequencies',
      'validateFrequencies',
      'validateNoise',
      'samplingThresholds',
      'sampleMinibatchCpu',
      'denseEmbedding',
      'rotation3',
      'COUPLED_ROTATION_IN',
      'COUPLED_ROTATION_OUT',
      'softmaxGrad',
      'computeSoftmaxGrad',
      'assertFiniteTensors',
      'createSoftmaxGradWorkspace',
      'SoftmaxGradWorkspace',
      'SOFTMAX_OUTPUT_COLUMNS',
      'DEFAULT_CHUNK_SIZE',
      'softmaxGradCpu',
    ];
    const missing = names.filter((n) => (lib as Record<string, unknown>)[n] === undefined);
    expect(missing).toEqual([]);
    expect(lib.SOFTMAX_OUTPUT_COLUMNS).toEqual(['lse', 'loss', 'zTrue', 'pTrue', 'correct']);
    expect(lib.EMBEDDING_KINDS).toEqual(['identity', 'orthonormal', 'gaussian', 'coupled-rotation']);
  });
});
