/**
 * The check cases of the symmetric Gram product (src/kernels/matmul/symmetricGram.ts) for every
 * variant: odd sizes and tile remainders of each variant's tiles (32×32 quad, 128×128 workgroup-tiled
 * with K slices of 8, 8×256 subgroup tiles and their skipped below-diagonal tiles), both
 * orientations, α and β with a symmetric C, a batch with an offset. Part of `muonlab check matmul`
 * (src/kernels/matmul/check.ts) and of test/symmetricGram.browser.test.ts.
 *
 * Tolerance per element: Higham's bound for a K-long f32 dot product, then α and the β·C add —
 * γ_{K+2}·(|α|·|X||X|ᵀ + |β|·|C₀|), γ_n = n·u/(1 − n·u) — whatever the summation order. The output
 * must also be exactly symmetric (mirrored stores, and diagonal tiles whose (i, j) and (j, i) are the
 * same fma chain): a case passes only with no entry C[i, j] ≠ C[j, i].
 */
import { runCommands } from '../../gpu/commands';
import type { Gpu } from '../../gpu/device';
import { readTensor, runRange, uploadTensor } from '../../gpu/tensor';
import { compareToReference, F32_UNIT_ROUNDOFF, type Comparison } from '../../cpu/compare';
import { hostTensor } from '../../cpu/hostTensor';
import { matmulCpu } from '../../cpu/matmul';
import { randomF32 } from '../../cpu/random';
import { finiteOrNull } from '../../experiments/results';
import type { CheckRow } from '../family';
import { GRAM_VARIANTS, gramShapeOf, gramVariantSupports, symmetricGram, type GramVariantName } from './symmetricGram';

export interface GramCase {
  name: string;
  batch: number;
  /** X is rows × cols; the result is rows² (X·Xᵀ) or cols² (Xᵀ·X with `trans`). */
  rows: number;
  cols: number;
  trans: boolean;
  alpha: number;
  beta: number;
  /** Matrices stored before the batch (a nonzero offset). */
  skip?: number;
}

/**
 * The suite; `quick` keeps one unaligned and one aligned case (the variant choice's validation).
 *
 * @example
 * gramCases('quick').map(gramCaseId); // ['gram X·Xᵀ 70×45 (quad: T = 3, K tail 5)', 'gram X·Xᵀ 132×20 (tiled: T = 2, K = 2½ slices)']
 */
export function gramCases(scope: 'full' | 'quick' = 'full'): GramCase[] {
  const all: GramCase[] = [
    { name: 'X·Xᵀ 70×45 (quad: T = 3, K tail 5)', batch: 3, rows: 70, cols: 45, trans: false, alpha: 1, beta: 0 },
    { name: 'Xᵀ·X 45×70', batch: 3, rows: 45, cols: 70, trans: true, alpha: 1, beta: 0 },
    { name: 'X·Xᵀ 33×8, α = −0.7, β = 1.3, offset', batch: 2, rows: 33, cols: 8, trans: false, alpha: -0.7, beta: 1.3, skip: 1 },
    { name: 'Xᵀ·X 9×40, α = 2, β = −0.5', batch: 2, rows: 9, cols: 40, trans: true, alpha: 2, beta: -0.5 },
    { name: 'X·Xᵀ 1×9', batch: 2, rows: 1, cols: 9, trans: false, alpha: 1, beta: 0 },
    { name: 'X·Xᵀ 64×64', batch: 1, rows: 64, cols: 64, trans: false, alpha: 1, beta: 0 },
    // 128×128 tiles: T = 2 (one mirrored off-diagonal tile, a 4-row remainder), K = 20 (2½ slices of 8).
    { name: 'X·Xᵀ 132×20 (tiled: T = 2, K = 2½ slices)', batch: 2, rows: 132, cols: 20, trans: false, alpha: 1, beta: 0 },
    { name: 'Xᵀ·X 20×132, α = 0.5, β = −1, offset', batch: 1, rows: 20, cols: 132, trans: true, alpha: 0.5, beta: -1, skip: 1 },
    // 8×256 subgroup tiles: two column tiles, row blocks past 256 skip the first (wholly below the diagonal).
    { name: 'X·Xᵀ 270×13 (subgroup: 2 column tiles, skipped tiles)', batch: 1, rows: 270, cols: 13, trans: false, alpha: 1, beta: 0 },
  ];
  return scope === 'quick' ? [all[0], all[6]] : all;
}

/** The case's addressable id (`muonlab check`, `-t`), e.g. `gram X·Xᵀ 64×64`. */
export function gramCaseId(c: GramCase): string {
  return `gram ${c.name}`;
}

function symmetricMatrices(batch: number, m: number, seed: number): Float32Array<ArrayBuffer> {
  const r = randomF32(batch * m * m, seed);
  const out = new Float32Array(batch * m * m);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) out[b * m * m + i * m + j] = r[b * m * m + Math.min(i, j) * m + Math.max(i, j)];
  }
  return out;
}

/**
 * The layout facts of a case, for gramVariantSupports (no GPU objects).
 *
 * @example
 * gramVariantSupports(gpu, 'workgroup-tiled-vec4', gramCaseShape(gramCases()[0])); // false: 45 is not a multiple of 4
 */
