/**
 * Kernel definitions of shaders/softmaxGrad/ (src/kernels/softmaxGrad/softmaxGrad.ts and its dense,
 * structural and staged parts dispatch them).
 */
import { defineKernel } from '../../gpu/registry';

export const SOFTMAX_CHUNK_UPDATE_KERNEL = defineKernel({ shader: 'softmaxGrad/chunk_update.wgsl', entryPoint: 'softmax_chunk_update' });
export const SOFTMAX_CHUNK_UPDATE_VEC4_KERNEL = defineKernel({
  shader: 'softmaxGrad/chunk_update.wgsl',
  entryPoint: 'softmax_chunk_update_vec4',
});
export const SOFTMAX_FINALIZE_KERNEL = defineKernel({ shader: 'softmaxGrad/finalize.wgsl', entryPoint: 'softmax_finalize' });
export const IDENTITY_SOFTMAX_GRAD_KERNEL = defineKernel({ shader: 'softmaxGrad/identity.wgsl', entryPoint: 'identity_softmax_grad' });
export const BLOCK3_TRANSFORM_KERNEL = defineKernel({ shader: 'softmaxGrad/block3_transform.wgsl', entryPoint: 'block3_transform' });
export const GATHER_ROWS_IN_CHUNK_KERNEL = defineKernel({ shader: 'softmaxGrad/staged.wgsl', entryPoint: 'gather_rows_in_chunk' });
export const ACCUMULATE_COLUMN_MEAN_KERNEL = defineKernel({ shader: 'softmaxGrad/staged.wgsl', entryPoint: 'accumulate_column_mean' });
