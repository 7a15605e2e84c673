/**
 * Achievable-peak probes (shaders/fmaPeak/fma_peak.wgsl): an FMA-throughput kernel and a copy-bandwidth
 * kernel, and `measureDevicePeak`, which sizes them until one run lasts long enough to time well and
 * reports this adapter's peak GFLOP/s and GB/s. Every GFLOP/s figure of the profiler and of
 * `muonlab bench` is also shown as a fraction of that peak. CPU twin: src/cpu/fmaPeak.ts.
 */
import type { CommandRecorder } from '../../gpu/commands';
import type { Gpu } from '../../gpu/device';
import { defineKernel } from '../../gpu/registry';
import { createTensor, BYTES_PER_ELEMENT, type Tensor } from '../../gpu/tensor';
import { measureKernel } from '../../gpu/timing';
import { FMA_CHAINS } from '../../cpu/fmaPeak';

export const FMA_PEAK_KERNEL = defineKernel({ shader: 'fmaPeak/fma_peak.wgsl', entryPoint: 'fma_peak' });
export const COPY_BANDWIDTH_KERNEL = defineKernel({ shader: 'fmaPeak/fma_peak.wgsl', entryPoint: 'copy_bandwidth' });

const WORKGROUP = 64;
/** Workgroups of the copy probe: enough to fill a large GPU (132 SMs × 16), few for a CPU adapter. */
const COPY_WORKGROUPS = 2048;
/** FLOPs per invocation per loop trip: 32 chains, one multiply and one add each. */
export const FMA_FLOPS_PER_TRIP = 2 * FMA_CHAINS;

export interface FmaPeakArgs {
  /** Receives one f32 per invocation (the sum of its chains); at least `invocations` elements. */
  out: Tensor;
  /** A multiple of 64, at most 64 × maxComputeWorkgroupsPerDimension. */
  invocations: number;
  iterations: number;
  a: number;
  b: number;
}

/** FLOPs of one fma_peak dispatch: invocations × iterations × 32 chains × 2. */
export function fmaPeakFlops(invocations: number, iterations: number): number {
  return invocations * iterations * FMA_FLOPS_PER_TRIP;
}

/**
 * Records one fma_peak dispatch; returns its FLOP count.
 *
 * @example
 * await runCommands(gpu, (rec) => recordFmaPeak(rec, { out, invocations: 4096, iterations: 256, a: 1, b: 1 }));
 */
export async function recordFmaPeak(rec: CommandRecorder, args: FmaPeakArgs): Promise<number> {
  const maxGroups = rec.gpu.limits.maxComputeWorkgroupsPerDimension ?? 65535;
  if (
    !Number.isInteger(args.invocations) ||
    args.invocations <= 0 ||
    args.invocations % WORKGROUP !== 0 ||
    args.invocations / WORKGROUP > maxGroups
  ) {
    throw new RangeError(
      `fmaPeak: invocations must be a positive multiple of ${WORKGROUP} up to ${WORKGROUP * maxGroups}, got ${args.invocations}`,
    );
  }
  if (!Number.isInteger(args.iterations) || args.iterations < 0 || args.iterations > 0xffffffff) {
    throw new RangeError(`fmaPeak: iterations must be an integer in [0, 2^32), got ${args.iterations}`);
  }
  if (args.out.dtype !== 'f32' || args.out.offset !== 0 || args.out.buffer.size < args.invocations * BYTES_PER_ELEMENT) {
    throw new RangeError(`fmaPeak: out "${args.out.label}" must be an offset-0 f32 tensor of at least ${args.invocations} elements`);
  }
  await rec.dispatch({
    kernel: FMA_PEAK_KERNEL,
    buffers: { fmaOut: args.out.buffer },
    uniforms: { fmaParams: { iterations: args.iterations, a: args.a, b: args.b } },
    workgroups: [args.invocations / WORKGROUP, 1, 1],
  });
  return fmaPeakFlops(args.invocations, args.iterations);
}

