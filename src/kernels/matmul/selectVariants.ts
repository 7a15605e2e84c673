/**
 * Choosing kernel variants for this adapter: only variants that pass the quick validation here are
 * candidates, and for each shape class the fastest on a representative shape wins (median of a
 * short warm-up). SwiftShader and real GPUs rank the matmul variants in opposite orders, which is
 * why this is measured rather than assumed. The Node side caches the result per adapter + browser
 * version + flags (harness/variantCache.ts), so a warm-up happens once per configuration.
 *
 * Two tables: `matmul` (every product that goes through matmul(), including the fused softmax
 * gradient's logit and update products — the `shallow` classes are shaped like them) and `gram`
 * (the symmetric products of Newton–Schulz: one of the symmetric kernels, or `matmul` where the plain
 * product with the `matmul` choice ran faster than every symmetric kernel).
 */
import type { Gpu } from '../../gpu/device';
import { createTensor, type Tensor } from '../../gpu/tensor';
import { measureInterleaved } from '../../gpu/timing';
import type { CommandRecorder } from '../../gpu/commands';
import { randomF32 } from '../../cpu/random';
import { isAligned, matmul, MATMUL_VARIANTS, matmulShapeClass, matmulVariantAvailable, type MatmulVariantName } from './matmul';
import { checkMatmul } from './check';
import { checkGram } from './gramCheck';
import { GRAM_VARIANTS, gramShapeClass, gramShapeOf, gramVariantSupports, symmetricGram } from './symmetricGram';
import { matmulShape, type MatmulOperands } from '../../layout/matmulShape';
import { setVariantChoices, type VariantTable } from '../variants';

interface Product {
  M: number;
  N: number;
  K: number;
  transA?: boolean;
  transB?: boolean;
  beta?: number;
}

/**
 * The representative products of each shape class (class boundaries: matmulShapeClass); a candidate's
 * time is the sum over them, each recorded in the same command buffer. The shallow classes hold the
 * fused softmax gradient's two chunk products as src/kernels/softmaxGrad/dense.ts calls them at the
 * bench's N = 4096, d = 64 (a query block of 4096): logits (an output chunk of 128 rows × 4096
 * queries, K = d, B transposed) and the update (4096 queries × d, K = the chunk of 128, A transposed,
 * β = 1) — one choice serves both, so both are timed.
 */
const REPRESENTATIVES: Record<string, readonly Product[]> = {
  'aligned-small': [{ M: 64, N: 64, K: 64 }],
  'aligned-large': [{ M: 256, N: 256, K: 256 }],
  'aligned-shallow': [
    { M: 128, N: 4096, K: 64, transB: true },
    { M: 4096, N: 64, K: 128, transA: true, beta: 1 },
  ],
  'unaligned-small': [{ M: 61, N: 67, K: 63 }],
  'unaligned-large': [{ M: 257, N: 255, K: 253 }],
  'unaligned-shallow': [
    { M: 125, N: 4093, K: 61, transB: true },
    { M: 4093, N: 61, K: 125, transA: true, beta: 1 },
  ],
};

/** One representative Gram product X·Xᵀ (X m×k) per class; the class is that of the m×m×k matmul. */
const GRAM_REPRESENTATIVES: Record<string, { m: number; k: number }> = {
  'aligned-small': { m: 64, k: 64 },
  'aligned-large': { m: 256, k: 256 },
  'aligned-shallow': { m: 256, k: 64 },
  'unaligned-small': { m: 61, k: 63 },
  'unaligned-large': { m: 255, k: 253 },
  'unaligned-shallow': { m: 255, k: 61 },
};

/**
 * Timed rounds per shape class (after one warm-up run per candidate, with compilation). Candidates
 * run interleaved, one run each per round: timed one after the other at load 10–20, the gram
 * choice for aligned-large flipped between three selections (quad 3.4 / 7.7 / 19.2 ms against the
 * plain matmul's 9.8 / 17.8 / 15.8 ms).
 */
const RUNS = 3;

export interface SelectionResult {
  table: VariantTable;
  validated: Record<string, Record<string, boolean>>;
  warmupMs: Record<string, Record<string, Record<string, number>>>;
}

function uploadRandom(gpu: Gpu, rows: number, cols: number, label: string): Tensor {
  const t = createTensor(gpu, { rows, cols, label });
  gpu.device.queue.writeBuffer(t.buffer, 0, randomF32(rows * cols, rows * 31 + cols));
  return t;
}

const medians = (t: Record<string, { medianMs: number }>): Record<string, number> =>
  Object.fromEntries(Object.entries(t).map(([name, timing]) => [name, timing.medianMs]));

const fastest = (times: Record<string, number>, what: string): string => {
  const ranked = Object.entries(times).sort((x, y) => x[1] - y[1]);
  if (ranked.length === 0) throw new Error(`no ${what} variant passed validation on this adapter`);
  return ranked[0][0];
};

