/**
 * Every kernel family the CLI and the page can validate and benchmark, by name.
 */
import type { KernelFamily } from './families';
import { checkMatmul } from './matmulCheck';
import { benchMatmul } from './matmulBench';
import { benchGather, checkGather } from './gatherCheck';
import { checkNewtonSchulz } from './newtonSchulzCheck';
import { benchNewtonSchulz } from './newtonSchulzBench';
import { checkOptimizers } from '../optim/optimCheck';
import { benchOptimizers } from '../optim/optimBench';
import { benchPhilox, checkPhilox } from './philoxCheck';
import { checkSoftmaxGrad } from './softmaxGradCheck';
import { benchSoftmaxGrad } from './softmaxGradBench';
import { benchFmaPeak, checkFmaPeak } from './fmaPeakCheck';
import { KERNEL_NAMES } from './names';

export const KERNEL_FAMILIES: readonly KernelFamily[] = [
  { name: 'matmul', check: (gpu, o) => checkMatmul(gpu, o), bench: (gpu, o) => benchMatmul(gpu, o) },
  { name: 'gather', check: (gpu) => checkGather(gpu), bench: (gpu, o) => benchGather(gpu, o) },
  { name: 'newton-schulz', check: (gpu, o) => checkNewtonSchulz(gpu, o), bench: (gpu, o) => benchNewtonSchulz(gpu, o) },
  { name: 'optimizers', check: (gpu, o) => checkOptimizers(gpu, o), bench: (gpu, o) => benchOptimizers(gpu, o) },
  { name: 'philox', check: (gpu) => checkPhilox(gpu), bench: (gpu, o) => benchPhilox(gpu, o) },
  { name: 'softmax-grad', check: (gpu, o) => checkSoftmaxGrad(gpu, o), bench: (gpu, o) => benchSoftmaxGrad(gpu, o) },
  { name: 'fma-peak', check: (gpu) => checkFmaPeak(gpu), bench: (gpu, o) => benchFmaPeak(gpu, o) },
];

export { KERNEL_NAMES };

if (KERNEL_FAMILIES.map((f) => f.name).join() !== KERNEL_NAMES.join()) {
  throw new Error('src/kernels/names.ts and KERNEL_FAMILIES disagree: add the family to both');
}

export function kernelFamily(name: string): KernelFamily {
  const family = KERNEL_FAMILIES.find((f) => f.name === name);
  if (!family) throw new RangeError(`unknown kernel "${name}"; kernels: ${KERNEL_NAMES.join(', ')}`);
  return family;
}
