/**
 * The page's automation API, `window.muonlab`: what the Node harness (harness/session.ts) calls
 * through Playwright. Methods take and return plain JSON; progress goes back through
 * `window.muonlabProgress` when the harness exposes it, so long work reports as it goes and a crash
 * loses only what was in flight.
 */
import { GpuUnavailableError, type Gpu } from '../gpu/device';
import type { BenchOptions, BenchRow, CheckRow } from '../kernels/family';
import { kernelFamily } from '../kernels';
import { selectVariants, type SelectionResult } from '../kernels/matmul/selectVariants';
import { setVariantChoices, variantChoices, type VariantTable } from '../kernels/variants';
import type { ExperimentConfigInput } from '../experiments/config';
import { trainCell } from '../train/trainCell';
import { presetByName } from '../experiments/presets/index';
import type { PresetCell, PresetCellResult, PresetReport, Scale } from '../experiments/presets/types';
import { validateConfig, type ValidationReport } from '../experiments/validate';
import type { PerItemArrays, RunOutcome, TrainMetricsRecord, TrainProgress } from '../train/records';
import { devicePeak, withPeakFractions, type PeakMeasurement } from '../kernels/fmaPeak/fmaPeak';
import { profileAmbient, withPeak, type RunProfile } from '../gpu/runProfile';
import { measurePagePeak, pageProfile, startPageProfiling, stopPageProfiling } from './pageProfile';

export interface PageEnv {
  ok: true;
  userAgent: string;
  adapter: Gpu['adapterInfo'];
  features: string[];
  limits: Record<string, number>;
  variants: VariantTable;
}

export interface PageUnavailable {
  ok: false;
  reason: GpuUnavailableError['reason'];
  message: string;
  userAgent: string;
}

/** Per-item arrays crossing to Node: typed arrays as base64 of their little-endian bytes. */
export interface EncodedPerItem {
  run: number;
  step: number;
  pCorrect: string;
  correct: string;
  loss: string;
}

/** What `runCell` returns (its records were already streamed through `muonlabRecord`). */
export interface CellSummary {
  cell: string;
  runs: Omit<RunOutcome, 'schedule'>[];
  steps: number;
  stopped: string;
  elapsedMs: number;
  finalPerItem: EncodedPerItem[];
  /** With `{ profile: true }`: per-kernel GPU time of every step, with fractions of the device peak. */
  profile?: RunProfile;
}

/** Options of runCell / runPreset: `profile` adds the run's per-kernel GPU profile. */
export interface RunOptions {
  profile?: boolean;
}

export interface MuonlabPageApi {
  ready: true;
  env(): Promise<PageEnv | PageUnavailable>;
  setVariantChoices(table: VariantTable): Promise<void>;
  selectVariants(): Promise<SelectionResult>;
  check(kernels: string[], scope?: 'full' | 'quick'): Promise<CheckRow[]>;
  bench(kernels: string[], options?: Omit<BenchOptions, 'onProgress'>): Promise<BenchRow[]>;
  /** Trains one sweep cell; records stream to `muonlabRecord` as they are read back. */
  runCell(config: ExperimentConfigInput, cell: string, options?: RunOptions): Promise<CellSummary>;
  /** Runs a named preset (docs/math.md §5) at a scale; progress through `muonlabProgress`. */
  runPreset(name: string, scale: Scale, options?: RunOptions): Promise<PresetReport & { profile?: RunProfile }>;
  /** This adapter's FMA peak and copy bandwidth (measured once per device). */
  peak(): Promise<PeakMeasurement>;
  /** Page profiling (src/ui/pageProfile.ts): every command buffer the page records, until stopped. */
  startProfiling(): Promise<void>;
  stopProfiling(): Promise<RunProfile | null>;
  /** The page profile so far (live while on), with peak fractions once the peak was measured. */
  currentProfile(): Promise<RunProfile | null>;
  /** `--validate`: the first steps of a small config on the GPU and the Float64 CPU reference. */
  validate(config: ExperimentConfigInput, steps?: number): Promise<ValidationReport>;
  /** A preset's independent cells at a scale (null: the preset has no cellular hook). */
  presetCells(name: string, scale: Scale): Promise<PresetCell[] | null>;
  /** Runs one cell of a cellular preset; returns its raw result (JSON). */
  runPresetCell(name: string, scale: Scale, cell: PresetCell): Promise<Record<string, unknown>>;
  /** The preset's report from every cell's raw result (for a resumed, sharded or merged run). */
  summarizePreset(name: string, scale: Scale, results: PresetCellResult[]): Promise<PresetReport>;
}

declare global {
  interface Window {
    muonlab?: MuonlabPageApi;
    muonlabProgress?: (message: string) => void;
    muonlabTrainProgress?: (event: TrainProgress) => void;
    muonlabRecord?: (cell: string, record: TrainMetricsRecord) => void;
    muonlabPerItem?: (cell: string, arrays: EncodedPerItem) => void;
  }
}

function progress(message: string): void {
  window.muonlabProgress?.(message);
}

/** JSON has no NaN/±Infinity: they cross as null rather than silently as 0 or a string. */
function jsonSafe<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))) as T;
}

function base64(bytes: ArrayBufferView): string {
  const u8 = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let s = '';
  for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode(...u8.subarray(i, i + 0x8000));
  return btoa(s);
}

