/**
 * Batched Newton–Schulz on the GPU (docs/math.md §2 `orth`): R matrices per dispatch, built from the batched
 * matmul plus two small kernels (shaders/newtonSchulz/newton_schulz.wgsl, shaders/reduce/reduce.wgsl). CPU twin:
 * src/cpu/newtonSchulz.ts (same operations, same order).
 *
 * Per call: ‖X‖²_F per matrix (1 dispatch), X0 = X/(s·‖X‖_F + 1e-7) (1 dispatch). Per step, with
 * A the Gram matrix of the short side (no physical transpose: a tall X uses Xᵀ·X and X·P):
 *
 *   A = X·Xᵀ                            symmetric Gram kernel (or matmul)
 *   P = b·A + c·A·A                     copy A → P, symmetric Gram of A (α = c, β = b) (skipped when c = 0)
 *   X' = a·X + P·X                      copy X → X', matmul(α = 1, β = a)
 *
 * — three dispatches per step for the whole batch (two for the cubic), plus two buffer copies
 * (copyBufferToBuffer, not dispatches: the matmul's β·C needs C to hold the addend, and a matmul
 * may not read and write one buffer through two bindings). The GPU `exact` is its own schedule
 * (src/kernels/newtonSchulz/exactPolar.ts: power-of-two normalization, a scaled first step, cushioned
 * lifting and purification steps, a step-change reduction per step and a per-run stop rule).
 *
 * X·Xᵀ and A·A = A·Aᵀ are symmetric: they go through a symmetric Gram kernel (src/kernels/matmul/
 * symmetricGram.ts: the quad, workgroup-tiled-vec4 or subgroup-tiled form, the device's measured
 * choice per shape class; without one the quad form where the device has subgroups), which computes
 * only the tiles on or above the diagonal, so a square step costs ≈ 4d³ instead of 6d³ FLOPs at
 * about the same rate — or through the plain matmul where that measured faster (`symmetric: false`
 * forces it). Batching: every pass covers the R
 * matrices with dispatch z = matrix; measured in CPU time, a batched pass does the same work as R
 * separate ones (bench/README.md).
 */
import type { CommandRecorder } from '../../gpu/commands';
import type { Gpu } from '../../gpu/device';
import { defineKernel } from '../../gpu/registry';
import { createTensor, readTensor, type Tensor } from '../../gpu/tensor';
import { nsSchedule, type NsSchedule, type NsScheduleSpec } from '../../cpu/newtonSchulz';
import { EXACT_MAX_STEPS, exactConvergenceTolerance, exactStopStep, exactTriple } from '../../cpu/exactPolar';
import { matmul, type MatmulVariantName } from '../matmul/matmul';
import { sumSquares } from '../reduce/reduce';
import {
  GRAM_VARIANTS,
  gramShapeOf,
  gramVariantSupports,
  resolveGramVariant,
  symmetricGram,
  type GramChoice,
  type GramVariantName,
  type SymmetricGramArgs,
} from '../matmul/symmetricGram';
import { exactPolar } from './exactPolar';

export const NS_NORMALIZE_KERNEL = defineKernel({ shader: 'newtonSchulz/newton_schulz.wgsl', entryPoint: 'ns_normalize' });

export { symmetricGram };

export type OrthSchedule = NsScheduleSpec | 'exact';

/** Scratch space for one shape and batch; reusable across steps (create once per training run). */
export interface NsWorkspace {
  batch: number;
  rows: number;
  cols: number;
  x: [Tensor, Tensor];
  gram: Tensor;
  poly: Tensor;
  /** R floats: ‖X_r‖²_F. */
  norms: GPUBuffer;
  /** R floats: ‖A_r²‖²_F, the scale of the GPU `exact`'s first step. */
  gramSquares: GPUBuffer;
  /** R × EXACT_MAX_STEPS floats: squared step changes of the GPU `exact`. */
  deltas: GPUBuffer;
  destroy(): void;
}

