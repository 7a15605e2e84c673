/**
 * Batched `C = α·op(A)·op(B) + β·C` on the GPU (shaders/matmul*.wgsl). CPU twin: src/cpu/matmul.ts
 * (same operands). Variants and the choice between them:
 *
 * - `register-blocked`       any shape; barrier-free 4×4 blocks, bounds-checked scalar loads.
 * - `register-blocked-vec4`  aligned shapes only (M, N, K, offsets, strides ≡ 0 mod 4); 4×4 blocks,
 *                            vec4 loads, no bounds checks in the loop.
 * - `register-blocked-16x16` any shape; barrier-free 16×16 blocks per invocation (4× fewer loads
 *                            per FLOP than 4×4), clamped loads, no bounds checks in the loop.
 * - `register-blocked-quad`  any shape, needs the `subgroups` feature; 8×32 blocks, the four
 *                            invocations of a quad share their B loads (quadBroadcast). The fastest
 *                            on SwiftShader (see bench/README.md).
 * - `workgroup-tiled`        any shape; 64×64 tiles through workgroup memory (the classic GPU design).
 * - `workgroup-tiled-vec4`   aligned shapes only; 128×128 tiles through workgroup memory in slices of
 *                            8, vec4 global loads prefetched a slice ahead, 8×8 outputs per invocation
 *                            (the design a real GPU wants; slow on SwiftShader: barriers).
 * - `subgroup-tiled`         any shape, needs `subgroups`; 8×256 tiles per 32-invocation workgroup, no
 *                            workgroup memory or barriers: the subgroup loads the tile's 8 A rows once
 *                            and shares them with subgroupShuffle, 8×8 outputs per invocation.
 *
 * The variant comes from the caller, else from the per-device choice table (set from measured
 * warm-ups, see src/kernels/variants.ts), else the static default (`defaultMatmulVariant`).
 */
import type { CommandRecorder } from '../../gpu/commands';
import type { Gpu } from '../../gpu/device';
import { defineKernel, type KernelDefinition } from '../../gpu/registry';
import { BYTES_PER_ELEMENT, requiredElements, type Tensor } from '../../gpu/tensor';
import { matmulShape, type MatmulOperands, type MatmulShape } from '../../layout/matmulShape';
import { chosenVariant } from '../variants';

export type MatmulVariantName =
  | 'register-blocked'
  | 'register-blocked-vec4'
  | 'register-blocked-16x16'
  | 'register-blocked-quad'
  | 'workgroup-tiled'
  | 'workgroup-tiled-vec4'
  | 'subgroup-tiled';

export interface MatmulVariant {
  name: MatmulVariantName;
  kernel: KernelDefinition;
  /** C elements covered by one workgroup: [columns, rows]. */
  workgroupTile: [number, number];
  supports(shape: MatmulShape, args: MatmulOperands<Tensor>): boolean;
  /** A device feature the kernel needs; without it the variant is not offered (see matmulVariantAvailable). */
  requires?: 'subgroups';
}

const any = () => true;

export const MATMUL_VARIANTS: readonly MatmulVariant[] = [
  {
    name: 'register-blocked',
    kernel: defineKernel({ shader: 'matmul/matmul.wgsl', entryPoint: 'matmul_register_blocked' }),
    workgroupTile: [32, 32],
    supports: any,
  },
  {
    name: 'register-blocked-vec4',
    kernel: defineKernel({ shader: 'matmul/matmul_vec4.wgsl', entryPoint: 'matmul_register_blocked_vec4' }),
    workgroupTile: [32, 32],
    supports: (shape, args) => isAligned(shape, args),
  },
  {
    name: 'register-blocked-16x16',
    kernel: defineKernel({ shader: 'matmul/matmul_blocked.wgsl', entryPoint: 'matmul_register_blocked_16x16' }),
    workgroupTile: [16, 64],
    supports: any,
  },
  {
    name: 'register-blocked-quad',
    kernel: defineKernel({ shader: 'matmul/matmul_blocked_quad.wgsl', entryPoint: 'matmul_register_blocked_quad' }),
    workgroupTile: [32, 32],
    supports: any,
    requires: 'subgroups',
  },
  {
    name: 'workgroup-tiled',
    kernel: defineKernel({ shader: 'matmul/matmul.wgsl', entryPoint: 'matmul_workgroup_tiled' }),
    workgroupTile: [64, 64],
    supports: any,
  },
  {
    name: 'workgroup-tiled-vec4',
    kernel: defineKernel({ shader: 'matmul/matmul_tiled_vec4.wgsl', entryPoint: 'matmul_workgroup_tiled_vec4' }),
    workgroupTile: [128, 128],
    supports: (shape, args) => isAligned(shape, args),
  },
  {
    name: 'subgroup-tiled',
    kernel: defineKernel({ shader: 'matmul/matmul_subgroup.wgsl', entryPoint: 'matmul_subgroup_tiled' }),
    workgroupTile: [256, 8],
    supports: any,
    requires: 'subgroups',
  },
];