function encodePerItem(a: PerItemArrays): EncodedPerItem {
  return { run: a.run, step: a.step, pCorrect: base64(a.pCorrect), correct: base64(a.correct), loss: base64(a.loss) };
}

/** A profile with fractions of this device's peak (measured once, after the run: not inside it). */
async function withDevicePeak(gpu: Gpu, profile: RunProfile): Promise<RunProfile> {
  const peak = await devicePeak(gpu, { onProgress: progress });
  return withPeak(profile, { gflops: peak.gflops, gbps: peak.gbps });
}

/** Installs `window.muonlab`; the GPU is acquired on first use and shared by every call. */
export function installAutomationApi(gpuPromise: Promise<Gpu>): MuonlabPageApi {
  const api: MuonlabPageApi = {
    ready: true,
    async env() {
      try {
        const gpu = await gpuPromise;
        return {
          ok: true,
          userAgent: navigator.userAgent,
          adapter: gpu.adapterInfo,
          features: gpu.features,
          limits: gpu.limits,
          variants: variantChoices(gpu),
        };
      } catch (err) {
        if (err instanceof GpuUnavailableError) {
          return { ok: false, reason: err.reason, message: err.message, userAgent: navigator.userAgent };
        }
        throw err;
      }
    },
    async setVariantChoices(table) {
      setVariantChoices(await gpuPromise, table);
    },
    async selectVariants() {
      return selectVariants(await gpuPromise, progress);
    },
    async check(kernels, scope = 'full') {
      const gpu = await gpuPromise;
      const rows: CheckRow[] = [];
      for (const name of kernels) {
        progress(`check ${name}`);
        rows.push(...(await kernelFamily(name).check(gpu, { scope })));
      }
      return rows;
    },
    async bench(kernels, options = {}) {
      const gpu = await gpuPromise;
      const rows: BenchRow[] = [];
      for (const name of kernels) {
        rows.push(...(await kernelFamily(name).bench(gpu, { ...options, onProgress: progress })));
      }
      const peak = await devicePeak(gpu, { onProgress: progress });
      return jsonSafe(withPeakFractions(rows, peak.gflops));
    },
    async runPreset(name, scale, options = {}) {
      const gpu = await gpuPromise;
      if (!options.profile) return jsonSafe(await presetByName(name).run(gpu, scale, progress));
      const { result, profile } = await profileAmbient(gpu, `${name}-${scale}`, () => presetByName(name).run(gpu, scale, progress));
      return jsonSafe({ ...result, profile: await withDevicePeak(gpu, profile) });
    },
    async peak() {
      return jsonSafe(await measurePagePeak(await gpuPromise, progress));
    },
    async startProfiling() {
      startPageProfiling(await gpuPromise);
    },
    async stopProfiling() {
      return jsonSafe(stopPageProfiling());
    },
    async currentProfile() {
      return jsonSafe(pageProfile());
    },
    async validate(config, steps) {
      return jsonSafe(await validateConfig(await gpuPromise, config, { steps, progress }));
    },
    async presetCells(name, scale) {
      return presetByName(name).cellular?.cells(scale) ?? null;
    },
    async runPresetCell(name, scale, cell) {
      const cellular = presetByName(name).cellular;
      if (!cellular) throw new RangeError(`preset ${name} is not split into cells`);
      return jsonSafe(await cellular.runCell(await gpuPromise, scale, cell, progress));
    },
    async summarizePreset(name, scale, results) {
      const cellular = presetByName(name).cellular;
      if (!cellular) throw new RangeError(`preset ${name} is not split into cells`);
      return jsonSafe(cellular.summarize(scale, results));
    },
    async runCell(config, cell, options = {}) {
      const gpu = await gpuPromise;
      const perItem = Boolean(config.metrics?.perItem);
      const result = await trainCell(gpu, config, {
        cell,
        onProgress: (event) => window.muonlabTrainProgress?.(event),
        onRecord: (record) => window.muonlabRecord?.(cell, jsonSafe(record)),
        onPerItem: perItem ? (arrays) => window.muonlabPerItem?.(cell, encodePerItem(arrays)) : undefined,
      }, { profile: options.profile }).catch(async (err: unknown) => {
        // A lost device surfaces first as whatever GPU call failed (often a readback's mapAsync);
        // say what happened instead, once device.lost has settled (it resolves just after).
        const reason = gpu.lostReason ?? (await Promise.race([gpu.lost.then((i) => `${i.reason}: ${i.message}`), new Promise<undefined>((ok) => setTimeout(ok, 200))]));
        if (reason !== undefined) throw new Error(`${cell}: the GPU device was lost (${reason}); the records read back so far are kept (--resume runs the cell again)`);
        throw err;
      });
      const profile = result.profile ? await withDevicePeak(gpu, result.profile) : undefined;
      return jsonSafe({
        cell,
        runs: result.runs.map(({ schedule: _schedule, ...run }) => run),
        steps: result.steps,
        stopped: result.stopped,
        elapsedMs: result.elapsedMs,
        finalPerItem: (result.finalPerItem?.runs ?? []).map(encodePerItem),
        ...(profile ? { profile } : {}),
      });
    },
  };
  window.muonlab = api;
  return api;
}
