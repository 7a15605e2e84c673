/**
 * The validate step of matmul: a suite of addressable cases (odd, tile-edge and aligned shapes, all
 * transposes, α/β, batches with shared operands and run sub-ranges), each run on the GPU and compared
 * with the Float64 twin (src/cpu/matmul.ts). Used by `muonlab check matmul`, by the variant choice
 * (only variants that pass on this adapter are candidates) and by test/matmul.browser.test.ts.
 */
import { runCommands } from '../../gpu/commands';
import type { Gpu } from '../../gpu/device';
import { runRange, uploadTensor, readTensor, type Tensor } from '../../gpu/tensor';
import { compareToReference, F32_UNIT_ROUNDOFF, type Comparison, type Tolerance } from '../../cpu/compare';
import type { HostTensor } from '../../cpu/hostTensor';
import { matmulCpu } from '../../cpu/matmul';
import { randomF32 } from '../../cpu/random';
import { matmul, MATMUL_VARIANTS, matmulVariant, matmulVariantAvailable, type MatmulVariantName } from './matmul';
import { matmulShape } from '../../layout/matmulShape';
import type { CheckRow } from '../family';
import { finiteOrNull } from '../../experiments/results';

export interface MatmulCase {
  M: number;
  N: number;
  K: number;
  batch: number;
  transA: boolean;
  transB: boolean;
  alpha: number;
  beta: number;
  /** An operand given with batch count 1, shared by every product. */
  shared?: 'A' | 'B';
  /** Operate on runs [start, start + batch) of tensors holding `of` runs (offset views, no copy). */
  runRange?: { start: number; of: number };
}

/** Addressable id, e.g. `M=7,N=13,K=5,batch=1,tA=1,tB=0,alpha=1,beta=0`. */
export function matmulCaseId(c: MatmulCase): string {
  let id = `M=${c.M},N=${c.N},K=${c.K},batch=${c.batch},tA=${+c.transA},tB=${+c.transB},alpha=${c.alpha},beta=${c.beta}`;
  if (c.shared) id += `,shared=${c.shared}`;
  if (c.runRange) id += `,runs=${c.runRange.start}..${c.runRange.start + c.batch - 1}of${c.runRange.of}`;
  return id;
}

const TRANSPOSES = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const;

/** The full suite of the foundation issue; `quick` keeps one case per feature (variant choice). */
export function matmulCases(scope: 'full' | 'quick' = 'full'): MatmulCase[] {
  const one = { batch: 1, alpha: 1, beta: 0 };
  if (scope === 'quick') {
    return [
      ...TRANSPOSES.map(([transA, transB]) => ({ M: 7, N: 13, K: 5, transA, transB, ...one })),
      { M: 65, N: 63, K: 67, transA: false, transB: false, ...one },
      { M: 64, N: 64, K: 64, transA: true, transB: false, ...one },
      { M: 12, N: 8, K: 16, transA: false, transB: true, batch: 3, alpha: 0.75, beta: -1.5, shared: 'B' },
    ];
  }
  // [132, 260, 20]: aligned, with remainders of every tile — 128×128 (workgroup-tiled-vec4: 132 =
  // 128 + 4, 260 = 2·128 + 4, K = 2½ slices of 8) and 8×256 (subgroup-tiled: 260 = 256 + 4).
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [7, 13, 5],
    [63, 63, 63],
    [64, 64, 64],
    [65, 65, 65],
    [127, 129, 3],
    [132, 260, 20],
    [256, 256, 256],
  ];
  const cases: MatmulCase[] = [];
  for (const [M, N, K] of shapes) {
    for (const [transA, transB] of TRANSPOSES) cases.push({ M, N, K, transA, transB, ...one });
  }
  for (const [M, N, K] of [
    [7, 13, 5],
    [64, 64, 64],
    [65, 65, 65],
  ] as const) {
    for (const [transA, transB] of [TRANSPOSES[0], TRANSPOSES[3]]) {
      cases.push({ M, N, K, transA, transB, batch: 1, alpha: 0.75, beta: -1.5 });
    }
  }
  for (const [M, N, K] of [
    [33, 17, 29],
    [32, 16, 28],
  ] as const) {
    cases.push({ M, N, K, transA: false, transB: false, batch: 3, alpha: 1, beta: 0 });
    cases.push({ M, N, K, transA: true, transB: false, batch: 3, alpha: 1, beta: 0.5, shared: 'A' });
    cases.push({ M, N, K, transA: false, transB: true, batch: 3, alpha: -2, beta: 0, shared: 'B' });
  }
  cases.push({ M: 16, N: 8, K: 12, transA: false, transB: false, batch: 3, alpha: 1, beta: 1, runRange: { start: 1, of: 5 } });
  cases.push({ M: 9, N: 5, K: 7, transA: true, transB: true, batch: 2, alpha: 1, beta: 0, runRange: { start: 2, of: 4 } });
  return cases;
}

/** Whether a variant can run a case (the vec4 variants need aligned shapes). */
export function variantSupportsCase(variant: MatmulVariantName, c: MatmulCase): boolean {
  const layout = caseLayouts(c);
  const args = { a: layout.a, b: layout.b, c: layout.c, transA: c.transA, transB: c.transB };
  return matmulVariant(variant).supports(matmulShape(args), args as never);
}

interface Layout {
  batch: number;
  rows: number;
  cols: number;
  batchStride: number;
  offset: number;
  dtype: 'f32';
}

