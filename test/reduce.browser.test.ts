// Batched sum of squares (shaders/reduce/reduce.wgsl) against the Float64 twin (src/cpu/reduce.ts), with run
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
import { countNonFinite, sumSquares } from '../src/kernels/reduce/reduce';
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
    await withErrorScopes(gpu, () =>
      runCommands(gpu, async (rec) => {
        await sumSquares(rec, { x: runRange(x, 1, batch), out: out.buffer });
        await sumSquares(rec, { x: runRange(x, 1, batch), y: runRange(y, 1, batch), out: out.buffer, outOffset: batch });
      }),
    );
    const got = await readTensor(gpu, out);
    const view = (data: Float32Array) => ({
      ...hostTensor({ batch: stored, rows, cols, data: Float64Array.from(data) }),
      batch,
      offset: per,
    });
    const want = [...sumSquaresCpu(view(xs)), ...sumSquaresCpu(view(xs), view(ys))];
    const rel = (Math.ceil(per / 64) + 7) * F32_UNIT_ROUNDOFF;
    want.forEach((w, i) => expect(Math.abs(got[i] - w), `sum ${i}`).toBeLessThanOrEqual(rel * w));
  } finally {
    for (const t of [x, y, out]) t.buffer.destroy();
  }
});

test('count_nonfinite: NaN, +Inf and −Inf counted per matrix; the largest finite f32 and −0 are not', async (ctx) => {
  const gpu = await gpuOrSkip(ctx);
  if (!gpu) return;
  const [rows, cols, stored] = [9, 15, 5];
  const per = rows * cols;
  const data = randomF32(stored * per, 3, -1, 1);
  // Run 0 (outside the view) has a NaN that must not be counted; the view is runs 1..4.
  data[7] = Number.NaN;
  data[per + 3] = 3.4028234663852886e38; // max finite f32
  data[per + 4] = -0;
  data[2 * per + 0] = Number.NaN;
  data[2 * per + per - 1] = Number.POSITIVE_INFINITY;
  data[4 * per + 70] = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < 130; i += 2) data[3 * per + i] = Number.NaN; // 65 in one matrix: several lanes
  const x = uploadTensor(gpu, { batch: stored, rows, cols, label: 'x' }, data);
  const out = uploadTensor(gpu, { rows: 1, cols: 4, label: 'counts' }, new Float32Array(4).fill(-1));
  try {
    await withErrorScopes(gpu, () => runCommands(gpu, (rec) => countNonFinite(rec, { x: runRange(x, 1, 4), out: out.buffer })));
    expect(Array.from(await readTensor(gpu, out))).toEqual([0, 2, 65, 1]);
  } finally {
    for (const t of [x, out]) t.buffer.destroy();
  }
});
