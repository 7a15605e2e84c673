/**
 * Symmetric products on the GPU: C = α·X·Xᵀ + β·C (or α·Xᵀ·X + β·C), batched, computing only the
 * tiles on or above the diagonal and mirroring them. Newton–Schulz uses it for A = X·Xᵀ and for
 * A·A = A·Aᵀ (A symmetric): two of a step's three products at about half their FLOPs. CPU twin: the
 * plain product (src/cpu/matmul.ts), since the result is the same matrix. Variants, each the
 * triangular form of a matmul variant of the same name (src/kernels/matmul/matmul.ts):
 *
 * - `register-blocked-quad`  any shape, needs `subgroups`; 32×32 tiles, T·(T+1)/2 workgroups per
 *                            matrix (shaders/matmul/matmul_blocked_quad.wgsl, `gram_symmetric_quad`).
 * - `workgroup-tiled-vec4`   aligned shapes only; 128×128 workgroup-memory tiles, T·(T+1)/2 workgroups
 *                            (shaders/matmul/matmul_tiled_vec4.wgsl, `gram_symmetric_tiled_vec4`).
 * - `subgroup-tiled`         any shape, needs `subgroups`; 8×256 tiles, launched as the full grid whose
 *                            tiles below the diagonal return at once (shaders/matmul/matmul_subgroup.wgsl,
 *                            `gram_symmetric_subgroup`).
 *
 * Which one runs (or whether the plain matmul does: `'matmul'`) is the device's measured choice per
 * shape class (src/kernels/matmul/selectVariants.ts, table key `gram`), else `defaultGramVariant`.
 */
import type { CommandRecorder } from '../../gpu/commands';
import type { Gpu } from '../../gpu/device';
import { defineKernel, type KernelDefinition } from '../../gpu/registry';
import { BYTES_PER_ELEMENT, requiredElements, validateLayout, type Tensor } from '../../gpu/tensor';
import { chosenVariant } from '../variants';
import { matmulShapeClass } from './matmul';

export type GramVariantName = 'register-blocked-quad' | 'workgroup-tiled-vec4' | 'subgroup-tiled';
/** A gram choice: one of the symmetric kernels, or the plain matmul (full product). */
export type GramChoice = GramVariantName | 'matmul';

export interface GramVariant {
  name: GramVariantName;
  kernel: KernelDefinition;
  requires?: 'subgroups';
  /** Only aligned operands (m, k, offsets and batch strides ≡ 0 mod 4: vec4 addressing). */
  alignedOnly: boolean;
  /** The workgroup grid for R matrices of m×m. */
  workgroups(m: number, batch: number): [number, number, number];
  /** Multiply-adds ×2 the kernel performs per matrix (whole tiles it computes, not only the triangle). */
  flopsPerMatrix(m: number, k: number): number;
}

const triangle = (t: number) => (t * (t + 1)) / 2;

export const GRAM_VARIANTS: readonly GramVariant[] = [
  {
    name: 'register-blocked-quad',
    kernel: defineKernel({ shader: 'matmul/matmul_blocked_quad.wgsl', entryPoint: 'gram_symmetric_quad' }),
    requires: 'subgroups',
    alignedOnly: false,
    workgroups: (m, batch) => [triangle(Math.ceil(m / 32)), 1, batch],
    flopsPerMatrix: (m, k) => 2 * triangle(Math.ceil(m / 32)) * 32 * 32 * k,
  },
  {
    name: 'workgroup-tiled-vec4',
    kernel: defineKernel({ shader: 'matmul/matmul_tiled_vec4.wgsl', entryPoint: 'gram_symmetric_tiled_vec4' }),
    alignedOnly: true,
    workgroups: (m, batch) => [triangle(Math.ceil(m / 128)), 1, batch],
    flopsPerMatrix: (m, k) => 2 * triangle(Math.ceil(m / 128)) * 128 * 128 * k,
  },
  {
    name: 'subgroup-tiled',
    kernel: defineKernel({ shader: 'matmul/matmul_subgroup.wgsl', entryPoint: 'gram_symmetric_subgroup' }),
    requires: 'subgroups',
    alignedOnly: false,
    workgroups: (m, batch) => [Math.ceil(m / 256), Math.ceil(m / 8), batch],
    // Row block r (8 rows) computes the 256-column tiles from floor(r/32) on.
    flopsPerMatrix: (m, k) => {
      const cols = Math.ceil(m / 256);
      let tiles = 0;
      for (let r = 0; r < Math.ceil(m / 8); r++) tiles += cols - Math.min(cols, Math.floor(r / 32));
      return 2 * tiles * 8 * 256 * k;
    },
  },
];

/** The register-blocked quad form: the kernel the variant-free callers and older profiles name. */
export const GRAM_SYMMETRIC_KERNEL = GRAM_VARIANTS[0].kernel;

