/**
 * Choosing kernel variants for this adapter: only variants that pass the quick validation here are
 * candidates, and for each shape class the fastest on a representative shape wins (median of a
 * short warm-up). SwiftShader and real GPUs rank the matmul variants in opposite orders, which is
 * why this is measured rather than assumed. The Node side caches the result per adapter + browser
 * version + flags (harness/variantCache.ts), so a warm-up happens once per configuration.
 */
import type { Gpu } from '../../gpu/device';
import { createTensor, type Tensor } from '../../gpu/tensor';
import { measureKernel } from '../../gpu/timing';
import { randomF32 } from '../../cpu/random';
import { isAligned, matmul, MATMUL_VARIANTS, matmulShapeClass, matmulVariantAvailable, type MatmulVariantName } from './matmul';
import { checkMatmul } from './check';
import { matmulShape } from '../../layout/matmulShape';
import { setVariantChoices, type VariantTable } from '../variants';

/** One representative (M, N, K) per shape class; class boundaries are in matmulShapeClass. */
const REPRESENTATIVES: Record<string, [number, number, number]> = {
  'aligned-small': [64, 64, 64],
  'aligned-large': [256, 256, 256],
  'unaligned-small': [61, 67, 63],
  'unaligned-large': [257, 255, 253],
};

export interface SelectionResult {
  table: VariantTable;
  validated: Record<string, Record<string, boolean>>;
  warmupMs: Record<string, Record<string, Record<string, number>>>;
}

/**
 * Validates and times every matmul variant, installs the winning table on the device and returns it.
 *
 * @example
 * const { table } = await selectVariants(gpu); // { matmul: { 'aligned-large': 'register-blocked-vec4', … } }
 */
export async function selectVariants(gpu: Gpu, onProgress: (message: string) => void = () => {}): Promise<SelectionResult> {
  const validated: Record<string, boolean> = {};
  for (const v of MATMUL_VARIANTS.filter((x) => matmulVariantAvailable(gpu, x))) {
    onProgress(`validating matmul ${v.name}`);
    const rows = await checkMatmul(gpu, { variants: [v.name], scope: 'quick' });
    validated[v.name] = rows.length > 0 && rows.every((r) => r.pass);
  }
  const choice: Record<string, string> = {};
  const warmup: Record<string, Record<string, number>> = {};
  for (const [shapeClass, [M, N, K]] of Object.entries(REPRESENTATIVES)) {
    const make = (rows: number, cols: number, label: string): Tensor => {
      const t = createTensor(gpu, { rows, cols, label });
      gpu.device.queue.writeBuffer(t.buffer, 0, randomF32(rows * cols, rows * 31 + cols));
      return t;
    };
    const a = make(M, K, 'select A');
    const b = make(K, N, 'select B');
    const c = make(M, N, 'select C');
    const args = { a, b, c };
    const shape = matmulShape(args);
    if (matmulShapeClass(shape, isAligned(shape, args)) !== shapeClass) throw new Error(`representative of ${shapeClass} is misclassified`);
    warmup[shapeClass] = {};
    for (const v of MATMUL_VARIANTS) {
      if (!validated[v.name] || !v.supports(shape, args)) continue;
      onProgress(`timing matmul ${v.name} on ${shapeClass} (${M}x${N}x${K})`);
      const t = await measureKernel(gpu, (rec) => matmul(rec, args, { variant: v.name as MatmulVariantName }), { runs: 3 });
      warmup[shapeClass][v.name] = t.medianMs;
    }
    for (const t of [a, b, c]) t.buffer.destroy();
    const ranked = Object.entries(warmup[shapeClass]).sort((x, y) => x[1] - y[1]);
    if (ranked.length === 0) throw new Error(`no matmul variant passed validation for ${shapeClass} on this adapter`);
    choice[shapeClass] = ranked[0][0];
  }
  const table: VariantTable = { matmul: choice };
  setVariantChoices(gpu, table);
  return { table, validated: { matmul: validated }, warmupMs: { matmul: warmup } };
}
