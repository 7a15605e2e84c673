/**
 * Names of the kernel families (what `muonlab check|bench [kernel…]` accepts). Kept free of shader
 * imports so the Node side (CLI argument validation) can use it without a bundler.
 */
export const KERNEL_NAMES = ['matmul', 'gather', 'newton-schulz', 'optimizers', 'philox', 'softmax-grad', 'fma-peak'] as const;
export type KernelName = (typeof KERNEL_NAMES)[number];