/**
 * A gram variant by name; a RangeError names the variants otherwise.
 *
 * @example
 * gramVariant('workgroup-tiled-vec4').workgroups(1024, 16); // [36, 1, 16]
 */
export function gramVariant(name: string): GramVariant {
  const v = GRAM_VARIANTS.find((x) => x.name === name);
  if (!v) throw new RangeError(`symmetricGram: unknown variant "${name}"; variants: ${GRAM_VARIANTS.map((x) => x.name).join(', ')}`);
  return v;
}

/**
 * Whether this device has the default symmetric kernel (the quad form needs `subgroups`); without a
 * measured choice that is what decides whether Newton–Schulz uses a symmetric product.
 *
 * @example
 * if (symmetricGramAvailable(gpu)) await symmetricGram(rec, { x, c: gram, trans: false });
 */
export function symmetricGramAvailable(gpu: Pick<Gpu, 'hasSubgroups'>): boolean {
  return gpu.hasSubgroups;
}

/** The shape facts a gram variant depends on: m×m result, reduction k, offsets and batch strides. */
export interface GramShape {
  m: number;
  k: number;
  /** Offsets and batch strides of X and C, in elements. */
  offsets: number[];
}

/**
 * Whether a variant can run on this device and shape.
 *
 * @example
 * GRAM_VARIANTS.filter((v) => gramVariantSupports(gpu, v, gramShapeOf(args)));
 */
export function gramVariantSupports(gpu: Pick<Gpu, 'hasSubgroups'>, variant: GramVariant | GramVariantName, shape: GramShape): boolean {
  const v = typeof variant === 'string' ? gramVariant(variant) : variant;
  if (v.requires === 'subgroups' && !gpu.hasSubgroups) return false;
  return !v.alignedOnly || [shape.m, shape.k, ...shape.offsets].every((x) => x % 4 === 0);
}

/**
 * The shape class of a gram product: that of the m×m×k matmul it replaces.
 *
 * @example
 * gramShapeClass({ m: 256, k: 64, offsets: [0, 0, 0, 0] }); // 'aligned-shallow'
 */
export function gramShapeClass(shape: GramShape): string {
  return matmulShapeClass(
    { M: shape.m, N: shape.m, K: shape.k },
    [shape.m, shape.k, ...shape.offsets].every((x) => x % 4 === 0),
  );
}

/**
 * The static default, without a measured table: the quad form where the device has subgroups (the
 * fastest on SwiftShader), else the plain matmul — the tiled forms are for real GPUs, which measure.
 *
 * @example
 * defaultGramVariant(gpu); // 'register-blocked-quad' on SwiftShader in Chrome
 */
export function defaultGramVariant(gpu: Pick<Gpu, 'hasSubgroups'>): GramChoice {
  return gpu.hasSubgroups ? 'register-blocked-quad' : 'matmul';
}

/**
 * The choice for a gram shape: the device's measured one for its class, else the default — and the
 * plain matmul whenever the chosen kernel cannot take the shape.
 *
 * @example
 * resolveGramVariant(gpu, { m: 256, k: 256, offsets: [0, 0, 0, 0] }); // 'register-blocked-quad' on SwiftShader
 */
export function resolveGramVariant(gpu: Gpu, shape: GramShape): GramChoice {
  const choice = (chosenVariant(gpu, 'gram', gramShapeClass(shape)) as GramChoice | undefined) ?? defaultGramVariant(gpu);
  return choice !== 'matmul' && gramVariantSupports(gpu, choice, shape) ? choice : 'matmul';
}

export interface SymmetricGramArgs {
  /** R matrices (or one, shared). */
  x: Tensor;
  /** R outputs of m×m, m = x.rows (or x.cols with `trans`); must be symmetric when β ≠ 0. */
  c: Tensor;
  /** false: C = α·X·Xᵀ + β·C; true: C = α·Xᵀ·X + β·C. */
  trans: boolean;
  /** Default 1. */
  alpha?: number;
  /** Default 0 (C not read). */
  beta?: number;
  label?: string;
  /** The kernel; default `register-blocked-quad`. */
  variant?: GramVariantName;
}

/**
 * m, k and the offsets/strides of a call (after its layout checks).
 *
 * @example
 * gramShapeOf({ x, c: gram, trans: false }); // { m: x.rows, k: x.cols, offsets: [x.offset, gram.offset, 0, 0] } for single matrices
 */
export function gramShapeOf(args: Pick<SymmetricGramArgs, 'x' | 'c' | 'trans'>): GramShape {
  const { x, c, trans } = args;
  const strideX = x.batch === 1 || x.batchStride === 0 ? 0 : x.batchStride;
  const strideC = c.batch === 1 ? 0 : c.batchStride;
  return { m: trans ? x.cols : x.rows, k: trans ? x.rows : x.cols, offsets: [x.offset, c.offset, strideX, strideC] };
}