/** The variants that take only aligned operands (vec4 addressing: see isAligned). */
export const ALIGNED_ONLY_VARIANTS: readonly MatmulVariantName[] = ['register-blocked-vec4', 'workgroup-tiled-vec4'];

export function matmulVariant(name: string): MatmulVariant {
  const v = MATMUL_VARIANTS.find((x) => x.name === name);
  if (!v) throw new RangeError(`matmul: unknown variant "${name}"; variants: ${MATMUL_VARIANTS.map((x) => x.name).join(', ')}`);
  return v;
}

/**
 * Whether this device can run a variant: those that need a feature (subgroups) are offered only where
 * the device has it.
 *
 * @example
 * const offered = MATMUL_VARIANTS.filter((v) => matmulVariantAvailable(gpu, v));
 */
export function matmulVariantAvailable(gpu: Pick<Gpu, 'hasSubgroups'>, variant: MatmulVariant | MatmulVariantName): boolean {
  const v = typeof variant === 'string' ? matmulVariant(variant) : variant;
  return v.requires !== 'subgroups' || gpu.hasSubgroups;
}

/** vec4 addressing needs every dimension, offset and batch stride to be a multiple of 4. */
export function isAligned(shape: MatmulShape, args: { a: { offset: number }; b: { offset: number }; c: { offset: number } }): boolean {
  const values = [
    shape.M,
    shape.N,
    shape.K,
    shape.batchStrideA,
    shape.batchStrideB,
    shape.batchStrideC,
    args.a.offset,
    args.b.offset,
    args.c.offset,
  ];
  return values.every((v) => v % 4 === 0);
}

/** Reductions at most this long make a large product `shallow` (see matmulShapeClass). */
export const SHALLOW_K = 128;

/**
 * Shape class for the variant choice: alignment × size. `small` is below 2^21 multiply-adds (≈ 128³);
 * a larger product is `shallow` when K ≤ SHALLOW_K — the fused softmax gradient's logit product
 * (K = d_out, M = the output chunk of ≤ 128 rows, N = a block of queries) and its update product
 * (K = the chunk) at d ≤ 128, where tile shapes and the share of the stores differ from a square
 * product — else `large`.
 *
 * @example
 * matmulShapeClass({ M: 128, N: 4096, K: 64, batch: 1, batchStrideA: 0, batchStrideB: 0, batchStrideC: 0 }, true); // 'aligned-shallow'
 */
export function matmulShapeClass(shape: Pick<MatmulShape, 'M' | 'N' | 'K'>, aligned: boolean): string {
  const size = shape.M * shape.N * shape.K < 2 ** 21 ? 'small' : shape.K <= SHALLOW_K ? 'shallow' : 'large';
  return `${aligned ? 'aligned' : 'unaligned'}-${size}`;
}

export const MATMUL_SHAPE_CLASSES = [
  'aligned-small',
  'aligned-large',
  'aligned-shallow',
  'unaligned-small',
  'unaligned-large',
  'unaligned-shallow',
] as const;

/**
 * The static default, used when neither the caller nor the device's choice table names a variant —
 * the one rule `matmul()` and the benchmark's `chosen` column share. The fastest variant measured on
 * a CPU adapter (SwiftShader), for every shape and alignment: `register-blocked-quad` where the device
 * has subgroups, else `register-blocked-16x16`. Real GPUs rank the variants the other way round
 * (workgroup-tiled first); there the measured choice table, not this default, should decide.
 *
 * @example
 * defaultMatmulVariant(gpu); // 'register-blocked-quad' on SwiftShader in Chrome
 */
export function defaultMatmulVariant(gpu: Pick<Gpu, 'hasSubgroups'>): MatmulVariantName {
  return gpu.hasSubgroups ? 'register-blocked-quad' : 'register-blocked-16x16';
}

