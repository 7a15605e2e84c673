// The Float64 twin of matmul (src/cpu/matmul.ts) on products small enough to do by hand, and the
// shape rules both sides share (src/layout/matmulShape.ts).
//
// Every expected matrix is written out from the definition C = α·op(A)·op(B) + β·C₀ with the
// working in a comment. Inputs are small integers, so every product and sum is exact in Float64
// and the comparison is exact equality (tolerance 0 absolute, 0 relative): any deviation is a
// wrong index, a dropped term or a wrong transpose, never rounding.
import { describe, expect, test } from 'vitest';
import { hostTensor, type HostTensor } from '../src/cpu/hostTensor';
import { matmulCpu } from '../src/cpu/matmul';
import { runRange, type TensorLayout } from '../src/gpu/tensor';
import { matmulShape, type MatmulOperands } from '../src/layout/matmulShape';
import { MATMUL_SHAPE_CLASSES, matmulShapeClass } from '../src/kernels/matmul/matmul';
import { gramShapeClass, gramVariantSupports, symmetricGramFlops } from '../src/kernels/matmul/symmetricGram';

/** A host tensor from nested rows: one matrix, or a batch of matrices. */
function t(matrices: number[][] | number[][][]): HostTensor {
  const batch3 = (Array.isArray(matrices[0][0]) ? matrices : [matrices]) as number[][][];
  const rows = batch3[0].length;
  const cols = batch3[0][0].length;
  return hostTensor({ batch: batch3.length, rows, cols, data: Float64Array.from(batch3.flat(2)) });
}

/** The matrices a host tensor holds for its batch, as nested rows (reads through the layout). */
function matrices(x: HostTensor): number[][][] {
  const out: number[][][] = [];
  for (let b = 0; b < x.batch; b++) {
    const m: number[][] = [];
    for (let i = 0; i < x.rows; i++) {
      const row: number[] = [];
      for (let j = 0; j < x.cols; j++) row.push(x.data[x.offset + b * x.batchStride + i * x.cols + j]);
      m.push(row);
    }
    out.push(m);
  }
  return out;
}

const transpose = (m: number[][]): number[][] => m[0].map((_, j) => m.map((row) => row[j]));
const zeros = (rows: number, cols: number, batch = 1): HostTensor => hostTensor({ batch, rows, cols });

// A (2×3) and B (3×2): A·B = [[1·7+2·9+3·11, 1·8+2·10+3·12], [4·7+5·9+6·11, 4·8+5·10+6·12]]
//                          = [[7+18+33, 8+20+36], [28+45+66, 32+50+72]] = [[58, 64], [139, 154]].
const A23 = [
  [1, 2, 3],
  [4, 5, 6],
];
const B32 = [
  [7, 8],
  [9, 10],
  [11, 12],
];
const AB = [
  [58, 64],
  [139, 154],
];

// Square P, Q where every transpose combination gives a different product:
//   P·Q   = [[1·5+2·7, 1·6+2·8], [3·5+4·7, 3·6+4·8]] = [[19, 22], [43, 50]]
//   Pᵀ·Q  = [[1,3],[2,4]]·Q = [[1·5+3·7, 1·6+3·8], [2·5+4·7, 2·6+4·8]] = [[26, 30], [38, 44]]
//   P·Qᵀ  = P·[[5,7],[6,8]] = [[1·5+2·6, 1·7+2·8], [3·5+4·6, 3·7+4·8]] = [[17, 23], [39, 53]]
//   Pᵀ·Qᵀ = (Q·P)ᵀ, Q·P = [[5·1+6·3, 5·2+6·4], [7·1+8·3, 7·2+8·4]] = [[23, 34], [31, 46]] → [[23, 31], [34, 46]]
const P = [
  [1, 2],
  [3, 4],
];
const Q = [
  [5, 6],
  [7, 8],
];

