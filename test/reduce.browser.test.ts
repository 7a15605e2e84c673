// Batched sum of squares (shaders/reduce.wgsl) against the Float64 twin (src/cpu/reduce.ts), with run
// sub-range views and the ‖X − Y‖² form. Tolerance, relative to Σx² (every term is ≥ 0, so no
// cancellation): each of the 64 lanes adds ⌈n/64⌉ terms in order, then a 6-level tree — the
// recursive-summation bound (⌈n/64⌉ + 6 + 1)·u, the +1 for squaring (Higham §4.2).
import { expect, test } from 'vitest';
import { runCommands } from '../src/gpu/commands';
import { readTensor, runRange, uploadTensor } from '../src/gpu/tensor';
import { F32_UNIT_ROUNDOFF } from '../src/cpu/compare';
import { hostTensor } from '../src/cpu/hostTensor';
import { sumSquaresCpu } from '../src/cpu/reduce';
import { randomF32 } from '../src/cpu/random';
import { sumSquares } from '../src/kernels/reduce';
import { gpuOrSkip, withErrorScopes } from './gpuFixture';

test('CPU twin by hand: [[1, 2], [3, 4]] → 30; minus [[1, 1], [1, 1]] → 14', () => {
  const x = hostTensor({ rows: 2, cols: 2, data: Float64Array.of(1, 2, 3, 4) });
  const y = hostTensor({ rows: 2, cols: 2, data: Float64Array.of(1, 1, 1, 1) });
  expect(Array.from(sumSquaresCpu(x))).toEqual([30]);
  expect(Array.from(sumSquaresCpu(x, y))).toEqual([14]);
});

test.for([
  [1, 1, 1],
  [7, 13, 3],
  [64, 65, 2],
  [200, 130, 1],
] as const)('sum_squares %i×%i, runs 1..%i of a larger batch, and ‖X − Y‖²', async ([rows, cols, batch], ctx) => {
  const gpu = await gpuOrSkip(ctx);
  if (!gpu) return;
  const stored = batch + 2;
  const per = rows * cols;
  const xs = randomF32(stored * per, rows + cols, -2, 2);
  const ys = randomF32(stored * per, rows * cols, -1, 1);
  const x = uploadTensor(gpu, { batch: stored, rows, cols, label: 'x' }, xs);
  const y = uploadTensor(gpu, { batch: stored, rows, cols, label: 'y' }, ys);
  const out = uploadTensor(gpu, { rows: 2, cols: batch, label: 'sums' }, new Float32Array(2 * batch));
  try {
    await withErrorScopes(gpu, () => runCommands(gpu, async (rec) => {
      await sumSquares(rec, { x: runRange(x, 1, batch), out: out.buffer });
      await sumSquares(rec, { x: runRange(x, 1, batch), y: runRange(y, 1, batch), out: out.buffer, outOffset: batch });
    }));
    const got = await readTensor(gpu, out);
    const view = (data: Float32Array) => ({ ...hostTensor({ batch: stored, rows, cols, data: Float64Array.from(data) }), batch, offset: per });
    const want = [...sumSquaresCpu(view(xs)), ...sumSquaresCpu(view(xs), view(ys))];
    const rel = (Math.ceil(per / 64) + 7) * F32_UNIT_ROUNDOFF;
    want.forEach((w, i) => expect(Math.abs(got[i] - w), `sum ${i}`).toBeLessThanOrEqual(rel * w));
  } finally {
    for (const t of [x, y, out]) t.buffer.destroy();
  }
});
