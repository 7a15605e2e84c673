/**
 * A run's profile: per-kernel GPU time from timestamp queries, gathered command buffer by command
 * buffer (one per training step) and summarized per kernel — dispatches, dispatches per step, time
 * share, GFLOP/s and GB/s from the dispatches' FLOP/byte counts (src/kernels/cost.ts), the
 * variant (entry point) that ran, and the fraction of this adapter's FMA peak. The summary is JSON
 * (schema `muonlab.profile/1`): `profile.json` of `muonlab run --profile` and the page's table.
 * Node-safe: no shader imports.
 */
import { z } from 'zod';
import { dispatchCost, type CostModel } from '../kernels/cost';
import type { Gpu } from './device';
import { setAmbientProfiling, TimestampProfiler, type ProfiledSubmit } from './profiler';

export const ProfileKernelSchema = z.object({
  /** The pass label (kernel name in the profile). */
  label: z.string(),
  /** Entry points (shader:entryPoint) that ran under this label: the variant chosen. */
  variants: z.array(z.string()),
  dispatches: z.number().int(),
  /** Command buffers (steps) in which this kernel ran at least once. */
  steps: z.number().int(),
  /** dispatches ÷ steps: per step in which it ran. */
  dispatchesPerStep: z.number(),
  /** Passes with a usable timestamp interval (the others were quantized to ≤ 0 or untimed). */
  timedPasses: z.number().int(),
  totalMs: z.number(),
  medianUs: z.number().nullable(),
  /** totalMs ÷ the profile's total GPU time (shares sum to 1). */
  share: z.number(),
  /** Over the timed passes; null where the kernel has no FLOP model. */
  flops: z.number().nullable(),
  bytes: z.number(),
  gflops: z.number().nullable(),
  gbps: z.number().nullable(),
  /** gflops ÷ the FMA peak; gbps ÷ the copy bandwidth. Null without a peak. */
  peakFraction: z.number().nullable(),
  bandwidthFraction: z.number().nullable(),
  costModel: z.enum(['exact', 'approximate', 'bound-buffers', 'mixed', 'none']),
});

export const RunProfileSchema = z.object({
  schema: z.literal('muonlab.profile/1'),
  name: z.string(),
  /**
   * 'train': one command buffer per training step; 'preset' / 'page': every command buffer of a
   * preset / of what the page ran while its profiler was on (a step is then one command buffer).
   */
  source: z.enum(['train', 'preset', 'page']),
  /** Command buffers profiled (steps). */
  steps: z.number().int(),
  timing: z.literal('timestamp-query'),
  totalGpuMs: z.number(),
  dispatches: z.number().int(),
  droppedPasses: z.number().int(),
  untimedPasses: z.number().int(),
  peak: z.object({ gflops: z.number(), gbps: z.number().nullable() }).nullable(),
  kernels: z.array(ProfileKernelSchema),
});

export type ProfileKernel = z.infer<typeof ProfileKernelSchema>;
export type RunProfile = z.infer<typeof RunProfileSchema>;

interface KernelTotals {
  label: string;
  variants: Set<string>;
  dispatches: number;
  steps: number;
  ns: number[];
  flops: number;
  flopsKnown: boolean;
  bytes: number;
  models: Set<CostModel>;
}

/**
 * Collects the profiled command buffers of a run.
 *
 * @example
 * const collector = new ProfileCollector();
 * const profiler = new TimestampProfiler(gpu, { onRead: (s) => collector.add(s) });
 * // … new CommandRecorder(gpu, profiler) per step …
 * const profile = collector.summarize({ name: 'my run', source: 'train' });
 */
export class ProfileCollector {
  private readonly kernels = new Map<string, KernelTotals>();
  private submits = 0;
  private dropped = 0;
  private untimed = 0;
  private dispatches = 0;

  private totals(label: string): KernelTotals {
    let k = this.kernels.get(label);
    if (!k) {
      k = { label, variants: new Set(), dispatches: 0, steps: 0, ns: [], flops: 0, flopsKnown: true, bytes: 0, models: new Set() };
      this.kernels.set(label, k);
    }
    return k;
  }

  /** Adds one command buffer's passes (the profiler's onRead). Empty command buffers are not steps. */
  add(submit: ProfiledSubmit): void {
    if (submit.labels.length === 0) return;
    this.submits++;
    this.dropped += submit.dropped;
    this.untimed += submit.untimed;
    this.dispatches += submit.labels.length;
    const seen = new Set<string>();
    submit.labels.forEach((label, i) => {
      const k = this.totals(label);
      k.dispatches++;
      const variant = submit.kernels[i];
      if (variant) k.variants.add(variant);
      if (!seen.has(label)) {
        seen.add(label);
        k.steps++;
      }
    });
    for (const pass of submit.passes) {
      const k = this.totals(pass.label);
      k.ns.push(pass.ns);
      if (!pass.dispatch) {
        k.flopsKnown = false;
        continue;
      }
      const cost = dispatchCost(pass.dispatch);
      k.models.add(cost.model);
      k.bytes += cost.bytes;
      if (cost.flops === null) k.flopsKnown = false;
      else k.flops += cost.flops;
    }
  }