export function createNsWorkspace(gpu: Gpu, shape: { batch: number; rows: number; cols: number }, label = 'newton-schulz'): NsWorkspace {
  const { batch, rows, cols } = shape;
  const s = Math.min(rows, cols);
  const x: [Tensor, Tensor] = [
    createTensor(gpu, { batch, rows, cols, label: `${label} X0` }),
    createTensor(gpu, { batch, rows, cols, label: `${label} X1` }),
  ];
  const gram = createTensor(gpu, { batch, rows: s, cols: s, label: `${label} A = XXᵀ` });
  const poly = createTensor(gpu, { batch, rows: s, cols: s, label: `${label} P = bA + cA²` });
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const norms = gpu.device.createBuffer({ label: `${label} norms`, size: Math.max(16, batch * 4), usage });
  const gramSquares = gpu.device.createBuffer({ label: `${label} ‖A²‖²`, size: Math.max(16, batch * 4), usage });
  const deltas = gpu.device.createBuffer({ label: `${label} step changes`, size: Math.max(16, batch * EXACT_MAX_STEPS * 4), usage });
  return {
    batch,
    rows,
    cols,
    x,
    gram,
    poly,
    norms,
    gramSquares,
    deltas,
    destroy() {
      for (const t of [...x, gram, poly]) t.buffer.destroy();
      norms.destroy();
      gramSquares.destroy();
      deltas.destroy();
    },
  };
}

/** Copies a tensor's matrices (one copy when both are contiguous runs of matrices). */
export function copyTensor(rec: CommandRecorder, src: Tensor, dst: Tensor): void {
  const per = src.rows * src.cols;
  if (src.rows !== dst.rows || src.cols !== dst.cols || src.batch !== dst.batch) {
    throw new RangeError(
      `copyTensor: ${src.label} is ${src.batch}×${src.rows}×${src.cols}, ${dst.label} is ${dst.batch}×${dst.rows}×${dst.cols}`,
    );
  }
  const contiguous = (t: Tensor) => t.batch === 1 || t.batchStride === per;
  if (contiguous(src) && contiguous(dst)) {
    rec.encoder.copyBufferToBuffer(src.buffer, src.offset * 4, dst.buffer, dst.offset * 4, src.batch * per * 4);
    return;
  }
  for (let b = 0; b < src.batch; b++) {
    rec.encoder.copyBufferToBuffer(
      src.buffer,
      (src.offset + b * src.batchStride) * 4,
      dst.buffer,
      (dst.offset + b * dst.batchStride) * 4,
      per * 4,
    );
  }
}

export interface NewtonSchulzArgs {
  input: Tensor;
  /** Same shape as input; may be the input itself. */
  output: Tensor;
  orth: OrthSchedule;
  workspace?: NsWorkspace;
  /** Force a matmul variant for the plain products (benchmarks); default: the device's choice per shape. */
  variant?: MatmulVariantName;
  /**
   * Compute X·Xᵀ and A·A (= A·Aᵀ) with a symmetric Gram kernel, about half their FLOPs. Default: the
   * device's choice per shape (resolveGramVariant: measured, else the quad form where the device
   * has subgroups, else the plain matmul); true: a symmetric kernel even where the choice is the
   * plain matmul (the first that takes the shape); false: the plain matmul for all three products.
   */
  symmetric?: boolean;
  /** Force the symmetric kernel (benchmarks, checks); implies `symmetric`. */
  gramVariant?: GramVariantName;
}

export interface NewtonSchulzCall {
  schedule: NsSchedule;
  steps: number;
  /** Compute passes recorded per step (matmuls; + reduction and selection for `exact`). */
  dispatchesPerStep: number;
  /** Passes recorded in all (normalization included). */
  dispatches: number;
  exact: boolean;
  /** Whether a symmetric Gram kernel computed X·Xᵀ (and A·A). */
  symmetric: boolean;
  /** What computed X·Xᵀ: a symmetric kernel, or 'matmul' (the plain product). */
  gramVariant: GramChoice;
  workspace: NsWorkspace;
}

/**
 * Records orth(input) → output for every matrix of the batch.
 *
 * @example
 * await runCommands(gpu, (rec) => newtonSchulz(rec, { input: g, output: d, orth: 'polar-express' }));
 */