/**
 * Records C = α·X·Xᵀ + β·C (Xᵀ·X with `trans`) for every matrix of the batch. Any shape, offset and
 * batch stride (the `workgroup-tiled-vec4` kernel: aligned ones); the output is exactly symmetric. For
 * S·S with S symmetric pass x = S (S·Sᵀ = S·S).
 *
 * @example
 * await symmetricGram(rec, { x: iterate, c: gram, trans: iterate.rows > iterate.cols });
 */
export async function symmetricGram(rec: CommandRecorder, args: SymmetricGramArgs): Promise<void> {
  const { x, c, trans } = args;
  validateLayout(x, 'symmetricGram operand X');
  validateLayout(c, 'symmetricGram operand C');
  const variant = gramVariant(args.variant ?? 'register-blocked-quad');
  if (variant.requires === 'subgroups' && !rec.gpu.hasSubgroups) {
    throw new RangeError(`symmetricGram variant ${variant.name} needs the WebGPU "subgroups" feature, which this device does not have`);
  }
  if (x.dtype !== 'f32' || c.dtype !== 'f32') throw new TypeError(`symmetricGram: X and C must be f32, got ${x.dtype} and ${c.dtype}`);
  const m = trans ? x.cols : x.rows;
  const k = trans ? x.rows : x.cols;
  if (c.rows !== m || c.cols !== m) throw new RangeError(`symmetricGram: C is ${c.rows}×${c.cols}, X${trans ? 'ᵀ·X' : '·Xᵀ'} is ${m}×${m}`);
  const batch = c.batch;
  if (batch > 1 && c.batchStride === 0)
    throw new RangeError('symmetricGram: C with batch stride 0 would make every product write the same matrix');
  const strideX = x.batch === 1 || x.batchStride === 0 ? 0 : x.batchStride;
  if (strideX !== 0 && x.batch !== batch)
    throw new RangeError(`symmetricGram: X has batch ${x.batch}; expected 1 (shared) or ${batch} (C's batch)`);
  for (const [name, t] of [
    ['X', x],
    ['C', c],
  ] as const) {
    const need = requiredElements(t) * BYTES_PER_ELEMENT;
    if (need > t.buffer.size)
      throw new RangeError(`symmetricGram operand ${name}: layout needs ${need} bytes but buffer "${t.label}" has ${t.buffer.size}`);
  }
  const shape = gramShapeOf(args);
  if (!gramVariantSupports(rec.gpu, variant, shape)) {
    const named = {
      m,
      k,
      'X offset': x.offset,
      'C offset': c.offset,
      'X batch stride': shape.offsets[2],
      'C batch stride': shape.offsets[3],
    };
    const bad = Object.entries(named)
      .filter(([, v]) => v % 4 !== 0)
      .map(([n, v]) => `${n} = ${v}`);
    throw new RangeError(
      `symmetricGram variant ${variant.name} needs m, k, offsets and batch strides that are multiples of 4; not aligned: ${bad.join(', ')}`,
    );
  }
  const alpha = args.alpha ?? 1;
  const beta = args.beta ?? 0;
  if (!Number.isFinite(alpha) || !Number.isFinite(beta))
    throw new RangeError(`symmetricGram: alpha and beta must be finite, got ${alpha} and ${beta}`);
  await rec.dispatch({
    kernel: variant.kernel,
    label: args.label ?? 'symmetric gram',
    // op(A) = X (Xᵀ with trans) and op(B) = op(A)ᵀ, both read from the same matrix.
    constants: { TRANS_A: trans, TRANS_B: !trans },
    buffers: { a: x.buffer, b: x.buffer, c: c.buffer },
    uniforms: {
      params: {
        M: m,
        N: m,
        K: k,
        batch,
        offsetA: x.offset,
        offsetB: x.offset,
        offsetC: c.offset,
        batchStrideA: strideX,
        batchStrideB: strideX,
        batchStrideC: shape.offsets[3],
        alpha,
        beta,
      },
    },
    workgroups: variant.workgroups(m, batch),
  });
}

/**
 * FLOPs a symmetric kernel performs (the whole tiles it computes) for `batch` m×m results of
 * reduction length k; default variant: the quad form.
 *
 * @example
 * symmetricGramFlops({ batch: 16, m: 512, k: 512 }); // 16 × 136 tiles of 32×32 × 512 × 2
 */
export function symmetricGramFlops(
  shape: { batch: number; m: number; k: number },
  variant: GramVariantName = 'register-blocked-quad',
): number {
  return gramVariant(variant).flopsPerMatrix(shape.m, shape.k) * shape.batch;
}