/** Records dst ← src over `vec4s` vec4 elements; returns the bytes moved (one read + one write). */
export async function recordCopyBandwidth(rec: CommandRecorder, args: { src: GPUBuffer; dst: GPUBuffer; vec4s: number }): Promise<number> {
  const bytes = args.vec4s * 16;
  if (!Number.isInteger(args.vec4s) || args.vec4s <= 0 || args.src.size < bytes || args.dst.size < bytes) {
    throw new RangeError(
      `copyBandwidth: vec4s must be a positive integer with src and dst of at least ${bytes} bytes, got vec4s = ${args.vec4s}`,
    );
  }
  // Grid-stride: at most COPY_WORKGROUPS workgroups, each invocation copying every stride-th vec4.
  const groups = Math.min(Math.ceil(args.vec4s / WORKGROUP), COPY_WORKGROUPS);
  await rec.dispatch({
    kernel: COPY_BANDWIDTH_KERNEL,
    buffers: { copySrc: args.src, copyDst: args.dst },
    uniforms: { copyParams: { count: args.vec4s, stride: groups * WORKGROUP } },
    workgroups: [groups, 1, 1],
  });
  return 2 * bytes;
}

export interface PeakMeasurement {
  /**
   * FMA throughput: the achievable f32 peak of this adapter for a WGSL kernel — from the fastest
   * timed run (other load on the machine only ever slows a run down, so the best run is the least
   * disturbed one; the median is in `fma.medianMs`).
   */
  gflops: number;
  fma: { invocations: number; iterations: number; flops: number; medianMs: number; minMs: number; firstRunMs: number; runs: number };
  /** Copy bandwidth (read + write) from the fastest timed run, null when skipped. */
  gbps: number | null;
  copy: { bytes: number; medianMs: number; minMs: number; firstRunMs: number; runs: number } | null;
  timing: 'timestamp-query' | 'wall-clock';
}

export interface PeakOptions {
  /** Timed runs of the final size (default 7). */
  runs?: number;
  /** Grow the work until a run takes at least this long (default 10 ms): quantized timestamps. */
  targetMs?: number;
  bandwidth?: boolean;
  onProgress?: (message: string) => void;
}

/**
 * Measures this adapter's FMA peak (and copy bandwidth): starts small and grows the work ×4 until
 * one run lasts `targetMs`, then times `runs` runs of that size and reports the fastest.
 *
 * @example
 * const peak = await measureDevicePeak(gpu);
 * console.log(`${peak.gflops.toFixed(1)} GFLOP/s, ${peak.gbps?.toFixed(1)} GB/s`);
 */
export async function measureDevicePeak(gpu: Gpu, options: PeakOptions = {}): Promise<PeakMeasurement> {
  const runs = options.runs ?? 7;
  const targetMs = options.targetMs ?? 10;
  const maxGroups = gpu.limits.maxComputeWorkgroupsPerDimension ?? 65535;
  const maxInvocations = WORKGROUP * Math.min(maxGroups, 8192);
  let invocations = WORKGROUP * 64;
  let iterations = 256;
  const out = createTensor(gpu, { rows: maxInvocations, cols: 1, label: 'fma peak out' });
  let fma: PeakMeasurement['fma'];
  let timing: PeakMeasurement['timing'];
  try {
    for (;;) {
      const t = await measureKernel(gpu, (rec) => recordFmaPeak(rec, { out, invocations, iterations, a: 0.99609375, b: 0.5 }), { runs: 1 });
      const grow = t.medianMs < targetMs && iterations < 1 << 16;
      options.onProgress?.(`fma peak: ${invocations} invocations × ${iterations} trips: ${t.medianMs.toFixed(3)} ms`);
      if (!grow) break;
      if (invocations * 4 <= maxInvocations) invocations *= 4;
      else iterations *= 4;
    }
    const t = await measureKernel(gpu, (rec) => recordFmaPeak(rec, { out, invocations, iterations, a: 0.99609375, b: 0.5 }), { runs });
    const flops = fmaPeakFlops(invocations, iterations);
    fma = { invocations, iterations, flops, medianMs: t.medianMs, minMs: t.minMs, firstRunMs: t.firstRunMs, runs: t.samplesMs.length };
    timing = t.timing;
  } finally {
    out.buffer.destroy();
  }
  let copy: PeakMeasurement['copy'] = null;
  if (options.bandwidth ?? true) copy = await measureCopy(gpu, runs, targetMs / 4, options.onProgress);
  return {
    gflops: fma.flops / (fma.minMs * 1e6),
    fma,
    gbps: copy ? copy.bytes / (copy.minMs * 1e6) : null,
    copy,
    timing,
  };
}

