/**
 * What a kernel family is: one folder src/kernels/<family>/ (index.ts exporting its KernelFamily,
 * check.ts, bench.ts, the dispatching code) with its WGSL in shaders/<family>/ and its Float64 twin
 * in src/cpu/<family>.ts. The CLI's kernel names (`muonlab check|bench <family>`), the profiler's
 * FLOP/byte model and the page's bench checkboxes all derive from the list in src/kernels/index.ts.
 */
import type { Gpu } from '../gpu/device';
import type { DispatchRecord } from '../gpu/profiler';
import type { KernelDefinition } from '../gpu/registry';

/** One validated case: GPU against the CPU twin. Errors are null when not finite (JSON-safe). */
export interface CheckRow {
  kernel: string;
  variant: string;
  caseId: string;
  pass: boolean;
  maxAbsError: number | null;
  /** Largest error / allowed error over the case's elements (≤ 1 passes). */
  worstRatio: number | null;
  error?: string;
}

export interface BenchRow {
  kernel: string;
  variant: string;
  /** Human-readable shape, e.g. "1024x1024x1024" or "16 x 128x128x128". */
  shape: string;
  /** Timed runs after warm-up (fewer for clearly slow variants: stated here, not hidden). */
  runs: number;
  medianMs: number;
  minMs: number;
  /** First run including pipeline compilation (wall clock), reported apart from the median. */
  firstRunMs: number;
  flops: number;
  gflops: number;
  /** 'timestamp-query' or 'wall-clock' (no timestamp feature). */
  timing: 'timestamp-query' | 'wall-clock';
  /** The variant the registry picks for this shape on this device. */
  chosen?: boolean;
  note?: string;
  /** Bytes moved per run and GB/s, where the family declares them (bandwidth-bound kernels). */
  bytes?: number;
  gbps?: number;
  /** gflops ÷ this adapter's FMA peak (src/kernels/fmaPeak/fmaPeak.ts); null when unknown. */
  peakFraction?: number | null;
}

export interface BenchOptions {
  /** Timed runs per case (default 10). */
  runs?: number;
  variants?: string[];
  /** Only shapes whose label contains one of these strings. */
  shapes?: string[];
  onProgress?: (message: string) => void;
}

/** How a dispatch's FLOP and byte counts were obtained. */
export type CostModel = 'exact' | 'approximate' | 'bound-buffers';

export interface DispatchCost {
  /** Floating-point operations; null when the kernel has no FLOP model (data movement, bookkeeping). */
  flops: number | null;
  bytes: number;
  model: CostModel;
}

/**
 * The FLOP/byte model of some entry points: counts of the useful work — multiply-adds of the
 * products, compulsory traffic (each operand read once, each result written once) — not of what a
 * variant happens to re-read, so two variants of one call compare on the same work. `cost` returns
 * undefined when the dispatch lacks the uniforms it needs.
 */
export interface KernelCost {
  entryPoints: readonly string[];
  cost(d: DispatchRecord): DispatchCost | undefined;
}

export interface KernelFamily {
  /** The CLI and page name, e.g. "softmax-grad". */
  name: string;
  /** One line: what the family computes. */
  summary: string;
  /** The entry points it dispatches (support kernels it owns included). */
  kernels: readonly KernelDefinition[];
  /** FLOP/byte models of those entry points (kernels without one count bound buffer bytes). */
  costs: readonly KernelCost[];
  /** How a check case's allowed error is derived (its test states the same rule). */
  tolerance: string;
  /** Ids of the check cases (`muonlab check` reports one row per case, and per variant where several). */
  checkCases(scope?: 'full' | 'quick'): readonly string[];
  /** Labels of the bench shapes. */
  benchShapes: readonly string[];
  check(gpu: Gpu, options?: { scope?: 'full' | 'quick' }): Promise<CheckRow[]>;
  bench(gpu: Gpu, options?: BenchOptions): Promise<BenchRow[]>;
}

/** Bytes of one f32 / u32 element. */
export const F32_BYTES = 4;

/** The named uniform of a dispatch (the first of `names` it has). */
export function dispatchUniform(d: DispatchRecord, ...names: string[]): Record<string, number> | undefined {
  for (const n of names) if (d.uniforms?.[n]) return d.uniforms[n];
  return undefined;
}
