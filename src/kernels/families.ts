/**
 * The kernel families the CLI and the page can check and benchmark (`muonlab check matmul`,
 * `muonlab bench matmul`). Each family contributes a validate step (GPU vs CPU twin, one row per
 * variant × case) and a benchmark (median timestamp-query times per variant × shape).
 */
import type { Gpu } from '../gpu/device';

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
  /** gflops ÷ this adapter's FMA peak (src/kernels/fmaPeak.ts); null when unknown. */
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

export interface KernelFamily {
  name: string;
  check(gpu: Gpu, options?: { scope?: 'full' | 'quick' }): Promise<CheckRow[]>;
  bench(gpu: Gpu, options?: BenchOptions): Promise<BenchRow[]>;
}