/**
 * Validates and times every matmul variant and every symmetric Gram variant, installs the winning
 * tables on the device and returns them.
 *
 * @example
 * const { table } = await selectVariants(gpu);
 * // { matmul: { 'aligned-large': 'register-blocked-quad', … }, gram: { 'aligned-large': 'register-blocked-quad', … } }
 */
export async function selectVariants(gpu: Gpu, onProgress: (message: string) => void = () => {}): Promise<SelectionResult> {
  const validated: Record<string, boolean> = {};
  for (const v of MATMUL_VARIANTS.filter((x) => matmulVariantAvailable(gpu, x))) {
    onProgress(`validating matmul ${v.name}`);
    const rows = await checkMatmul(gpu, { variants: [v.name], scope: 'quick' });
    validated[v.name] = rows.length > 0 && rows.every((r) => r.pass);
  }
  const gramValidated: Record<string, boolean> = {};
  for (const v of GRAM_VARIANTS.filter((x) => x.requires !== 'subgroups' || gpu.hasSubgroups)) {
    onProgress(`validating symmetric gram ${v.name}`);
    const rows = await checkGram(gpu, { variants: [v.name], scope: 'quick' });
    gramValidated[v.name] = rows.length > 0 && rows.every((r) => r.pass);
  }

  const choice: Record<string, string> = {};
  const warmup: Record<string, Record<string, number>> = {};
  for (const [shapeClass, products] of Object.entries(REPRESENTATIVES)) {
    const created: Tensor[] = [];
    const upload = (rows: number, cols: number, label: string) => {
      const t = uploadRandom(gpu, rows, cols, label);
      created.push(t);
      return t;
    };
    try {
      const calls = products.map((p): MatmulOperands<Tensor> => ({
        a: p.transA ? upload(p.K, p.M, 'select A') : upload(p.M, p.K, 'select A'),
        b: p.transB ? upload(p.N, p.K, 'select B') : upload(p.K, p.N, 'select B'),
        c: upload(p.M, p.N, 'select C'),
        transA: p.transA,
        transB: p.transB,
        beta: p.beta,
      }));
      const shapes = calls.map((args) => matmulShape(args));
      if (shapes.some((shape, i) => matmulShapeClass(shape, isAligned(shape, calls[i])) !== shapeClass))
        throw new Error(`a representative of ${shapeClass} is misclassified`);
      const candidates: Record<string, (rec: CommandRecorder) => Promise<unknown>> = {};
      for (const v of MATMUL_VARIANTS) {
        if (!validated[v.name] || !calls.every((args, i) => v.supports(shapes[i], args))) continue;
        candidates[v.name] = async (rec) => {
          for (const args of calls) await matmul(rec, args, { variant: v.name as MatmulVariantName });
        };
      }
      onProgress(
        `timing matmul ${Object.keys(candidates).join(', ')} on ${shapeClass} (${products.map((p) => `${p.M}x${p.N}x${p.K}`).join(' + ')}), interleaved`,
      );
      warmup[shapeClass] = medians(await measureInterleaved(gpu, candidates, { runs: RUNS }));
    } finally {
      for (const t of created) t.buffer.destroy();
    }
    choice[shapeClass] = fastest(warmup[shapeClass], `matmul (${shapeClass})`);
  }
  // The matmul choice is installed first: the gram's `matmul` candidate runs with it.
  setVariantChoices(gpu, { matmul: choice });

  const gramChoice: Record<string, string> = {};
  const gramWarmup: Record<string, Record<string, number>> = {};
  for (const [shapeClass, { m, k }] of Object.entries(GRAM_REPRESENTATIVES)) {
    const x = uploadRandom(gpu, m, k, 'select X');
    const c = uploadRandom(gpu, m, m, 'select gram');
    try {
      const shape = gramShapeOf({ x, c, trans: false });
      if (gramShapeClass(shape) !== shapeClass) throw new Error(`gram representative of ${shapeClass} is misclassified`);
      const candidates: Record<string, (rec: CommandRecorder) => Promise<unknown>> = {};
      for (const v of GRAM_VARIANTS) {
        if (gramValidated[v.name] && gramVariantSupports(gpu, v, shape))
          candidates[v.name] = (rec) => symmetricGram(rec, { x, c, trans: false, variant: v.name });
      }
      candidates.matmul = (rec) => matmul(rec, { a: x, b: x, c, transB: true });
      onProgress(`timing symmetric gram ${Object.keys(candidates).join(', ')} on ${shapeClass} (${m}x${m}x${k}), interleaved`);
      gramWarmup[shapeClass] = medians(await measureInterleaved(gpu, candidates, { runs: RUNS }));
    } finally {
      x.buffer.destroy();
      c.buffer.destroy();
    }
    gramChoice[shapeClass] = fastest(gramWarmup[shapeClass], `gram (${shapeClass})`);
  }
  const table: VariantTable = { matmul: choice, gram: gramChoice };
  setVariantChoices(gpu, table);
  return { table, validated: { matmul: validated, gram: gramValidated }, warmupMs: { matmul: warmup, gram: gramWarmup } };
}