describe('matmulCpu: transposes', () => {
  // The rectangular pair stored as given or transposed: every combination is the same product, and
  // the shapes only agree when the flag is honoured.
  const rect = [
    { name: 'tA=0,tB=0 (2x3 · 3x2)', a: A23, b: B32, transA: false, transB: false },
    { name: 'tA=1,tB=0 (A stored 3x2)', a: transpose(A23), b: B32, transA: true, transB: false },
    { name: 'tA=0,tB=1 (B stored 2x3)', a: A23, b: transpose(B32), transA: false, transB: true },
    { name: 'tA=1,tB=1 (both stored transposed)', a: transpose(A23), b: transpose(B32), transA: true, transB: true },
  ];
  for (const c of rect) {
    test(`rectangular ${c.name}`, () => {
      const out = zeros(2, 2);
      matmulCpu({ a: t(c.a), b: t(c.b), c: out, transA: c.transA, transB: c.transB });
      expect(matrices(out)).toEqual([AB]);
    });
  }

  const square = [
    {
      name: 'tA=0,tB=0',
      transA: false,
      transB: false,
      want: [
        [19, 22],
        [43, 50],
      ],
    },
    {
      name: 'tA=1,tB=0',
      transA: true,
      transB: false,
      want: [
        [26, 30],
        [38, 44],
      ],
    },
    {
      name: 'tA=0,tB=1',
      transA: false,
      transB: true,
      want: [
        [17, 23],
        [39, 53],
      ],
    },
    {
      name: 'tA=1,tB=1',
      transA: true,
      transB: true,
      want: [
        [23, 31],
        [34, 46],
      ],
    },
  ];
  for (const c of square) {
    test(`square ${c.name}`, () => {
      const out = zeros(2, 2);
      matmulCpu({ a: t(P), b: t(Q), c: out, transA: c.transA, transB: c.transB });
      expect(matrices(out)).toEqual([c.want]);
    });
  }

  test('1x1 · 1x1 (degenerate shapes)', () => {
    const out = zeros(1, 1);
    matmulCpu({ a: t([[3]]), b: t([[-4]]), c: out });
    expect(matrices(out)).toEqual([[[-12]]]);
  });

  test('outer product: 3x1 · 1x2', () => {
    // [1,2,3]ᵀ·[4,5] = [[4,5],[8,10],[12,15]]
    const out = zeros(3, 2);
    matmulCpu({ a: t([[1], [2], [3]]), b: t([[4, 5]]), c: out });
    expect(matrices(out)).toEqual([
      [
        [4, 5],
        [8, 10],
        [12, 15],
      ],
    ]);
  });
});

describe('matmulCpu: alpha and beta', () => {
  const C0 = [
    [1, 2],
    [3, 4],
  ];
  const cases = [
    // 2·[[19,22],[43,50]] − [[1,2],[3,4]] = [[37, 42], [83, 96]]
    {
      name: 'alpha=2,beta=-1',
      alpha: 2,
      beta: -1,
      want: [
        [37, 42],
        [83, 96],
      ],
    },
    // 0.5·P·Q + 1·C0 = [[9.5+1, 11+2], [21.5+3, 25+4]]
    {
      name: 'alpha=0.5,beta=1',
      alpha: 0.5,
      beta: 1,
      want: [
        [10.5, 13],
        [24.5, 29],
      ],
    },
    // alpha 0 leaves β·C0 = 3·C0
    {
      name: 'alpha=0,beta=3',
      alpha: 0,
      beta: 3,
      want: [
        [3, 6],
        [9, 12],
      ],
    },
    // defaults: alpha 1, beta 0 (C0 overwritten)
    {
      name: 'defaults',
      alpha: undefined,
      beta: undefined,
      want: [
        [19, 22],
        [43, 50],
      ],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const out = t(C0);
      matmulCpu({ a: t(P), b: t(Q), c: out, alpha: c.alpha, beta: c.beta });
      expect(matrices(out)).toEqual([c.want]);
    });
  }

  test('beta=0 does not read C (NaN and Inf in C are ignored)', () => {
    const out = t([
      [NaN, Infinity],
      [-Infinity, NaN],
    ]);
    matmulCpu({ a: t(P), b: t(Q), c: out, alpha: 1, beta: 0 });
    expect(matrices(out)).toEqual([
      [
        [19, 22],
        [43, 50],
      ],
    ]);
  });

  test('beta≠0 does read C (a NaN in C propagates)', () => {
    // The converse of the above: proves the NaN test is not passing because C is never read.
    const out = t([
      [NaN, 0],
      [0, 0],
    ]);
    matmulCpu({ a: t(P), b: t(Q), c: out, alpha: 1, beta: 1 });
    expect(Number.isNaN(out.data[0])).toBe(true);
    expect(out.data[1]).toBe(22);
  });
});

