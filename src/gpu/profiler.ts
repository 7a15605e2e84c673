/**
 * Timestamp-query profiler: one begin/end pair per compute pass, resolved into a buffer and read back
 * after the work is done. Durations are per pass label (a kernel name), in nanoseconds.
 *
 * Chrome quantizes timestamps (100 µs on real GPUs unless --enable-webgpu-developer-features), and
 * some intervals come back zero or negative: those are dropped, and counted, never averaged in.
 */
import type { Gpu } from './device';

export interface PassTiming {
  label: string;
  ns: number;
}

const CAPACITY_PAIRS = 512;

export class TimestampProfiler {
  private readonly querySet: GPUQuerySet;
  private readonly resolveBuffer: GPUBuffer;
  private labels: string[] = [];
  /** Intervals that came back ≤ 0 (quantization) and were dropped. */
  dropped = 0;

  constructor(private readonly gpu: Gpu) {
    if (!gpu.hasTimestamps) throw new Error('TimestampProfiler: this device has no timestamp-query feature');
    this.querySet = gpu.device.createQuerySet({ label: 'muonlab timestamps', type: 'timestamp', count: CAPACITY_PAIRS * 2 });
    this.resolveBuffer = gpu.device.createBuffer({
      label: 'muonlab timestamp resolve',
      size: CAPACITY_PAIRS * 2 * 8,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
  }

  /** timestampWrites for the next pass, or undefined when the query set is full (pass untimed). */
  timestampWrites(label: string): GPUComputePassTimestampWrites | undefined {
    if (this.labels.length >= CAPACITY_PAIRS) return undefined;
    const pair = this.labels.length;
    this.labels.push(label);
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * pair, endOfPassWriteIndex: 2 * pair + 1 };
  }

  /** Records the resolve + copy into `encoder`; call once, after the passes, before finish(). */
  resolve(encoder: GPUCommandEncoder): { read: () => Promise<PassTiming[]> } {
    const count = this.labels.length;
    const labels = this.labels;
    this.labels = [];
    if (count === 0) return { read: async () => [] };
    const staging = this.gpu.device.createBuffer({
      label: 'muonlab timestamp readback',
      size: count * 16,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    encoder.resolveQuerySet(this.querySet, 0, count * 2, this.resolveBuffer, 0);
    encoder.copyBufferToBuffer(this.resolveBuffer, 0, staging, 0, count * 16);
    return {
      read: async () => {
        await staging.mapAsync(GPUMapMode.READ);
        const stamps = new BigInt64Array(staging.getMappedRange().slice(0));
        staging.unmap();
        staging.destroy();
        const out: PassTiming[] = [];
        for (let i = 0; i < count; i++) {
          const ns = Number(stamps[2 * i + 1] - stamps[2 * i]);
          if (ns > 0) out.push({ label: labels[i], ns });
          else this.dropped++;
        }
        return out;
      },
    };
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolveBuffer.destroy();
  }
}

/** Median of a list (mean of the middle two for even lengths); NaN for an empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Groups pass timings by label: per-kernel count, total and median in ns. */
export function summarizeTimings(timings: readonly PassTiming[]): { label: string; count: number; totalNs: number; medianNs: number }[] {
  const byLabel = new Map<string, number[]>();
  for (const t of timings) {
    const list = byLabel.get(t.label) ?? [];
    list.push(t.ns);
    byLabel.set(t.label, list);
  }
  return [...byLabel.entries()].map(([label, ns]) => ({
    label,
    count: ns.length,
    totalNs: ns.reduce((a, b) => a + b, 0),
    medianNs: median(ns),
  }));
}