async function measureCopy(
  gpu: Gpu,
  runs: number,
  targetMs: number,
  onProgress?: (m: string) => void,
): Promise<NonNullable<PeakMeasurement['copy']>> {
  const limit = Math.min(256 * 2 ** 20, gpu.limits.maxStorageBufferBindingSize ?? 2 ** 27, gpu.limits.maxBufferSize ?? 2 ** 28);
  let bytes = Math.min(16 * 2 ** 20, limit);
  for (;;) {
    const vec4s = Math.floor(bytes / 16);
    const usage = GPUBufferUsage.STORAGE;
    const src = gpu.device.createBuffer({ label: 'copy bandwidth src', size: vec4s * 16, usage });
    const dst = gpu.device.createBuffer({ label: 'copy bandwidth dst', size: vec4s * 16, usage });
    try {
      const probe = await measureKernel(gpu, (rec) => recordCopyBandwidth(rec, { src, dst, vec4s }), { runs: 1 });
      onProgress?.(`copy bandwidth: ${(vec4s * 16) / 2 ** 20} MiB: ${probe.medianMs.toFixed(3)} ms`);
      if (probe.medianMs < targetMs && bytes * 2 <= limit) {
        bytes *= 2;
        continue;
      }
      const t = await measureKernel(gpu, (rec) => recordCopyBandwidth(rec, { src, dst, vec4s }), { runs });
      return { bytes: 2 * vec4s * 16, medianMs: t.medianMs, minMs: t.minMs, firstRunMs: t.firstRunMs, runs: t.samplesMs.length };
    } finally {
      src.destroy();
      dst.destroy();
    }
  }
}

const peaks = new WeakMap<GPUDevice, Promise<PeakMeasurement>>();

/** This device's peak, measured once per device and shared (profile and bench tables use it). */
export function devicePeak(gpu: Gpu, options: PeakOptions = {}): Promise<PeakMeasurement> {
  let peak = peaks.get(gpu.device);
  if (!peak) {
    peak = measureDevicePeak(gpu, options);
    peaks.set(gpu.device, peak);
    peak.catch(() => peaks.delete(gpu.device));
  }
  return peak;
}

/** Makes `peak` this device's remembered peak (the `fma-peak` bench row and the fractions agree). */
export function rememberDevicePeak(gpu: Gpu, peak: PeakMeasurement): void {
  peaks.set(gpu.device, Promise.resolve(peak));
}

/**
 * Bench rows with `peakFraction` = gflops ÷ the FMA peak. Rows that count no FLOPs (data movement,
 * mixed optimizer steps) and philox (its gflops column counts values, not FLOPs) get null.
 */
export function withPeakFractions<R extends { kernel: string; flops: number; gflops: number; peakFraction?: number | null }>(
  rows: readonly R[],
  peakGflops: number,
): R[] {
  return rows.map((r) => ({
    ...r,
    peakFraction: r.peakFraction ?? (r.kernel === 'philox' || !(r.flops > 0) ? null : fractionOfPeak(r.gflops, peakGflops)),
  }));
}

/** A GFLOP/s figure as a fraction of the peak; null when either is not a positive finite number. */
export function fractionOfPeak(gflops: number, peakGflops: number | null | undefined): number | null {
  if (!peakGflops || !Number.isFinite(gflops) || !Number.isFinite(peakGflops) || peakGflops <= 0 || gflops < 0) return null;
  return gflops / peakGflops;
}