export async function newtonSchulz(rec: CommandRecorder, args: NewtonSchulzArgs): Promise<NewtonSchulzCall> {
  const { input, output } = args;
  if (input.dtype !== 'f32' || output.dtype !== 'f32') throw new TypeError('newtonSchulz: input and output must be f32');
  if (input.rows !== output.rows || input.cols !== output.cols || input.batch !== output.batch) {
    throw new RangeError(
      `newtonSchulz: output ${output.batch}×${output.rows}×${output.cols} differs from input ${input.batch}×${input.rows}×${input.cols}`,
    );
  }
  if (input.batch > 1 && input.batchStride === 0)
    throw new RangeError('newtonSchulz: input with batch stride 0 (shared) is not a batch of matrices');
  const exact = args.orth === 'exact';
  const schedule: NsSchedule = exact
    ? { name: 'exact', coefficients: Array.from({ length: EXACT_MAX_STEPS }, (_, k) => exactTriple(k)), normScale: 1, eps: 0 }
    : nsSchedule(args.orth as NsScheduleSpec);
  const { batch, rows, cols } = input;
  let ws = args.workspace;
  if (ws && (ws.batch !== batch || ws.rows !== rows || ws.cols !== cols)) {
    throw new RangeError(`newtonSchulz: workspace is for ${ws.batch}×${ws.rows}×${ws.cols}, input is ${batch}×${rows}×${cols}`);
  }
  if (!ws) {
    const created = createNsWorkspace(rec.gpu, { batch, rows, cols });
    for (const t of [...created.x, created.gram, created.poly]) rec.own(t.buffer);
    rec.own(created.norms);
    rec.own(created.gramSquares);
    rec.own(created.deltas);
    ws = created;
  }
  const before = rec.dispatched.length;
  const tall = rows > cols;
  const variant = args.variant ? { variant: args.variant } : {};
  const elementGroups = Math.ceil((rows * cols) / 64);
  const gramOf = (g: Pick<SymmetricGramArgs, 'x' | 'c' | 'trans'>): GramChoice => gramChoice(rec.gpu, g, args);
  const gramXX = gramOf({ x: ws.x[0], c: ws.gram, trans: tall });
  const gramAA = gramOf({ x: ws.gram, c: ws.poly, trans: false });
  const symmetric = gramXX !== 'matmul';

  if (exact) {
    await exactPolar(rec, { input, output, workspace: ws, gram: { xx: gramXX, aa: gramAA }, variant: args.variant });
    const dispatches = rec.dispatched.length - before;
    return { schedule, steps: EXACT_MAX_STEPS, dispatchesPerStep: 4, dispatches, exact, symmetric, gramVariant: gramXX, workspace: ws };
  }
  await sumSquares(rec, { x: input, out: ws.norms });
  await rec.dispatch({
    kernel: NS_NORMALIZE_KERNEL,
    buffers: { normInput: input.buffer, sumSquares: ws.norms, normOutput: ws.x[0].buffer },
    uniforms: {
      norm: {
        count: rows * cols,
        batch,
        offsetIn: input.offset,
        batchStrideIn: input.batchStride,
        offsetOut: ws.x[0].offset,
        batchStrideOut: ws.x[0].batchStride,
        normScale: schedule.normScale,
        eps: schedule.eps,
      },
    },
    workgroups: [elementGroups, batch, 1],
  });

  let cur = ws.x[0];
  const steps = schedule.coefficients.length;
  for (let k = 0; k < steps; k++) {
    const [a, b, c] = schedule.coefficients[k];
    if (gramXX !== 'matmul') {
      await symmetricGram(rec, { x: cur, c: ws.gram, trans: tall, variant: gramXX, label: 'ns: A = X·Xᵀ (symmetric)' });
    } else {
      await matmul(rec, { a: cur, b: cur, c: ws.gram, transA: tall, transB: !tall }, { ...variant, label: 'ns: A = X·Xᵀ' });
    }
    let poly = ws.gram;
    let alpha = b;
    if (c !== 0) {
      copyTensor(rec, ws.gram, ws.poly);
      if (gramAA !== 'matmul') {
        await symmetricGram(rec, {
          x: ws.gram,
          c: ws.poly,
          trans: false,
          alpha: c,
          beta: b,
          variant: gramAA,
          label: 'ns: P = bA + cA² (symmetric)',
        });
      } else {
        await matmul(rec, { a: ws.gram, b: ws.gram, c: ws.poly, alpha: c, beta: b }, { ...variant, label: 'ns: P = bA + cA²' });
      }
      poly = ws.poly;
      alpha = 1;
    }
    const last = k === steps - 1;
    const dst = last ? output : cur === ws.x[0] ? ws.x[1] : ws.x[0];
    if (a !== 0) copyTensor(rec, cur, dst);
    const product = tall ? { a: cur, b: poly } : { a: poly, b: cur };
    await matmul(rec, { ...product, c: dst, alpha, beta: a }, { ...variant, label: 'ns: X = aX + P·X' });
    cur = dst;
  }
  const dispatches = rec.dispatched.length - before;
  return {
    schedule,
    steps,
    dispatchesPerStep: hasQuinticTerm(schedule) ? 3 : 2,
    dispatches,
    exact,
    symmetric,
    gramVariant: gramXX,
    workspace: ws,
  };
}

