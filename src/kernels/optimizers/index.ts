/**
 * The optimizers family: every optimizer of src/optim/ (gd/sgd, signgd, adam/adamw, muon with each
 * orth, muon-reg, tra-signgd) as one step over a batch of runs with per-run hyper-parameters,
 * against the CPU twins of src/cpu/optim.ts.
 */
import { ADAM_UPDATE_KERNEL } from '../../optim/adam';
import { GD_UPDATE_KERNEL } from '../../optim/gd';
import { MUON_INPUT_KERNEL, MUON_UPDATE_KERNEL } from '../../optim/muon';
import { DIRECTION_UPDATE_KERNEL, MUON_REG_CHECK_KERNEL, MUON_REG_FINISH_KERNEL, MUON_REG_INIT_KERNEL } from '../../optim/muonReg';
import { SIGNGD_UPDATE_KERNEL } from '../../optim/signgd';
import { SIGN_INPLACE_KERNEL } from '../../optim/traSignGd';
import type { KernelFamily } from '../family';
import { benchOptimizers, OPTIM_BENCH_SHAPE } from './bench';
import { checkOptimizers, optimCaseId, optimCases } from './check';

export const optimizersFamily: KernelFamily = {
  name: 'optimizers',
  summary: 'one optimizer step for a batch of runs: gd/sgd, signgd, adam/adamw, muon, muon-reg, tra-signgd',
  kernels: [
    GD_UPDATE_KERNEL,
    SIGNGD_UPDATE_KERNEL,
    ADAM_UPDATE_KERNEL,
    MUON_INPUT_KERNEL,
    MUON_UPDATE_KERNEL,
    MUON_REG_INIT_KERNEL,
    MUON_REG_CHECK_KERNEL,
    MUON_REG_FINISH_KERNEL,
    DIRECTION_UPDATE_KERNEL,
    SIGN_INPLACE_KERNEL,
  ],
  costs: [],
  tolerance:
    'per optimizer: a few f32 roundings of each elementwise update (relative to |W| + η|D|); orth(·) adds its own bound (newton-schulz) or 1e-3 for exact; muon-reg its κ-dependent residual',
  checkCases: (scope) => optimCases(scope).map(optimCaseId),
  benchShapes: [`${OPTIM_BENCH_SHAPE.runs} x ${OPTIM_BENCH_SHAPE.d}x${OPTIM_BENCH_SHAPE.d}`],
  check: (gpu, options) => checkOptimizers(gpu, options),
  bench: (gpu, options) => benchOptimizers(gpu, options),
};