export function gramCaseShape(c: GramCase): ReturnType<typeof gramShapeOf> {
  const m = c.trans ? c.cols : c.rows;
  const stored = c.batch + (c.skip ?? 0);
  const layout = (rows: number, cols: number) => ({
    batch: c.batch,
    rows,
    cols,
    batchStride: stored > 1 ? rows * cols : 0,
    offset: (c.skip ?? 0) * rows * cols,
  });
  return gramShapeOf({ x: layout(c.rows, c.cols) as never, c: layout(m, m) as never, trans: c.trans });
}

export interface GramCaseResult {
  comparison: Comparison;
  /** Entries with C[i, j] ≠ C[j, i] in the GPU's output. */
  asymmetric: number;
  /** Whether matrices stored outside the batch's range came back unchanged. */
  untouchedOutside: boolean;
}

/**
 * Runs one case with one variant on the GPU and through the Float64 twin, from the same f32 inputs.
 *
 * @example
 * const r = await runGramCase(gpu, gramCases()[6], 'workgroup-tiled-vec4');
 * r.comparison.worstRatio <= 1 && r.asymmetric === 0;
 */
export async function runGramCase(gpu: Gpu, c: GramCase, variant: GramVariantName): Promise<GramCaseResult> {
  const m = c.trans ? c.cols : c.rows;
  const k = c.trans ? c.rows : c.cols;
  const skip = c.skip ?? 0;
  const stored = c.batch + skip;
  const xData = randomF32(stored * c.rows * c.cols, 7);
  const cData = symmetricMatrices(stored, m, 8);
  const xAll = uploadTensor(gpu, { batch: stored, rows: c.rows, cols: c.cols, label: 'gram check X' }, xData);
  const cAll = uploadTensor(gpu, { batch: stored, rows: m, cols: m, label: 'gram check C' }, cData);
  try {
    const x = runRange(xAll, skip, c.batch);
    const out = runRange(cAll, skip, c.batch);
    await runCommands(gpu, (rec) => symmetricGram(rec, { x, c: out, trans: c.trans, alpha: c.alpha, beta: c.beta, variant }));
    const all = await readTensor(gpu, cAll);
    const start = skip * m * m;
    const got = all.subarray(start, start + c.batch * m * m);
    const untouchedOutside = all.subarray(0, start).every((v, i) => Object.is(v, cData[i]));

    const hx = hostTensor({ batch: c.batch, rows: c.rows, cols: c.cols, data: Float64Array.from(xData.subarray(skip * c.rows * c.cols)) });
    const want = hostTensor({ batch: c.batch, rows: m, cols: m, data: Float64Array.from(cData.subarray(start)) });
    matmulCpu({ a: hx, b: hx, c: want, transA: c.trans, transB: !c.trans, alpha: c.alpha, beta: c.beta });
    const ax = { ...hx, data: hx.data.map(Math.abs) };
    const mag = hostTensor({ batch: c.batch, rows: m, cols: m, data: Float64Array.from(cData.subarray(start), Math.abs) });
    matmulCpu({ a: ax, b: ax, c: mag, transA: c.trans, transB: !c.trans, alpha: Math.abs(c.alpha), beta: Math.abs(c.beta) });
    const n = k + 2;
    const gamma = (n * F32_UNIT_ROUNDOFF) / (1 - n * F32_UNIT_ROUNDOFF);
    const comparison = compareToReference(got, want.data, { atol: Array.from(mag.data, (v) => gamma * v), rtol: 0 });
    let asymmetric = 0;
    for (let b = 0; b < c.batch; b++) {
      for (let i = 0; i < m; i++)
        for (let j = i + 1; j < m; j++) if (got[b * m * m + i * m + j] !== got[b * m * m + j * m + i]) asymmetric++;
    }
    return { comparison, asymmetric, untouchedOutside };
  } finally {
    xAll.buffer.destroy();
    cAll.buffer.destroy();
  }
}

/**
 * Runs the gram suite for the given variants (default: every one this device has), skipping the
 * cases a variant cannot take (the tiled vec4 form: unaligned ones). One row per (variant, case).
 *
 * @example
 * const rows = await checkGram(gpu, { variants: ['workgroup-tiled-vec4'] });
 */
export async function checkGram(gpu: Gpu, options: { variants?: GramVariantName[]; scope?: 'full' | 'quick' } = {}): Promise<CheckRow[]> {
  const rows: CheckRow[] = [];
  const variants = options.variants ?? GRAM_VARIANTS.filter((v) => v.requires !== 'subgroups' || gpu.hasSubgroups).map((v) => v.name);
  for (const variant of variants) {
    for (const c of gramCases(options.scope)) {
      if (!gramVariantSupports(gpu, variant, gramCaseShape(c))) continue;
      const caseId = gramCaseId(c);
      const label = `gram:${variant}`;
      try {
        const r = await runGramCase(gpu, c, variant);
        const pass = r.comparison.pass && r.asymmetric === 0 && r.untouchedOutside;
        const row: CheckRow = {
          kernel: 'matmul',
          variant: label,
          caseId,
          pass,
          maxAbsError: finiteOrNull(r.comparison.maxAbsError),
          worstRatio: finiteOrNull(r.comparison.worstRatio),
        };
        if (r.asymmetric) row.error = `${r.asymmetric} entries with C[i, j] ≠ C[j, i]`;
        if (!r.untouchedOutside) row.error = 'matrices outside the batch range were written';
        rows.push(row);
      } catch (err) {
        rows.push({
          kernel: 'matmul',
          variant: label,
          caseId,
          pass: false,
          maxAbsError: null,
          worstRatio: null,
          error: (err as Error).message,
        });
      }
    }
  }
  return rows;
}
