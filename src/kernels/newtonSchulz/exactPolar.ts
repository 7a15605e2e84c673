/**
 * The GPU `exact` polar factor (docs/math.md §2.6): power-of-two normalization, a scaled first step,
 * the cushioned lifting schedule and purification steps of src/cpu/exactPolar.ts (the Float64 twin,
 * where the numerics are explained), with a per-run stop rule. Called by newtonSchulz() for
 * `orth: 'exact'`. Dispatches per call, for the whole batch of R matrices:
 *
 *   ‖X‖²_F, X₀ = X·2^−e                          2 (sum_squares, exact_normalize)
 *   A = X₀X₀ᵀ, A² = A·A, ‖A²‖²_F                  3 (symmetric Gram ×2 or matmul, sum_squares)
 *   P = (b/s²)A + (c/s⁴)A², T = P·X₀, X₁ = (aX₀ + T)/s, δ₁   4
 *   then per step k = 2 … EXACT_MAX_STEPS:        the fused step of newtonSchulz (3 products),
 *                                                  δ_k (sum_squares), and from the first
 *                                                  purification step on exact_select.
 *
 * Step 1 costs the same three products as any other step (its scale is computed from the A² it needs
 * anyway); the output is written by exact_select only, so a call always leaves the stop rule's choice.
 */
import type { CommandRecorder } from '../../gpu/commands';
import { defineKernel } from '../../gpu/registry';
import type { Tensor } from '../../gpu/tensor';
import {
  EXACT_FIRST_CHECKED_STEP,
  EXACT_LIFT_STEPS,
  EXACT_MAX_STEPS,
  EXACT_SCALE_SAFETY,
  exactConvergenceTolerance,
  exactTriple,
} from '../../cpu/exactPolar';
import { matmul, type MatmulVariantName } from '../matmul/matmul';
import { symmetricGram, type GramChoice } from '../matmul/symmetricGram';
import { sumSquares } from '../reduce/reduce';
import { copyTensor } from './newtonSchulz';

export const EXACT_NORMALIZE_KERNEL = defineKernel({ shader: 'newtonSchulz/exact_polar.wgsl', entryPoint: 'exact_normalize' });
export const EXACT_FIRST_POLY_KERNEL = defineKernel({ shader: 'newtonSchulz/exact_polar.wgsl', entryPoint: 'exact_first_poly' });
export const EXACT_FIRST_COMBINE_KERNEL = defineKernel({ shader: 'newtonSchulz/exact_polar.wgsl', entryPoint: 'exact_first_combine' });
export const EXACT_SELECT_KERNEL = defineKernel({ shader: 'newtonSchulz/exact_polar.wgsl', entryPoint: 'exact_select' });

/** The workspace pieces the exact iteration uses (a subset of NsWorkspace). */
export interface ExactWorkspace {
  x: [Tensor, Tensor];
  gram: Tensor;
  poly: Tensor;
  /** R floats: ‖X‖²_F, then reused for nothing else. */
  norms: GPUBuffer;
  /** R floats: ‖A²‖²_F (the scale s of step 1). */
  gramSquares: GPUBuffer;
  /** R × EXACT_MAX_STEPS floats: δ_k² per run. */
  deltas: GPUBuffer;
}

export interface ExactPolarArgs {
  input: Tensor;
  output: Tensor;
  workspace: ExactWorkspace;
  /** The kernel of X·Xᵀ and of A·A: a symmetric Gram variant, or 'matmul' (newtonSchulz's choice per shape). */
  gram: { xx: GramChoice; aa: GramChoice };
  variant?: MatmulVariantName;
}

/**
 * Records the exact polar iteration for every matrix of the batch; the output holds each run's
 * selected iterate, and workspace.deltas the δ_k² that readExactReport decodes.
 *
 * @example
 * await exactPolar(rec, { input: g, output: d, workspace: ws, gram: { xx: 'register-blocked-quad', aa: 'register-blocked-quad' } });
 */
