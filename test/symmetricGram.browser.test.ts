// The symmetric product kernel (src/kernels/matmul/symmetricGram.ts, gram_symmetric_quad) against the
// Float64 matmul twin: odd sizes (not multiples of the 32×32 tile, K with a tail below the k-step
// of 8), both orientations, α and β with a symmetric C, a batch with an offset. Tolerance per element:
// Higham's bound for a K-long f32 dot product, then α and the β·C add — γ_{K+2}·(|α|·|X||X|ᵀ +
// |β|·|C₀|), γ_n = n·u/(1 − n·u) — whatever the summation order. The output must be exactly
// symmetric (mirrored tiles, and diagonal tiles whose (i, j) and (j, i) are the same fma chain).
import { describe, expect, test } from 'vitest';
import { gpuOrSkip, withErrorScopes } from './gpuFixture';
import { runCommands } from '../src/gpu/commands';
import { createTensor, readTensor, runRange, uploadTensor } from '../src/gpu/tensor';
import { randomF32 } from '../src/cpu/random';
import { matmulCpu } from '../src/cpu/matmul';
import { hostTensor } from '../src/cpu/hostTensor';
import { compareToReference, F32_UNIT_ROUNDOFF } from '../src/cpu/compare';
import { symmetricGram, symmetricGramAvailable } from '../src/kernels/matmul/symmetricGram';

interface Case {
  name: string;
  batch: number;
  rows: number;
  cols: number;
  trans: boolean;
  alpha: number;
  beta: number;
  /** Matrices stored before the batch (a nonzero offset). */
  skip?: number;
}

const cases: Case[] = [
  { name: 'X·Xᵀ, 70×45 (T = 3, K tail 5)', batch: 3, rows: 70, cols: 45, trans: false, alpha: 1, beta: 0 },
  { name: 'Xᵀ·X, 45×70', batch: 3, rows: 45, cols: 70, trans: true, alpha: 1, beta: 0 },
  { name: 'X·Xᵀ, 33×8, α = −0.7, β = 1.3, offset', batch: 2, rows: 33, cols: 8, trans: false, alpha: -0.7, beta: 1.3, skip: 1 },
  { name: 'Xᵀ·X, 9×40, α = 2, β = −0.5', batch: 2, rows: 9, cols: 40, trans: true, alpha: 2, beta: -0.5 },
  { name: 'X·Xᵀ, 1×9', batch: 2, rows: 1, cols: 9, trans: false, alpha: 1, beta: 0 },
  { name: 'X·Xᵀ, 64×64', batch: 1, rows: 64, cols: 64, trans: false, alpha: 1, beta: 0 },
];

function symmetricMatrices(batch: number, m: number, seed: number): Float32Array<ArrayBuffer> {
  const r = randomF32(batch * m * m, seed);
  const out = new Float32Array(batch * m * m);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) out[b * m * m + i * m + j] = r[b * m * m + Math.min(i, j) * m + Math.max(i, j)];
  }
  return out;
}

describe('symmetricGram: GPU = Float64 product, exactly symmetric', () => {
  for (const c of cases) {
    test(c.name, async (ctx) => {
      const gpu = await gpuOrSkip(ctx);
      if (!gpu) return;
      if (!symmetricGramAvailable(gpu)) ctx.skip('no subgroups on this adapter');
      const m = c.trans ? c.cols : c.rows;
      const k = c.trans ? c.rows : c.cols;
      const stored = c.batch + (c.skip ?? 0);
      const xData = randomF32(stored * c.rows * c.cols, 7);
      const cData = symmetricMatrices(stored, m, 8);
      const xAll = uploadTensor(gpu, { batch: stored, rows: c.rows, cols: c.cols, label: 'X' }, xData);
      const cAll = uploadTensor(gpu, { batch: stored, rows: m, cols: m, label: 'C' }, cData);
      try {
        const x = runRange(xAll, c.skip ?? 0, c.batch);
        const out = runRange(cAll, c.skip ?? 0, c.batch);
        await withErrorScopes(gpu, () => runCommands(gpu, (rec) => symmetricGram(rec, { x, c: out, trans: c.trans, alpha: c.alpha, beta: c.beta })));
        const all = await readTensor(gpu, cAll);
        const start = (c.skip ?? 0) * m * m;
        const got = all.subarray(start, start + c.batch * m * m);
        // Matrices outside the range are untouched.
        expect(Array.from(all.subarray(0, start))).toEqual(Array.from(cData.subarray(0, start)));

        const hx = hostTensor({ batch: c.batch, rows: c.rows, cols: c.cols, data: Float64Array.from(xData.subarray((c.skip ?? 0) * c.rows * c.cols)) });
        const want = hostTensor({ batch: c.batch, rows: m, cols: m, data: Float64Array.from(cData.subarray(start)) });
        matmulCpu({ a: hx, b: hx, c: want, transA: c.trans, transB: !c.trans, alpha: c.alpha, beta: c.beta });
        const ax = { ...hx, data: hx.data.map(Math.abs) };
        const mag = hostTensor({ batch: c.batch, rows: m, cols: m, data: Float64Array.from(cData.subarray(start), Math.abs) });
        matmulCpu({ a: ax, b: ax, c: mag, transA: c.trans, transB: !c.trans, alpha: Math.abs(c.alpha), beta: Math.abs(c.beta) });
        const n = k + 2;
        const gamma = (n * F32_UNIT_ROUNDOFF) / (1 - n * F32_UNIT_ROUNDOFF);
        const cmp = compareToReference(got, want.data, { atol: Array.from(mag.data, (v) => gamma * v), rtol: 0 });
        expect(cmp.nonFinite).toBe(0);
        expect(cmp.worstRatio, `max error ${cmp.maxAbsError} at ${cmp.worstIndex}`).toBeLessThanOrEqual(1);
        let asymmetric = 0;
        for (let b = 0; b < c.batch; b++) {
          for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) if (got[b * m * m + i * m + j] !== got[b * m * m + j * m + i]) asymmetric++;
        }
        expect(asymmetric, 'entries with C[i, j] ≠ C[j, i]').toBe(0);
      } finally {
        xAll.buffer.destroy();
        cAll.buffer.destroy();
      }
    });
  }

  test('a C of the wrong size is an error naming both shapes', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    if (!symmetricGramAvailable(gpu)) ctx.skip('no subgroups on this adapter');
    const x = createTensor(gpu, { batch: 2, rows: 6, cols: 10, label: 'X' });
    const c = createTensor(gpu, { batch: 2, rows: 10, cols: 10, label: 'C' });
    try {
      await expect(runCommands(gpu, (rec) => symmetricGram(rec, { x, c, trans: false }))).rejects.toThrow(/symmetricGram: C is 10×10, X·Xᵀ is 6×6/);
    } finally {
      x.buffer.destroy();
      c.buffer.destroy();
    }
  });
});