/** The kernel of one symmetric product of a call: forced, measured or default (see NewtonSchulzArgs). */
function gramChoice(
  gpu: Gpu,
  product: Pick<SymmetricGramArgs, 'x' | 'c' | 'trans'>,
  args: Pick<NewtonSchulzArgs, 'symmetric' | 'gramVariant'>,
): GramChoice {
  if (args.symmetric === false) return 'matmul';
  const shape = gramShapeOf(product);
  if (args.gramVariant) {
    if (!gramVariantSupports(gpu, args.gramVariant, shape)) {
      throw new RangeError(
        `newtonSchulz: gramVariant ${args.gramVariant} cannot take this device or shape (m = ${shape.m}, k = ${shape.k}, offsets and strides ${shape.offsets.join(', ')})`,
      );
    }
    return args.gramVariant;
  }
  const choice = resolveGramVariant(gpu, shape);
  if (choice !== 'matmul' || !args.symmetric) return choice;
  const any = GRAM_VARIANTS.find((v) => gramVariantSupports(gpu, v, shape));
  if (!any)
    throw new RangeError(
      `newtonSchulz: symmetric: true, but no symmetric Gram kernel takes this device and shape (m = ${shape.m}, k = ${shape.k})`,
    );
  return any.name;
}

/** Whether some step needs A·A (c ≠ 0): three products per step instead of two. */
function hasQuinticTerm(s: NsSchedule): boolean {
  return s.coefficients.some(([, , c]) => c !== 0);
}

export interface ExactReport {
  /** Steps of the returned iterate per run (the stop rule's choice, ≤ EXACT_MAX_STEPS). */
  steps: number[];
  /** Residual per run: the step change ‖X_k − X_{k−1}‖_F at the returned step k. */
  stepChange: number[];
  /** Whether the run's step change reached 2u·√(rows·cols) (else the last iterate was returned). */
  converged: boolean[];
  /** All step changes per run. */
  deltas: number[][];
}

/** Reads the GPU `exact` stop decisions back (after the recorder is submitted). */
export async function readExactReport(gpu: Gpu, ws: NsWorkspace): Promise<ExactReport> {
  const t = await readTensor(gpu, {
    buffer: ws.deltas,
    label: 'exact step changes',
    batch: 1,
    rows: ws.batch,
    cols: EXACT_MAX_STEPS,
    batchStride: 0,
    offset: 0,
    dtype: 'f32',
  });
  return exactReportFromDeltas(t, ws.batch, ws);
}

/**
 * The `exact` stop decisions from a host copy of the workspace's `deltas` buffer (R × EXACT_MAX_STEPS
 * squared step changes): what readExactReport reads, for callers that copy the buffer themselves
 * (the training scheduler copies it with a metric step's readback instead of stalling). The shape
 * sets the stop rule's tolerance 2u·√(rows·cols) (src/cpu/exactPolar.ts).
 *
 * @example
 * const report = exactReportFromDeltas(new Float32Array(copy), runs, { rows: 64, cols: 64 }); // report.steps[r] ≤ EXACT_MAX_STEPS
 */
export function exactReportFromDeltas(squared: Float32Array, runs: number, shape: { rows: number; cols: number }): ExactReport {
  const deltas = Array.from({ length: runs }, (_, r) =>
    Array.from(squared.subarray(r * EXACT_MAX_STEPS, (r + 1) * EXACT_MAX_STEPS), Math.sqrt),
  );
  const tolerance = exactConvergenceTolerance(shape.rows, shape.cols);
  const stops = deltas.map((d) => exactStopStep(d, tolerance));
  return { steps: stops.map((s) => s.steps), stepChange: stops.map((s) => s.residual), converged: stops.map((s) => s.converged), deltas };
}

/** FLOPs of one NS call as the benchmark counts them: steps·(4·m²n + 2·m³) per m×n matrix, m ≤ n. */
export function newtonSchulzFlops(shape: { batch: number; rows: number; cols: number }, steps: number): number {
  const m = Math.min(shape.rows, shape.cols);
  const n = Math.max(shape.rows, shape.cols);
  return shape.batch * steps * (4 * m * m * n + 2 * m ** 3);
}
