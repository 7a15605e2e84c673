/**
 * The page's profiling state: while on, every command buffer the page records without an explicit
 * profiler — the scheduler's steps, a preset's work — is timed per pass (timestamp queries) into one
 * collector (src/gpu/runProfile.ts). Shared by the profiler view and the automation API.
 */
import type { Gpu } from '../gpu/device';
import { startAmbientProfile, withPeak, type ProfileCollector, type RunProfile } from '../gpu/runProfile';
import { devicePeak, type PeakMeasurement } from '../kernels/fmaPeak/fmaPeak';

let active: { collector: ProfileCollector; stop: () => void; startedAt: string } | null = null;
let stopped: RunProfile | null = null;
let peak: PeakMeasurement | null = null;

/** Starts profiling (a fresh collector); throws a clear error without timestamp queries. */
export function startPageProfiling(gpu: Gpu): void {
  active?.stop();
  const started = startAmbientProfile(gpu);
  active = { ...started, startedAt: new Date().toISOString() };
  stopped = null;
}

/** Stops profiling; the profile so far stays readable. */
export function stopPageProfiling(): RunProfile | null {
  if (!active) return stopped;
  active.stop();
  stopped = summarize(active.collector);
  active = null;
  return stopped;
}

export function pageProfilingOn(): boolean {
  return active !== null;
}

function summarize(collector: ProfileCollector): RunProfile {
  const profile = collector.summarize({ name: `page profile ${active?.startedAt ?? ''}`.trim(), source: 'page' });
  return peak ? withPeak(profile, { gflops: peak.gflops, gbps: peak.gbps }) : profile;
}

/** The current profile (live while profiling, else the last one), with peak fractions once known. */
export function pageProfile(): RunProfile | null {
  if (active) return summarize(active.collector);
  return stopped && peak ? withPeak(stopped, { gflops: peak.gflops, gbps: peak.gbps }) : stopped;
}

/** Measures (once per device) and remembers this adapter's peak for the fractions. */
export async function measurePagePeak(gpu: Gpu, onProgress?: (m: string) => void): Promise<PeakMeasurement> {
  peak = await devicePeak(gpu, { onProgress });
  return peak;
}

/** The peak if it was measured already (never starts a measurement). */
export function knownPagePeak(): PeakMeasurement | null {
  return peak;
}
