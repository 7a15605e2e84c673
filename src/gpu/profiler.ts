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
  /** What was dispatched (kernel, uniforms, sizes), when the recorder passed it: the cost model's input. */
  dispatch?: DispatchRecord;
}

/**
 * A compact description of one dispatch, kept only while profiling: enough to compute its FLOP and
 * byte counts (src/kernels/cost.ts) and to name the variant that ran.
 */
export interface DispatchRecord {
  /** The WGSL file under shaders/ (e.g. "matmul/matmul.wgsl"). */
  shader: string;
  entryPoint: string;
  constants?: Record<string, number | boolean>;
  uniforms?: Record<string, Record<string, number>>;
  workgroups: [number, number, number];
  /** Size in bytes of every buffer bound, by binding name. */
  bufferBytes: Record<string, number>;
}

/** The part of a kernel dispatch the profiler reads (structurally a KernelDispatch). */
export interface ProfiledDispatch {
  kernel: { shader: string; entryPoint: string };
  constants?: Record<string, number | boolean>;
  uniforms?: Record<string, Record<string, number>>;
  workgroups: [number, number, number];
  buffers: Record<string, GPUBuffer>;
}

function recordDispatch(call: ProfiledDispatch): DispatchRecord {
  const bufferBytes: Record<string, number> = {};
  for (const [name, b] of Object.entries(call.buffers)) bufferBytes[name] = b.size;
  return {
    shader: call.kernel.shader,
    entryPoint: call.kernel.entryPoint,
    constants: call.constants && { ...call.constants },
    uniforms: call.uniforms && structuredClone(call.uniforms),
    workgroups: [...call.workgroups],
    bufferBytes,
  };
}

const CAPACITY_PAIRS = 512;
/** WebGPU caps a query set at 4096 queries. */
const MAX_CAPACITY_PAIRS = 2048;

/** Everything one command buffer's passes gave: timed passes and the labels of all of them. */
export interface ProfiledSubmit {
  /** Passes with a positive interval (dropped and untimed ones are not here). */
  passes: PassTiming[];
  /** Every pass recorded, in order (timed or not): dispatch counts come from this. */
  labels: string[];
  /** Entry points of `labels` (shader:entryPoint), where the recorder passed the dispatch. */
  kernels: (string | undefined)[];
  dropped: number;
  untimed: number;
}

export interface ProfilerOptions {
  /** Timed passes per command buffer (default 512, at most 2048); later passes run untimed. */
  capacityPairs?: number;
  /** Called with each command buffer's passes after they are read. */
  onRead?: (submit: ProfiledSubmit) => void;
  /** Destroy the query set after the first read (a profiler made for one recorder). */
  once?: boolean;
}

export class TimestampProfiler {
  private readonly querySet: GPUQuerySet;
  private readonly resolveBuffer: GPUBuffer;
  private labels: string[] = [];
  private dispatches: (DispatchRecord | undefined)[] = [];
  /** Intervals that came back ≤ 0 (quantization) and were dropped. */
  dropped = 0;
  /** Passes recorded after the query set was full (run untimed). */
  untimed = 0;

  private overflow: string[] = [];
  private readonly capacity: number;

  constructor(
    private readonly gpu: Gpu,
    private readonly options: ProfilerOptions = {},
  ) {
    if (!gpu.hasTimestamps) throw new Error('TimestampProfiler: this device has no timestamp-query feature');
    const capacity = options.capacityPairs ?? CAPACITY_PAIRS;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY_PAIRS) {
      throw new RangeError(`TimestampProfiler: capacityPairs must be an integer in [1, ${MAX_CAPACITY_PAIRS}], got ${capacity}`);
    }
    this.capacity = capacity;
    this.querySet = gpu.device.createQuerySet({ label: 'muonlab timestamps', type: 'timestamp', count: capacity * 2 });
    this.resolveBuffer = gpu.device.createBuffer({
      label: 'muonlab timestamp resolve',
      size: capacity * 2 * 8,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
  }

  /**
   * timestampWrites for the next pass, or undefined when the query set is full (pass untimed).
   * With `dispatch`, the pass timing carries a DispatchRecord (for FLOP/byte counts and the variant).
   */
  timestampWrites(label: string, dispatch?: ProfiledDispatch): GPUComputePassTimestampWrites | undefined {
    if (this.labels.length >= this.capacity) {
      this.untimed++;
      this.overflow.push(label);
      return undefined;
    }
    const pair = this.labels.length;
    this.labels.push(label);
    this.dispatches.push(dispatch && recordDispatch(dispatch));
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * pair, endOfPassWriteIndex: 2 * pair + 1 };
  }

  /** Records the resolve + copy into `encoder`; call once, after the passes, before finish(). */
  resolve(encoder: GPUCommandEncoder): { read: () => Promise<PassTiming[]> } {
    const count = this.labels.length;
    const labels = this.labels;
    const dispatches = this.dispatches;
    const overflow = this.overflow;
    this.labels = [];
    this.dispatches = [];
    this.overflow = [];
    const report = (passes: PassTiming[], dropped: number) => {
      this.options.onRead?.({
        passes,
        labels: [...labels, ...overflow],
        kernels: [...dispatches.map((d) => d && `${d.shader}:${d.entryPoint}`), ...overflow.map(() => undefined)],
        dropped,
        untimed: overflow.length,
      });
      if (this.options.once) this.destroy();
    };
    if (count === 0) {
      report([], 0);
      return { read: async () => [] };
    }
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
        let dropped = 0;
        for (let i = 0; i < count; i++) {
          const ns = Number(stamps[2 * i + 1] - stamps[2 * i]);
          if (ns > 0) out.push(dispatches[i] ? { label: labels[i], ns, dispatch: dispatches[i] } : { label: labels[i], ns });
          else dropped++;
        }
        this.dropped += dropped;
        report(out, dropped);
        return out;
      },
    };
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolveBuffer.destroy();
  }
}

const ambient = new WeakMap<GPUDevice, ProfilerOptions>();

/**
 * Turns profiling on (options) or off (undefined) for every CommandRecorder of this device made
 * without an explicit profiler: each gets its own one-shot profiler that reports to `onRead`. This
 * is how work the caller does not record itself (a preset's steps) is profiled; off, it costs a
 * WeakMap lookup per recorder.
 */
export function setAmbientProfiling(gpu: Gpu, options: ProfilerOptions | undefined): void {
  if (options) ambient.set(gpu.device, options);
  else ambient.delete(gpu.device);
}

/** A fresh one-shot profiler when ambient profiling is on for this device, else undefined. */
export function ambientProfiler(gpu: Gpu): TimestampProfiler | undefined {
  const options = ambient.get(gpu.device);
  return options && gpu.hasTimestamps ? new TimestampProfiler(gpu, { ...options, once: true }) : undefined;
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
