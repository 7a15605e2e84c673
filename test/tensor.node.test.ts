// The tensor layout contract of src/gpu/tensor.ts (docs/architecture.md §3.1, "Runs are a batch dimension"):
// element (b, i, j) at offset + b·batchStride + i·cols + j, batch stride 0 = one matrix shared by
// all runs, sub-ranges of runs as offset views. Pure layout arithmetic: no device needed. Every
// expected number below is worked out by hand from that formula in the test's comment.
import { describe, expect, test } from 'vitest';
import { broadcastRuns, requiredElements, runRange, validateLayout, type TensorLayout } from '../src/gpu/tensor';

const layout = (over: Partial<TensorLayout>): TensorLayout => ({
  batch: 1,
  rows: 1,
  cols: 1,
  batchStride: 0,
  offset: 0,
  dtype: 'f32',
  ...over,
});

describe('requiredElements', () => {
  // The last element touched is (batch−1, rows−1, cols−1); the buffer must hold one past it.
  const cases: { name: string; t: TensorLayout; want: number }[] = [
    // 0 + 0·0 + 2·3 = 6
    { name: 'single 2x3', t: layout({ rows: 2, cols: 3 }), want: 6 },
    // contiguous batch: 0 + 3·6 + 6 = 24 = 4·2·3
    { name: 'contiguous batch=4 of 2x3', t: layout({ batch: 4, rows: 2, cols: 3, batchStride: 6 }), want: 24 },
    // padded batch stride: last matrix starts at 3·10 = 30, ends at 36 (the padding after it is not needed)
    { name: 'padded stride 10, batch=4 of 2x3', t: layout({ batch: 4, rows: 2, cols: 3, batchStride: 10 }), want: 36 },
    // shared: every run reads the same 6 elements at offset 5 → 11
    { name: 'shared stride 0, batch=8, offset 5', t: layout({ batch: 8, rows: 2, cols: 3, batchStride: 0, offset: 5 }), want: 11 },
    // run sub-range: offset 12 (run 2 of a 2x3 contiguous tensor), 2 runs → 12 + 6 + 6 = 24
    { name: 'view runs 2..3, offset 12', t: layout({ batch: 2, rows: 2, cols: 3, batchStride: 6, offset: 12 }), want: 24 },
    // empty dimension: touches nothing beyond the offset
    { name: 'empty rows, offset 7', t: layout({ batch: 3, rows: 0, cols: 3, batchStride: 0, offset: 7 }), want: 7 },
    { name: 'empty batch', t: layout({ batch: 0, rows: 2, cols: 3, batchStride: 6 }), want: 0 },
  ];
  for (const c of cases) {
    test(c.name, () => {
      expect(requiredElements(c.t)).toBe(c.want);
    });
  }
});

describe('validateLayout', () => {
  const ok: { name: string; t: TensorLayout }[] = [
    { name: 'contiguous batch', t: layout({ batch: 3, rows: 2, cols: 3, batchStride: 6 }) },
    { name: 'stride 0 shares one matrix', t: layout({ batch: 3, rows: 2, cols: 3, batchStride: 0 }) },
    { name: 'padded stride', t: layout({ batch: 3, rows: 2, cols: 3, batchStride: 8 }) },
    // With one matrix there is nothing to overlap, whatever the stride says.
    { name: 'batch 1 with a small stride', t: layout({ batch: 1, rows: 2, cols: 3, batchStride: 1 }) },
  ];
  for (const c of ok) {
    test(`accepts ${c.name}`, () => {
      expect(() => validateLayout(c.t, 'operand X')).not.toThrow();
    });
  }

  const bad: { name: string; t: TensorLayout; message: RegExp }[] = [
    // stride 5 < 2·3 = 6: run 1 would start inside run 0's matrix
    {
      name: 'overlapping batch stride',
      t: layout({ batch: 2, rows: 2, cols: 3, batchStride: 5 }),
      message: /operand X: batchStride 5 .*overlap/,
    },
    { name: 'negative rows', t: layout({ rows: -1 }), message: /operand X: rows must be a non-negative integer, got -1/ },
    { name: 'fractional cols', t: layout({ cols: 1.5 }), message: /operand X: cols must be a non-negative integer/ },
    { name: 'negative offset', t: layout({ offset: -4 }), message: /operand X: offset must be a non-negative integer/ },
    { name: 'NaN batch', t: layout({ batch: NaN }), message: /operand X: batch must be a non-negative integer/ },
    {
      name: 'negative batchStride',
      t: layout({ batch: 2, batchStride: -1 }),
      message: /operand X: batchStride must be a non-negative integer/,
    },
  ];
  for (const c of bad) {
    test(`rejects ${c.name}`, () => {
      expect(() => validateLayout(c.t, 'operand X')).toThrow(c.message);
    });
  }
});