export async function exactPolar(rec: CommandRecorder, args: ExactPolarArgs): Promise<void> {
  const { input, output, workspace: ws } = args;
  const { batch, rows, cols } = input;
  const tall = rows > cols;
  const count = rows * cols;
  const short = Math.min(rows, cols);
  const variant = args.variant ? { variant: args.variant } : {};
  const elementGroups = (n: number): [number, number, number] => [Math.ceil(n / 64), batch, 1];
  const gram = async (x: Tensor, c: Tensor, trans: boolean, label: string, alpha = 1, beta = 0) => {
    const choice = x === ws.gram ? args.gram.aa : args.gram.xx;
    if (choice !== 'matmul') await symmetricGram(rec, { x, c, trans, alpha, beta, variant: choice, label: `${label} (symmetric)` });
    else await matmul(rec, { a: x, b: x, c, transA: trans, transB: !trans, alpha, beta }, { ...variant, label });
  };
  const [x0, x1] = ws.x;

  // Step 0: X₀ = X·2^−e (exact).
  await sumSquares(rec, { x: input, out: ws.norms });
  await rec.dispatch({
    kernel: EXACT_NORMALIZE_KERNEL,
    buffers: { exactInput: input.buffer, inputSquares: ws.norms, exactScaled: x0.buffer },
    uniforms: {
      normalizeParams: {
        count,
        batch,
        offsetIn: input.offset,
        batchStrideIn: input.batchStride,
        offsetOut: x0.offset,
        batchStrideOut: x0.batchStride,
      },
    },
    workgroups: elementGroups(count),
  });

  // Step 1 with the per-run scale s = 1.001·‖A²‖_F^{1/4} folded in.
  const [a1, b1, c1] = EXACT_LIFT_STEPS[0];
  await gram(x0, ws.gram, tall, 'exact: A = X₀·X₀ᵀ');
  await gram(ws.gram, ws.poly, false, 'exact: A² = A·A');
  await sumSquares(rec, { x: ws.poly, out: ws.gramSquares });
  await rec.dispatch({
    kernel: EXACT_FIRST_POLY_KERNEL,
    buffers: { polyGram: ws.gram.buffer, polySquareToP: ws.poly.buffer, polyGramSquares: ws.gramSquares },
    uniforms: {
      polyParams: {
        count: short * short,
        batch,
        offsetGram: ws.gram.offset,
        batchStrideGram: ws.gram.batchStride,
        offsetPoly: ws.poly.offset,
        batchStridePoly: ws.poly.batchStride,
        b: b1,
        c: c1,
        safety: EXACT_SCALE_SAFETY,
      },
    },
    workgroups: elementGroups(short * short),
  });
  await matmul(rec, { ...(tall ? { a: x0, b: ws.poly } : { a: ws.poly, b: x0 }), c: x1 }, { ...variant, label: 'exact: T = P·X₀' });
  await rec.dispatch({
    kernel: EXACT_FIRST_COMBINE_KERNEL,
    buffers: { combineX0: x0.buffer, combineTToX1: x1.buffer, combineGramSquares: ws.gramSquares },
    uniforms: {
      combineParams: {
        count,
        batch,
        offsetX: x0.offset,
        batchStrideX: x0.batchStride,
        offsetT: x1.offset,
        batchStrideT: x1.batchStride,
        a: a1,
        safety: EXACT_SCALE_SAFETY,
      },
    },
    workgroups: elementGroups(count),
  });
  await sumSquares(rec, { x: x1, y: x0, out: ws.deltas, outOffset: 0, outStride: EXACT_MAX_STEPS });

  const tolerance = exactConvergenceTolerance(rows, cols);
  let cur = x1;
  for (let k = 1; k < EXACT_MAX_STEPS; k++) {
    const [a, b, c] = exactTriple(k);
    await gram(cur, ws.gram, tall, 'exact: A = X·Xᵀ');
    copyTensor(rec, ws.gram, ws.poly);
    await gram(ws.gram, ws.poly, false, 'exact: P = bA + cA²', c, b);
    const dst = cur === x0 ? x1 : x0;
    if (a !== 0) copyTensor(rec, cur, dst);
    await matmul(
      rec,
      { ...(tall ? { a: cur, b: ws.poly } : { a: ws.poly, b: cur }), c: dst, alpha: 1, beta: a },
      { ...variant, label: 'exact: X = aX + P·X' },
    );
    await sumSquares(rec, { x: dst, y: cur, out: ws.deltas, outOffset: k, outStride: EXACT_MAX_STEPS });
    const step = k + 1;
    if (step >= EXACT_FIRST_CHECKED_STEP) {
      await rec.dispatch({
        kernel: EXACT_SELECT_KERNEL,
        buffers: { selectIterate: dst.buffer, selectDeltas: ws.deltas, selectOutput: output.buffer },
        uniforms: {
          selectParams: {
            count,
            batch,
            step,
            historyStride: EXACT_MAX_STEPS,
            firstChecked: EXACT_FIRST_CHECKED_STEP,
            offsetIn: dst.offset,
            batchStrideIn: dst.batchStride,
            offsetOut: output.offset,
            batchStrideOut: output.batchStride,
            toleranceSquared: tolerance * tolerance,
          },
        },
        workgroups: elementGroups(count),
      });
    }
    cur = dst;
  }
}
