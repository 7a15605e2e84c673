/**
 * Kernel definitions of shaders/softmax_grad.wgsl (one module; src/kernels/softmaxGrad.ts and its
 * dense, structural and staged parts dispatch them).
 */
import { defineKernel } from '../gpu/registry';
import softmaxGradSource from '../../shaders/softmax_grad.wgsl?raw';

const kernel = (entryPoint: string) => defineKernel({ module: 'softmax_grad', entryPoint, source: softmaxGradSource });
export const SOFTMAX_CHUNK_UPDATE_KERNEL = kernel('softmax_chunk_update');
export const SOFTMAX_CHUNK_UPDATE_VEC4_KERNEL = kernel('softmax_chunk_update_vec4');
export const SOFTMAX_FINALIZE_KERNEL = kernel('softmax_finalize');
export const IDENTITY_SOFTMAX_GRAD_KERNEL = kernel('identity_softmax_grad');
export const BLOCK3_TRANSFORM_KERNEL = kernel('block3_transform');
export const COUNT_NONFINITE_KERNEL = kernel('count_nonfinite');
export const GATHER_ROWS_IN_CHUNK_KERNEL = kernel('gather_rows_in_chunk');
export const ACCUMULATE_COLUMN_MEAN_KERNEL = kernel('accumulate_column_mean');