/**
 * The variant `matmul()` uses for these operands when the caller names none: the device's measured
 * choice for the shape class, else `defaultMatmulVariant`.
 *
 * @example
 * resolveMatmulVariant(gpu, { a: x, b: x, c: gram, transB: true }); // 'register-blocked-quad' on SwiftShader
 */
export function resolveMatmulVariant(gpu: Gpu, args: MatmulOperands<Tensor>, shape: MatmulShape = matmulShape(args)): MatmulVariantName {
  return (
    (chosenVariant(gpu, 'matmul', matmulShapeClass(shape, isAligned(shape, args))) as MatmulVariantName | undefined) ??
    defaultMatmulVariant(gpu)
  );
}

export interface MatmulOptions {
  /** Force a variant (tests, benchmarks); otherwise the device's choice for this shape class. */
  variant?: MatmulVariantName;
  label?: string;
}

/**
 * Records `C = α·op(A)·op(B) + β·C` for a batch of products into `rec`. Returns the variant used.
 *
 * @example
 * // 16 runs, each W_r (d×d) times a shared embedding block E (d×n):
 * await matmul(rec, { a: w, b: e, c: h });          // e has batch 1: shared
 * await matmul(rec, { a: rsd, b: e, c: g, transB: true, alpha: 1 / n });
 */
export async function matmul(rec: CommandRecorder, args: MatmulOperands<Tensor>, options: MatmulOptions = {}): Promise<MatmulVariantName> {
  const shape = matmulShape(args);
  for (const [name, t] of [
    ['A', args.a],
    ['B', args.b],
    ['C', args.c],
  ] as const) {
    const need = requiredElements(t) * BYTES_PER_ELEMENT;
    if (need > t.buffer.size) {
      throw new RangeError(`matmul operand ${name}: layout needs ${need} bytes but buffer "${t.label}" has ${t.buffer.size}`);
    }
  }
  const name: MatmulVariantName = options.variant ?? resolveMatmulVariant(rec.gpu, args, shape);
  const variant = matmulVariant(name);
  if (!matmulVariantAvailable(rec.gpu, variant)) {
    throw new RangeError(`matmul variant ${name} needs the WebGPU "${variant.requires}" feature, which this device does not have`);
  }
  if (!variant.supports(shape, args)) {
    const values: Record<string, number> = {
      M: shape.M,
      N: shape.N,
      K: shape.K,
      'A offset': args.a.offset,
      'B offset': args.b.offset,
      'C offset': args.c.offset,
      'A batch stride': shape.batchStrideA,
      'B batch stride': shape.batchStrideB,
      'C batch stride': shape.batchStrideC,
    };
    const bad = Object.entries(values)
      .filter(([, v]) => v % 4 !== 0)
      .map(([k, v]) => `${k} = ${v}`);
    throw new RangeError(
      `matmul variant ${name} needs M, N, K, offsets and batch strides that are multiples of 4; ` +
        `not aligned: ${bad.join(', ')} (${MATMUL_VARIANTS.filter((v) => !ALIGNED_ONLY_VARIANTS.includes(v.name))
          .map((v) => v.name)
          .join(', ')} take any shape)`,
    );
  }
  const [tileCols, tileRows] = variant.workgroupTile;
  await rec.dispatch({
    kernel: variant.kernel,
    label: options.label ?? `matmul:${name}`,
    constants: { TRANS_A: Boolean(args.transA), TRANS_B: Boolean(args.transB) },
    buffers: { a: args.a.buffer, b: args.b.buffer, c: args.c.buffer },
    uniforms: {
      params: {
        M: shape.M,
        N: shape.N,
        K: shape.K,
        batch: shape.batch,
        offsetA: args.a.offset,
        offsetB: args.b.offset,
        offsetC: args.c.offset,
        batchStrideA: shape.batchStrideA,
        batchStrideB: shape.batchStrideB,
        batchStrideC: shape.batchStrideC,
        alpha: args.alpha ?? 1,
        beta: args.beta ?? 0,
      },
    },
    workgroups: [Math.ceil(shape.N / tileCols), Math.ceil(shape.M / tileRows), shape.batch],
  });
  return name;
}

/** Multiply-adds ×2 of a call: the FLOP count benchmarks divide by. */
export function matmulFlops(shape: Pick<MatmulShape, 'M' | 'N' | 'K' | 'batch'>): number {
  return 2 * shape.M * shape.N * shape.K * shape.batch;
}