  /** The profile so far, kernels by total time (largest first); with `peak`, fractions of it. */
  summarize(meta: { name: string; source: RunProfile['source']; peak?: RunProfile['peak'] }): RunProfile {
    const totalNs = [...this.kernels.values()].reduce((s, k) => s + k.ns.reduce((a, b) => a + b, 0), 0);
    const kernels: ProfileKernel[] = [...this.kernels.values()].map((k) => {
      const ns = k.ns.reduce((a, b) => a + b, 0);
      const seconds = ns / 1e9;
      const models = [...k.models];
      const flops = k.flopsKnown && k.ns.length > 0 ? k.flops : null;
      return {
        label: k.label,
        variants: [...k.variants].sort(),
        dispatches: k.dispatches,
        steps: k.steps,
        dispatchesPerStep: k.steps ? k.dispatches / k.steps : 0,
        timedPasses: k.ns.length,
        totalMs: ns / 1e6,
        medianUs: k.ns.length ? medianOf(k.ns) / 1e3 : null,
        share: totalNs > 0 ? ns / totalNs : 0,
        flops,
        bytes: k.bytes,
        gflops: flops !== null && seconds > 0 ? flops / seconds / 1e9 : null,
        gbps: k.ns.length && seconds > 0 ? k.bytes / seconds / 1e9 : null,
        peakFraction: null,
        bandwidthFraction: null,
        costModel: models.length === 0 ? 'none' : models.length === 1 ? models[0] : 'mixed',
      };
    });
    kernels.sort((a, b) => b.totalMs - a.totalMs || a.label.localeCompare(b.label));
    const profile: RunProfile = {
      schema: 'muonlab.profile/1',
      name: meta.name,
      source: meta.source,
      steps: this.submits,
      timing: 'timestamp-query',
      totalGpuMs: totalNs / 1e6,
      dispatches: this.dispatches,
      droppedPasses: this.dropped,
      untimedPasses: this.untimed,
      peak: null,
      kernels,
    };
    return meta.peak ? withPeak(profile, meta.peak) : profile;
  }
}

/** The profile with every GFLOP/s (GB/s) also as a fraction of this adapter's peak. */
export function withPeak(profile: RunProfile, peak: NonNullable<RunProfile['peak']>): RunProfile {
  const fraction = (x: number | null, of: number | null) => (x !== null && of && of > 0 && Number.isFinite(of) ? x / of : null);
  return {
    ...profile,
    peak,
    kernels: profile.kernels.map((k) => ({
      ...k,
      peakFraction: fraction(k.gflops, peak.gflops),
      bandwidthFraction: fraction(k.gbps, peak.gbps),
    })),
  };
}

function medianOf(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** A profiler feeding a collector, for one run: what `trainCell(…, { profile: true })` uses. */
export interface RunProfiling {
  profiler: TimestampProfiler;
  summarize(): RunProfile;
  destroy(): void;
}

/**
 * Starts profiling a run: pass `profiler` to each step's CommandRecorder, call `summarize()` at the
 * end. Throws a clear error where the adapter has no timestamp queries.
 *
 * @example
 * const profiling = startRunProfile(gpu, 'cell 0');
 * const rec = new CommandRecorder(gpu, profiling.profiler, 'step 0');
 */
export function startRunProfile(gpu: Gpu, name: string, source: RunProfile['source'] = 'train'): RunProfiling {
  if (!gpu.hasTimestamps) {
    throw new RangeError(
      `profile: this adapter has no "timestamp-query" feature, so per-kernel GPU time cannot be measured (run without profile)`,
    );
  }
  const collector = new ProfileCollector();
  const profiler = new TimestampProfiler(gpu, { capacityPairs: 2048, onRead: (s) => collector.add(s) });
  return {
    profiler,
    summarize: () => collector.summarize({ name, source }),
    destroy: () => profiler.destroy(),
  };
}

/**
 * Profiles everything `work` records on this device without an explicit profiler (a preset: its
 * steps are recorded deep inside it), one profile for all of it.
 */
export async function profileAmbient<T>(gpu: Gpu, name: string, work: () => Promise<T>): Promise<{ result: T; profile: RunProfile }> {
  const stop = startAmbientProfile(gpu);
  try {
    const result = await work();
    return { result, profile: stop.collector.summarize({ name, source: 'preset' }) };
  } finally {
    stop.stop();
  }
}

/**
 * Turns ambient profiling on for this device until `stop()`: every command buffer recorded without
 * an explicit profiler (the scheduler's steps included) goes into `collector`. The page's profiler
 * view uses it to profile whatever run the page starts, without the run knowing.
 */
export function startAmbientProfile(gpu: Gpu): { collector: ProfileCollector; stop: () => void } {
  if (!gpu.hasTimestamps) {
    throw new RangeError(
      `profile: this adapter has no "timestamp-query" feature, so per-kernel GPU time cannot be measured (run without profile)`,
    );
  }
  const collector = new ProfileCollector();
  setAmbientProfiling(gpu, { capacityPairs: 1024, onRead: (s) => collector.add(s) });
  return { collector, stop: () => setAmbientProfiling(gpu, undefined) };
}
