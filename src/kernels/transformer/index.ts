/**
 * The transformer family (issue 12): embedding gather and deterministic scatter-add, RMSNorm,
 * causal attention (T ≤ 512, T×T per head materialised), ReLU²/GELU/SwiGLU, the residual add, the
 * LM head's second pass and global-norm gradient clipping. The matmuls are the batched matmul
 * family's; the head's loss pass is the softmax-grad family's kernels. CPU twins: src/cpu/transformer.ts.
 */
import { dispatchUniform, F32_BYTES, type KernelFamily } from '../family';
import { benchTransformer, TRANSFORMER_BENCH_SHAPES } from './bench';
import { checkTransformer, transformerCaseId, transformerCases } from './check';
import {
  ATTN_BACKWARD_KV_KERNEL,
  ATTN_BACKWARD_Q_KERNEL,
  ATTN_BACKWARD_SCORES_KERNEL,
  ATTN_FORWARD_KERNEL,
  TRANSFORMER_KERNELS,
} from './kernels';

/** Causal pairs (i, j ≤ i) of one sequence of length T. */
const pairs = (T: number) => (T * (T + 1)) / 2;

export const transformerFamily: KernelFamily = {
  name: 'transformer',
  summary:
    'transformer pieces: embeddings + deterministic scatter-add, RMSNorm, causal attention, ReLU²/GELU/SwiGLU, residual, LM-head grad, clipping',
  kernels: TRANSFORMER_KERNELS,
  costs: [
    {
      // Scores (dh multiply-adds per pair) and the weighted sum (dh per pair): 4·dh FLOPs per causal pair.
      entryPoints: [
        ATTN_FORWARD_KERNEL.entryPoint,
        ATTN_BACKWARD_SCORES_KERNEL.entryPoint,
        ATTN_BACKWARD_Q_KERNEL.entryPoint,
        ATTN_BACKWARD_KV_KERNEL.entryPoint,
      ],
      cost(dispatch) {
        const p = dispatchUniform(dispatch, 'af', 'asp', 'aq', 'akv');
        if (!p) return undefined;
        const dh = p.dModel / p.heads;
        const perPair =
          dispatch.entryPoint === ATTN_BACKWARD_KV_KERNEL.entryPoint
            ? 4 * dh
            : 2 * dh * (dispatch.entryPoint === ATTN_FORWARD_KERNEL.entryPoint ? 2 : 1);
        const flops = p.replicas * p.rows * p.heads * pairs(p.seqLen) * perPair;
        const tokens = p.replicas * p.rows * p.seqLen;
        return {
          flops,
          bytes: F32_BYTES * (4 * tokens * p.dModel + p.replicas * p.rows * p.heads * p.seqLen * p.seqLen),
          model: 'approximate',
        };
      },
    },
  ],
  tolerance:
    "per element C·u·A (u = 2⁻²⁴): A the magnitude (the formula on absolute values), C the rounding chain — K + 2 per K-term sum, WGSL accuracies for exp (3 + 2|x| ULP), inverseSqrt, tanh; softmax adds the scores' error (src/kernels/transformer/check.ts)",
  checkCases: (scope) => transformerCases(scope).map(transformerCaseId),
  benchShapes: TRANSFORMER_BENCH_SHAPES.map((s) => s.label),
  check: (gpu, options) => checkTransformer(gpu, options),
  bench: (gpu, options) => benchTransformer(gpu, options),
};
