/**
 * Kernel definitions of shaders/transformer/ (the transformer family: src/kernels/transformer/index.ts)
 * and the constants the WGSL shares with TypeScript.
 */
import { defineKernel } from '../../gpu/registry';

const k = (file: string, entryPoint: string) => defineKernel({ shader: `transformer/${file}.wgsl`, entryPoint });

export const EMBED_FORWARD_KERNEL = k('embed', 'embed_forward');
export const TOKEN_CSR_KERNEL = k('embed', 'token_csr');
export const EMBED_BACKWARD_KERNEL = k('embed', 'embed_backward');
export const POS_BACKWARD_KERNEL = k('embed', 'pos_backward');
export const RMSNORM_FORWARD_KERNEL = k('rmsnorm', 'rmsnorm_forward');
export const RMSNORM_BACKWARD_KERNEL = k('rmsnorm', 'rmsnorm_backward');
export const RESIDUAL_ADD_KERNEL = k('rmsnorm', 'residual_add');
export const ACT_FORWARD_KERNEL = k('activation', 'act_forward');
export const ACT_BACKWARD_KERNEL = k('activation', 'act_backward');
export const SWIGLU_FORWARD_KERNEL = k('activation', 'swiglu_forward');
export const SWIGLU_BACKWARD_KERNEL = k('activation', 'swiglu_backward');
export const ATTN_FORWARD_KERNEL = k('attention', 'attn_forward');
export const ATTN_BACKWARD_SCORES_KERNEL = k('attention', 'attn_backward_scores');
export const ATTN_BACKWARD_Q_KERNEL = k('attention', 'attn_backward_q');
export const ATTN_BACKWARD_KV_KERNEL = k('attention', 'attn_backward_kv');
export const LM_HEAD_GRAD_PROBS_KERNEL = k('lm_head', 'lm_head_grad_probs');
export const GRAD_SUMSQ_KERNEL = k('grad_clip', 'grad_sumsq');
export const CLIP_SCALE_KERNEL = k('grad_clip', 'clip_scale');
export const GRAD_SCALE_KERNEL = k('grad_clip', 'grad_scale');

export const TRANSFORMER_KERNELS = [
  EMBED_FORWARD_KERNEL,
  TOKEN_CSR_KERNEL,
  EMBED_BACKWARD_KERNEL,
  POS_BACKWARD_KERNEL,
  RMSNORM_FORWARD_KERNEL,
  RMSNORM_BACKWARD_KERNEL,
  RESIDUAL_ADD_KERNEL,
  ACT_FORWARD_KERNEL,
  ACT_BACKWARD_KERNEL,
  SWIGLU_FORWARD_KERNEL,
  SWIGLU_BACKWARD_KERNEL,
  ATTN_FORWARD_KERNEL,
  ATTN_BACKWARD_SCORES_KERNEL,
  ATTN_BACKWARD_Q_KERNEL,
  ATTN_BACKWARD_KV_KERNEL,
  LM_HEAD_GRAD_PROBS_KERNEL,
  GRAD_SUMSQ_KERNEL,
  CLIP_SCALE_KERNEL,
  GRAD_SCALE_KERNEL,
] as const;

/** ACT_* codes of shaders/transformer/activation.wgsl (test/transformer.node.test.ts checks they agree). */
export const ACTIVATION_CODES = { relu2: 0, gelu: 1 } as const;
