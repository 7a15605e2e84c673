/**
 * Per-device kernel variant choices: family → shape class → variant name. The page fills the table
 * from a measured warm-up (src/kernels/matmul/selectVariants.ts) or from the Node side's cache (keyed by
 * adapter, browser version and flags — see harness/variantCache.ts), and results record it.
 */
import type { Gpu } from '../gpu/device';

export type VariantTable = Record<string, Record<string, string>>;

const tables = new WeakMap<GPUDevice, VariantTable>();

/** Installs a choice table for a device (replacing the previous one). */
export function setVariantChoices(gpu: Gpu, table: VariantTable): void {
  tables.set(gpu.device, structuredClone(table));
}

/** The current choice table (empty until set: kernels then use their static defaults). */
export function variantChoices(gpu: Gpu): VariantTable {
  return structuredClone(tables.get(gpu.device) ?? {});
}

export function chosenVariant(gpu: Gpu, family: string, shapeClass: string): string | undefined {
  return tables.get(gpu.device)?.[family]?.[shapeClass];
}
