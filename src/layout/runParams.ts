/**
 * The fields of one run's parameters (RunParams in shaders/lib/run_params.wgsl, reflected for packing
 * in src/gpu/runParams.ts), as plain TypeScript: what the CPU twins read without the GPU side.
 * test/runParams.node.test.ts checks the names against the WGSL struct.
 */
export type RunParamName =
  | 'lr'
  | 'lrBase'
  | 'lrGrowth'
  | 'momentum'
  | 'beta1'
  | 'beta2'
  | 'eps'
  | 'weightDecay'
  | 'lambda'
  | 'scale'
  | 'step'
  | 'diverged'
  | 'divergedAtStep'
  | 'flags'
  | 'seed'
  | 'reserved';

export type RunParamValues = Record<RunParamName, number>;