function caseLayouts(c: MatmulCase): { a: Layout; b: Layout; c: Layout; stored: number } {
  const stored = c.runRange?.of ?? c.batch;
  const start = c.runRange?.start ?? 0;
  const make = (rows: number, cols: number, shared: boolean): Layout => {
    const n = shared ? 1 : stored;
    return {
      batch: shared ? 1 : c.batch,
      rows,
      cols,
      batchStride: n > 1 ? rows * cols : 0,
      offset: shared ? 0 : start * rows * cols,
      dtype: 'f32',
    };
  };
  return {
    a: c.transA ? make(c.K, c.M, c.shared === 'A') : make(c.M, c.K, c.shared === 'A'),
    b: c.transB ? make(c.N, c.K, c.shared === 'B') : make(c.K, c.N, c.shared === 'B'),
    c: make(c.M, c.N, false),
    stored,
  };
}

export interface MatmulCaseResult {
  /** GPU's C for the runs the case covers, contiguous. */
  got: Float32Array;
  /** Float64 reference, same layout. */
  want: Float64Array;
  /** |α|·(|op(A)|·|op(B)|) + |β|·|C₀| per element: what the rounding error scales with. */
  magnitude: Float64Array;
  K: number;
  variant: MatmulVariantName;
}

/**
 * Runs one case on the GPU with a given variant and on the CPU twin, from the same f32 inputs.
 */
export async function runMatmulCase(gpu: Gpu, c: MatmulCase, variant: MatmulVariantName, seed = 1): Promise<MatmulCaseResult> {
  const L = caseLayouts(c);
  const count = (l: Layout) => (l.batchStride === 0 ? 1 : L.stored) * l.rows * l.cols;
  const aData = randomF32(count(L.a), seed);
  const bData = randomF32(count(L.b), seed + 1);
  const cData = randomF32(count(L.c), seed + 2);
  const created: Tensor[] = [];
  const upload = (l: Layout, data: Float32Array<ArrayBuffer>, label: string): Tensor<'f32'> => {
    const full = uploadTensor(gpu, { batch: l.batchStride === 0 ? 1 : L.stored, rows: l.rows, cols: l.cols, label }, data);
    created.push(full);
    return l.batchStride === 0 ? { ...full, batch: l.batch } : runRange(full, c.runRange?.start ?? 0, c.batch);
  };
  try {
    const a = upload(L.a, aData, 'check A');
    const b = upload(L.b, bData, 'check B');
    const cT = upload(L.c, cData, 'check C');
    await runCommands(gpu, async (rec) => {
      await matmul(rec, { a, b, c: cT, transA: c.transA, transB: c.transB, alpha: c.alpha, beta: c.beta }, { variant });
    });
    const got = await readTensor(gpu, cT);
    const host = (l: Layout, data: Float32Array): HostTensor => ({ ...l, data: Float64Array.from(data) });
    const ref = { a: host(L.a, aData), b: host(L.b, bData), c: host(L.c, cData) };
    matmulCpu({ ...ref, transA: c.transA, transB: c.transB, alpha: c.alpha, beta: c.beta });
    const abs = (t: HostTensor) => ({ ...t, data: t.data.map(Math.abs) as Float64Array });
    const mag = { a: abs(ref.a), b: abs(ref.b), c: abs(host(L.c, cData)) };
    matmulCpu({ ...mag, transA: c.transA, transB: c.transB, alpha: Math.abs(c.alpha), beta: Math.abs(c.beta) });
    const range = (t: HostTensor) => t.data.slice(L.c.offset, L.c.offset + c.batch * c.M * c.N) as Float64Array;
    return { got, want: range(ref.c), magnitude: range(mag.c), K: c.K, variant };
  } finally {
    for (const t of created) t.buffer.destroy();
  }
}

/**
 * Error bound of a K-long f32 dot product, then the α scaling and the β·C add (Higham, §3.1):
 * |fl(C) − C| ≤ γ_{K+2}·(|α|·|A||B| + |β|·|C₀|), γ_n = n·u/(1 − n·u), u = 2^-24 — for any summation
 * order, so it holds for every variant. No relative term: the bound is already per element.
 */
export function matmulTolerance(r: Pick<MatmulCaseResult, 'magnitude' | 'K'>): Tolerance {
  const n = r.K + 2;
  const gamma = (n * F32_UNIT_ROUNDOFF) / (1 - n * F32_UNIT_ROUNDOFF);
  return { atol: r.magnitude.map((m) => gamma * m), rtol: 0 };
}

export type { CheckRow };

/** Runs the suite for the given variants (default all) and returns one row per (variant, case). */
export async function checkMatmul(
  gpu: Gpu,
  options: { variants?: MatmulVariantName[]; scope?: 'full' | 'quick' } = {},
): Promise<CheckRow[]> {
  const rows: CheckRow[] = [];
  const variants = options.variants ?? MATMUL_VARIANTS.filter((v) => matmulVariantAvailable(gpu, v)).map((v) => v.name);
  for (const variant of variants) {
    for (const c of matmulCases(options.scope)) {
      if (!variantSupportsCase(variant, c)) continue;
      const caseId = matmulCaseId(c);
      try {
        const r = await runMatmulCase(gpu, c, variant);
        const cmp: Comparison = compareToReference(r.got, r.want, matmulTolerance(r));
        rows.push({
          kernel: 'matmul',
          variant,
          caseId,
          pass: cmp.pass,
          maxAbsError: finiteOrNull(cmp.maxAbsError),
          worstRatio: finiteOrNull(cmp.worstRatio),
        });
      } catch (err) {
        rows.push({ kernel: 'matmul', variant, caseId, pass: false, maxAbsError: null, worstRatio: null, error: (err as Error).message });
      }
    }
  }
  return rows;
}