describe('runRange', () => {
  // 5 runs of 3x4 matrices stored contiguously after a 2-element prefix: run r starts at 2 + 12r.
  const full = layout({ batch: 5, rows: 3, cols: 4, batchStride: 12, offset: 2 });

  const cases: { start: number; count: number; offset: number }[] = [
    { start: 0, count: 5, offset: 2 },
    { start: 1, count: 3, offset: 14 },
    { start: 4, count: 1, offset: 50 },
  ];
  for (const c of cases) {
    test(`runs ${c.start}..${c.start + c.count - 1} of 5 start at element ${c.offset}`, () => {
      const v = runRange(full, c.start, c.count);
      expect(v).toEqual({ ...full, batch: c.count, offset: c.offset });
      // The view ends where the full tensor's run start+count−1 ends: no copy, same buffer span.
      expect(requiredElements(v)).toBe(2 + 12 * (c.start + c.count));
    });
  }

  test('a view of a view composes offsets', () => {
    // runs 1..3, then its runs 1..2 = runs 2..3 of the original: 2 + 12·2 = 26
    const v = runRange(runRange(full, 1, 3), 1, 2);
    expect(v.offset).toBe(26);
    expect(v.batch).toBe(2);
  });

  test('keeps extra fields (a Tensor stays a Tensor)', () => {
    const t = { ...full, label: 'W' };
    expect(runRange(t, 2, 2).label).toBe('W');
  });

  const bad: { name: string; start: number; count: number }[] = [
    { name: 'past the end', start: 3, count: 3 },
    { name: 'start at batch', start: 5, count: 1 },
    { name: 'negative start', start: -1, count: 2 },
    { name: 'zero count', start: 0, count: 0 },
    { name: 'fractional start', start: 0.5, count: 1 },
  ];
  for (const c of bad) {
    test(`rejects ${c.name} (start ${c.start}, count ${c.count})`, () => {
      expect(() => runRange(full, c.start, c.count)).toThrow(/runRange: runs .* outside the batch of 5/);
    });
  }
});

describe('broadcastRuns', () => {
  test('a single matrix becomes a stride-0 batch', () => {
    const one = layout({ rows: 3, cols: 4, offset: 8 });
    const shared = broadcastRuns(one, 16);
    expect(shared).toEqual({ ...one, batch: 16, batchStride: 0 });
    // 16 runs read the same 12 elements: the buffer need not grow.
    expect(requiredElements(shared)).toBe(8 + 12);
  });

  test('an already shared batch can be re-broadcast to another batch size', () => {
    const shared = layout({ batch: 4, rows: 3, cols: 4, batchStride: 0 });
    expect(broadcastRuns(shared, 9)).toMatchObject({ batch: 9, batchStride: 0 });
  });

  test('a single run with a nonzero stride (a runRange view) can be broadcast', () => {
    const view = runRange(layout({ batch: 4, rows: 3, cols: 4, batchStride: 12 }), 2, 1);
    expect(broadcastRuns(view, 3)).toMatchObject({ batch: 3, batchStride: 0, offset: 24 });
  });

  test('rejects a batch of distinct matrices', () => {
    expect(() => broadcastRuns(layout({ batch: 2, rows: 3, cols: 4, batchStride: 12 }), 8)).toThrow(
      /only a single matrix can be shared, this tensor has batch 2/,
    );
  });
});
