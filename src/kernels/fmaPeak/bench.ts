/**
 * The adapter's achievable peaks (muonlab bench fma-peak): FMA GFLOP/s and copy GB/s.
 */
import type { Gpu } from '../../gpu/device';
import { FMA_CHAINS } from '../../cpu/fmaPeak';
import type { BenchOptions, BenchRow } from '../family';
import { measureDevicePeak, rememberDevicePeak } from './fmaPeak';

/** Bench rows: the FMA peak (GFLOP/s) and the copy bandwidth (GB/s) of this adapter. */
export async function benchFmaPeak(gpu: Gpu, options: BenchOptions = {}): Promise<BenchRow[]> {
  const peak = await measureDevicePeak(gpu, { runs: options.runs ?? 7, onProgress: options.onProgress });
  rememberDevicePeak(gpu, peak);
  const rows: BenchRow[] = [
    {
      kernel: 'fma-peak',
      variant: 'fma-vec4x8',
      shape: `${peak.fma.invocations} invocations × ${peak.fma.iterations} trips × ${FMA_CHAINS} chains`,
      runs: peak.fma.runs,
      medianMs: peak.fma.medianMs,
      minMs: peak.fma.minMs,
      firstRunMs: peak.fma.firstRunMs,
      flops: peak.fma.flops,
      gflops: peak.fma.flops / (peak.fma.medianMs * 1e6),
      timing: peak.timing,
      chosen: true,
      peakFraction: peak.fma.minMs / peak.fma.medianMs,
      note: `achievable f32 peak (fastest of ${peak.fma.runs} runs: ${peak.gflops.toFixed(2)} GFLOP/s; the gflops column is the median): the 100% of every peak-fraction figure`,
    },
  ];
  if (peak.copy) {
    rows.push({
      kernel: 'fma-peak',
      variant: 'copy-vec4',
      shape: `${peak.copy.bytes / 2 / 2 ** 20} MiB read + written`,
      runs: peak.copy.runs,
      medianMs: peak.copy.medianMs,
      minMs: peak.copy.minMs,
      firstRunMs: peak.copy.firstRunMs,
      flops: 0,
      gflops: 0,
      bytes: peak.copy.bytes,
      gbps: peak.copy.bytes / (peak.copy.medianMs * 1e6),
      timing: peak.timing,
      note: `copy bandwidth ${peak.gbps?.toFixed(2)} GB/s (fastest run; the gbps column is the median)`,
    });
  }
  return rows;
}
