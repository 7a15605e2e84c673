/**
 * Every kernel family, in the order the CLI and the page list them. Adding a family here is what
 * makes `muonlab check|bench <name>`, the page's bench checkboxes and the profiler's FLOP model know
 * it (docs/extending.md).
 */
import type { KernelFamily } from './family';
import { fmaPeakFamily } from './fmaPeak';
import { gatherFamily } from './gather';
import { matmulFamily } from './matmul';
import { newtonSchulzFamily } from './newtonSchulz';
import { optimizersFamily } from './optimizers';
import { philoxFamily } from './philox';
import { softmaxGradFamily } from './softmaxGrad';
import { transformerFamily } from './transformer';

export const KERNEL_FAMILIES: readonly KernelFamily[] = [
  matmulFamily,
  gatherFamily,
  newtonSchulzFamily,
  optimizersFamily,
  philoxFamily,
  softmaxGradFamily,
  transformerFamily,
  fmaPeakFamily,
];

/** The names `muonlab check|bench` accept. */
export const KERNEL_NAMES: readonly string[] = KERNEL_FAMILIES.map((f) => f.name);

/**
 * The family of a name; throws listing the names there are.
 *
 * @example
 * await kernelFamily('matmul').check(gpu, { scope: 'quick' });
 */
export function kernelFamily(name: string): KernelFamily {
  const family = KERNEL_FAMILIES.find((f) => f.name === name);
  if (!family) throw new RangeError(`unknown kernel "${name}"; kernels: ${KERNEL_NAMES.join(', ')}`);
  return family;
}