describe('matmulCpu: batches', () => {
  const SWAP = [
    [0, 1],
    [1, 0],
  ];
  const I = [
    [1, 0],
    [0, 1],
  ];

  test('batch 2, B shared (batch count 1)', () => {
    // run 0: P·Q = [[19,22],[43,50]]; run 1: SWAP·Q swaps Q's rows = [[7,8],[5,6]]
    const out = zeros(2, 2, 2);
    matmulCpu({ a: t([P, SWAP]), b: t(Q), c: out });
    expect(matrices(out)).toEqual([
      [
        [19, 22],
        [43, 50],
      ],
      [
        [7, 8],
        [5, 6],
      ],
    ]);
  });

  test('batch 2, A shared (batch count 1), transB', () => {
    // run 0: P·Qᵀ = [[17,23],[39,53]]; run 1: P·Iᵀ = P
    const out = zeros(2, 2, 2);
    matmulCpu({ a: t(P), b: t([Q, I]), c: out, transB: true });
    expect(matrices(out)).toEqual([
      [
        [17, 23],
        [39, 53],
      ],
      P,
    ]);
  });

  test('batch 3, every operand batched, per-run alpha/beta shared', () => {
    // run r: A_r = (r+1)·I, B_r = Q, C0 = ones → 2·(r+1)·Q − 1
    const ones = [
      [1, 1],
      [1, 1],
    ];
    const scaled = (s: number) => I.map((row) => row.map((x) => s * x));
    const out = t([ones, ones, ones]);
    matmulCpu({ a: t([scaled(1), scaled(2), scaled(3)]), b: t([Q, Q, Q]), c: out, alpha: 2, beta: -1 });
    expect(matrices(out)).toEqual([
      [
        [9, 11],
        [13, 15],
      ], // 2·Q − 1
      [
        [19, 23],
        [27, 31],
      ], // 4·Q − 1
      [
        [29, 35],
        [41, 47],
      ], // 6·Q − 1
    ]);
  });

  test('run sub-range view (runRange): runs 1..2 of 3, run 0 untouched', () => {
    // Full tensors of 3 runs; the call sees runs 1 and 2 through offset views (no copy).
    // run 1: P·Q = [[19,22],[43,50]]; run 2: SWAP·I = SWAP. C's run 0 keeps its sentinel −1s.
    const aFull = t([I, P, SWAP]);
    const bFull = t([SWAP, Q, I]);
    const cFull = t([
      [
        [-1, -1],
        [-1, -1],
      ],
      [
        [0, 0],
        [0, 0],
      ],
      [
        [0, 0],
        [0, 0],
      ],
    ]);
    const a = runRange(aFull, 1, 2);
    const b = runRange(bFull, 1, 2);
    const c = runRange(cFull, 1, 2);
    expect(a.offset).toBe(4);
    matmulCpu({ a, b, c });
    expect(matrices(cFull)).toEqual([
      [
        [-1, -1],
        [-1, -1],
      ],
      [
        [19, 22],
        [43, 50],
      ],
      SWAP,
    ]);
  });

  // matmulShape treats a batch-1 operand as shared (batch stride 0) whatever stride it stores, and
  // so do the GPU kernel and matmulCpu: run 1 must not read A's next stored matrix (SWAP).
  test('a batch-1 view shared across a sub-range: A = run 1 of 3 (runRange count 1), C = runs 0..1', () => {
    // Both runs must use A = P: run 0 P·Q = [[19,22],[43,50]], run 1 P·I = P.
    const aView = runRange(t([I, P, SWAP]), 1, 1);
    expect(aView.batchStride).toBe(4); // a view of batch 1 keeps the stride of its parent
    const out = zeros(2, 2, 2);
    matmulCpu({ a: aView, b: t([Q, I]), c: out });
    expect(matrices(out)).toEqual([
      [
        [19, 22],
        [43, 50],
      ],
      P,
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// matmulShape

const layout = (batch: number, rows: number, cols: number, over: Partial<TensorLayout> = {}): TensorLayout => ({
  batch,
  rows,
  cols,
  batchStride: batch > 1 ? rows * cols : 0,
  offset: 0,
  dtype: 'f32',
  ...over,
});

describe('matmulShape: accepted shapes', () => {
  test('M, N, K from the stored shapes and the transposes', () => {
    // A stored 5×3 transposed → op(A) 3×5 (M 3, K 5); B stored 7×5 transposed → op(B) 5×7 (N 7)
    expect(matmulShape({ a: layout(1, 5, 3), b: layout(1, 7, 5), c: layout(1, 3, 7), transA: true, transB: true })).toEqual({
      M: 3,
      N: 7,
      K: 5,
      batch: 1,
      batchStrideA: 0,
      batchStrideB: 0,
      batchStrideC: 0,
    });
  });

  test('batch strides: batched operands keep theirs, shared ones get 0', () => {
    // A batched with a padded stride 20 (≥ 3·4), B shared, C contiguous 3·6 = 18
    const s = matmulShape({ a: layout(4, 3, 4, { batchStride: 20 }), b: layout(1, 4, 6), c: layout(4, 3, 6) });
    expect(s).toEqual({ M: 3, N: 6, K: 4, batch: 4, batchStrideA: 20, batchStrideB: 0, batchStrideC: 18 });
  });

  test('an operand with stride 0 and the full batch count is shared', () => {
    const s = matmulShape({ a: layout(4, 3, 4, { batchStride: 0 }), b: layout(4, 4, 6), c: layout(4, 3, 6) });
    expect(s.batchStrideA).toBe(0);
    expect(s.batchStrideB).toBe(24);
  });
});

describe('matmulShape: rejected calls name the operand', () => {
  const ok = (): MatmulOperands<TensorLayout> => ({ a: layout(3, 2, 4), b: layout(3, 4, 5), c: layout(3, 2, 5) });
  const cases: { name: string; args: () => MatmulOperands<TensorLayout>; message: RegExp }[] = [
    {
      name: 'mismatched inner dimensions',
      args: () => ({ ...ok(), b: layout(3, 3, 5) }),
      message: /op\(A\) = A is 2×4 but op\(B\) = B is 3×5: inner dimensions 4 and 3 differ/,
    },
    {
      name: 'mismatched inner dimensions with transposes',
      args: () => ({ ...ok(), transA: true, transB: true }),
      // A stored 2×4 → op(A) 4×2; B stored 4×5 → op(B) 5×4: K 2 vs 5
      message: /op\(A\) = Aᵀ is 4×2 but op\(B\) = Bᵀ is 5×4: inner dimensions 2 and 5 differ/,
    },
    { name: 'wrong C rows', args: () => ({ ...ok(), c: layout(3, 3, 5) }), message: /operand C is 3×5 but op\(A\)·op\(B\) is 2×5/ },
    { name: 'wrong C cols', args: () => ({ ...ok(), c: layout(3, 2, 4) }), message: /operand C is 2×4 but op\(A\)·op\(B\) is 2×5/ },
    {
      name: 'batch mismatch in B',
      args: () => ({ ...ok(), b: layout(2, 4, 5) }),
      message: /operand B has batch 2; expected 1 \(shared\) or 3/,
    },
    {
      name: 'batch mismatch in A',
      args: () => ({ ...ok(), a: layout(4, 2, 4) }),
      message: /operand A has batch 4; expected 1 \(shared\) or 3/,
    },
    {
      name: 'C batch smaller than an operand',
      args: () => ({ ...ok(), c: layout(1, 2, 5) }),
      message: /operand A has batch 3; expected 1 \(shared\) or 1/,
    },
    {
      name: 'C shared across a batch',
      args: () => ({ ...ok(), c: layout(3, 2, 5, { batchStride: 0 }) }),
      message: /operand C: batch stride 0/,
    },
    { name: 'empty rows in A', args: () => ({ ...ok(), a: layout(3, 0, 4) }), message: /operand A: shape 3×0×4 has an empty dimension/ },
    {
      name: 'empty cols in B',
      args: () => ({ ...ok(), b: layout(3, 4, 0, { batchStride: 0 }) }),
      message: /operand B: shape 3×4×0 has an empty dimension/,
    },
    { name: 'empty batch in C', args: () => ({ ...ok(), c: layout(0, 2, 5) }), message: /operand C: shape 0×2×5 has an empty dimension/ },
    {
      name: 'u32 dtype in B',
      args: () => ({ ...ok(), b: layout(3, 4, 5, { dtype: 'u32' }) }),
      message: /operand B: dtype must be f32, got u32/,
    },
    {
      name: 'i32 dtype in C',
      args: () => ({ ...ok(), c: layout(3, 2, 5, { dtype: 'i32' }) }),
      message: /operand C: dtype must be f32, got i32/,
    },
    {
      name: 'overlapping batch stride in A',
      args: () => ({ ...ok(), a: layout(3, 2, 4, { batchStride: 7 }) }),
      message: /matmul operand A: batchStride 7/,
    },
    {
      name: 'negative offset in C',
      args: () => ({ ...ok(), c: layout(3, 2, 5, { offset: -1 }) }),
      message: /matmul operand C: offset must be a non-negative integer/,
    },
    { name: 'alpha NaN', args: () => ({ ...ok(), alpha: NaN }), message: /alpha must be finite, got NaN/ },
    { name: 'alpha Infinity', args: () => ({ ...ok(), alpha: Infinity }), message: /alpha must be finite, got Infinity/ },
    { name: 'beta -Infinity', args: () => ({ ...ok(), beta: -Infinity }), message: /beta must be finite, got -Infinity/ },
  ];
  test('the base call of this table is valid', () => {
    expect(() => matmulShape(ok())).not.toThrow();
  });
  for (const c of cases) {
    test(c.name, () => {
      expect(() => matmulShape(c.args())).toThrow(c.message);
    });
  }

  test('the CPU twin rejects the same calls (same rules, same message)', () => {
    const out = zeros(2, 2);
    expect(() => matmulCpu({ a: t(A23), b: t(P), c: out })).toThrow(/inner dimensions 3 and 2 differ/);
    expect(() => matmulCpu({ a: t(P), b: t(Q), c: zeros(2, 3) })).toThrow(/operand C is 2×3/);
  });
});

describe('variant choice: shape classes and gram variants (no GPU)', () => {
  const shape = (M: number, N: number, K: number) => ({ M, N, K });
  test('small below 2^21 multiply-adds; shallow when larger with K ≤ 128; else large', () => {
    expect(matmulShapeClass(shape(127, 128, 128), true)).toBe('aligned-small');
    expect(matmulShapeClass(shape(128, 128, 128), true)).toBe('aligned-shallow');
    expect(matmulShapeClass(shape(128, 128, 129), false)).toBe('unaligned-large');
    // The fused softmax gradient's logit product (chunk 128 × 4096 queries, d = 64) and update
    // product (4096 queries × d = 256, K = the chunk of 128) are shallow.
    expect(matmulShapeClass(shape(128, 4096, 64), true)).toBe('aligned-shallow');
    expect(matmulShapeClass(shape(4096, 256, 128), true)).toBe('aligned-shallow');
    expect(matmulShapeClass(shape(4096, 4096, 4096), true)).toBe('aligned-large');
    for (const c of [matmulShapeClass(shape(1, 1, 1), false), matmulShapeClass(shape(999, 999, 999), false)])
      expect(MATMUL_SHAPE_CLASSES).toContain(c);
  });

  test('gram variants: the tiled vec4 form takes aligned shapes only, the subgroup forms need subgroups', () => {
    const aligned = { m: 132, k: 20, offsets: [0, 0, 2640, 17424] };
    const odd = { m: 132, k: 21, offsets: [0, 0, 0, 0] };
    expect(gramVariantSupports({ hasSubgroups: false }, 'workgroup-tiled-vec4', aligned)).toBe(true);
    expect(gramVariantSupports({ hasSubgroups: true }, 'workgroup-tiled-vec4', odd)).toBe(false);
    expect(gramVariantSupports({ hasSubgroups: false }, 'register-blocked-quad', odd)).toBe(false);
    expect(gramVariantSupports({ hasSubgroups: true }, 'subgroup-tiled', odd)).toBe(true);
    expect(gramShapeClass(aligned)).toBe('aligned-small');
    expect(gramShapeClass({ m: 256, k: 64, offsets: [0, 0, 0, 0] })).toBe('aligned-shallow');
  });

  test('FLOPs a symmetric kernel performs: whole tiles on and above the diagonal', () => {
    // quad: T = 3 tiles of 32 → 6 tiles; tiled: T = 2 tiles of 128 → 3; subgroup at m = 270: 34 row
    // blocks of 8, 2 column tiles of 256, the 2 blocks from row 256 on skip the first → 66 tiles.
    expect(symmetricGramFlops({ batch: 2, m: 70, k: 45 })).toBe(2 * 2 * 6 * 32 * 32 * 45);
    expect(symmetricGramFlops({ batch: 1, m: 132, k: 20 }, 'workgroup-tiled-vec4')).toBe(2 * 3 * 128 * 128 * 20);
    expect(symmetricGramFlops({ batch: 1, m: 270, k: 13 }, 'subgroup-tiled')).toBe(2 * 66 * 8 * 256 * 13);
  });
});
