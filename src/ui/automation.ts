/**
 * The automation API the CLI drives: `window.muonlab` in the page (called through Playwright by
 * harness/session.ts), or the same object in Node on Dawn (harness/nodeHost.ts). Methods take and
 * return plain JSON; progress, records and per-item arrays go back through the host's callbacks as
 * they are produced, so long work reports as it goes and a crash loses only what was in flight.
 * Nothing here knows which host it runs on beyond the GPU it is given.
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
import type { PerItemArrays, RecordingStats, RunOutcome, TrainMetricsRecord, TrainProgress } from '../train/records';
import { measureRecording, type RecordingCostOptions } from '../train/recordingCost';
import { devicePeak, withPeakFractions, type PeakMeasurement } from '../kernels/fmaPeak/fmaPeak';
import { profileAmbient, withPeak, type RunProfile } from '../gpu/runProfile';
import { measurePagePeak, pageProfile, startPageProfiling, stopPageProfiling } from './pageProfile';
import { runTransformerJob, type TransformerJobOptions, type TransformerJobSummary } from '../model/job';
import type { TransformerConfigInput } from '../model/config';
import type { TransformerRecord } from '../model/trainer';

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
  /** The host's cost of recording the steps (dispatches, milliseconds, the step plan's allocations). */
  recording?: RecordingStats;
}

/** One preset cell's raw result (stored form) and, when asked for, its GPU profile. */
export interface PresetCellRun {
  result: Record<string, unknown>;
  profile?: RunProfile;
}

/** Options of runCell / runPreset / runPresetCell: `profile` adds the run's per-kernel GPU profile. */
export interface RunOptions {
  profile?: boolean;
  /** runCell: false records every step's dispatches afresh (TrainOptions.stepPlan; measurements). */
  stepPlan?: boolean;
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
  /** The host's cost of recording a cell's steps, the GPU idle before each (harness/recordingCost.ts). */
  measureRecording(config: ExperimentConfigInput, options: RecordingCostOptions): Promise<RecordingStats>;
  /**
   * Trains a transformer config (src/model/); records stream to `muonlabTransformerRecord`, checkpoints
   * (base64) to `muonlabCheckpoint`. `resume`: a checkpoint (base64) of this config to continue from.
   */
  runTransformer(
    config: TransformerConfigInput,
    options?: TransformerJobOptions & RunOptions,
  ): Promise<TransformerJobSummary & { profile?: RunProfile }>;
  /** A preset's independent cells at a scale (what `cells/<id>/` folders hold). */
  presetCells(name: string, scale: Scale): Promise<PresetCell[]>;
  /**
   * Runs one cell of a preset; returns its raw result in its stored form (cells/<id>/result.json)
   * and, with `{ profile: true }`, the cell's per-kernel GPU profile.
   */
  runPresetCell(name: string, scale: Scale, cell: PresetCell, options?: RunOptions): Promise<PresetCellRun>;
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
    muonlabTransformerRecord?: (record: TransformerRecord) => void;
    muonlabCheckpoint?: (base64: string, step: number) => Promise<void>;
  }
}

/** Where the API reports to: the page forwards to `window.muonlab*`, the Node host to the CLI. */
export interface AutomationIo {
  /** What `env()` reports as the user agent (the browser's, or Node and Dawn's versions). */
  userAgent: string;
  progress?: (message: string) => void;
  trainProgress?: (event: TrainProgress) => void;
  record?: (cell: string, record: TrainMetricsRecord) => void;
  perItem?: (cell: string, arrays: EncodedPerItem) => void;
  transformerRecord?: (record: TransformerRecord) => void;
  /** Awaited before training goes on, so a run killed afterwards finds the file written. */
  checkpoint?: (base64: string, step: number) => Promise<void> | void;
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

/**
 * The API over one GPU (acquired once, shared by every call), reporting through `io`.
 *
 * @example
 * const api = createAutomationApi(requestGpu({ gpu: dawnGpu }), { userAgent: 'Node', progress: console.log });
 * const rows = await api.check(['matmul'], 'quick');
 */
export function createAutomationApi(gpuPromise: Promise<Gpu>, io: AutomationIo): MuonlabPageApi {
  const progress = (message: string): void => io.progress?.(message);
  // A profile with fractions of this device's peak (measured once, after the run: not inside it).
  const withDevicePeak = async (gpu: Gpu, profile: RunProfile): Promise<RunProfile> => {
    const peak = await devicePeak(gpu, { onProgress: progress });
    return withPeak(profile, { gflops: peak.gflops, gbps: peak.gbps });
  };
  return {
    ready: true,
    async env() {
      try {
        const gpu = await gpuPromise;
        return {
          ok: true,
          userAgent: io.userAgent,
          adapter: gpu.adapterInfo,
          features: gpu.features,
          limits: gpu.limits,
          variants: variantChoices(gpu),
        };
      } catch (err) {
        if (err instanceof GpuUnavailableError) {
          return { ok: false, reason: err.reason, message: err.message, userAgent: io.userAgent };
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
    async runTransformer(config, options = {}) {
      const gpu = await gpuPromise;
      const job = () =>
        runTransformerJob(gpu, config, options, {
          record: (r) => io.transformerRecord?.(jsonSafe(r)),
          checkpoint: async (bytes, step) => io.checkpoint?.(base64(bytes), step),
          progress: (event) => io.trainProgress?.(event),
        });
      if (!options.profile) return jsonSafe(await job());
      const { result, profile } = await profileAmbient(gpu, config.name ?? 'transformer', job);
      return jsonSafe({ ...result, profile: await withDevicePeak(gpu, profile) });
    },
    async presetCells(name, scale) {
      return presetByName(name).cells(scale);
    },
    async runPresetCell(name, scale, cell, options = {}) {
      const gpu = await gpuPromise;
      const preset = presetByName(name);
      // The result is already JSON (non-finite numbers encoded, src/experiments/presets/cellJson.ts).
      if (!options.profile) return { result: await preset.runCell(gpu, scale, cell.id, progress) };
      const { result, profile } = await profileAmbient(gpu, `${name}-${scale} ${cell.id}`, () =>
        preset.runCell(gpu, scale, cell.id, progress),
      );
      return { result, profile: jsonSafe(await withDevicePeak(gpu, profile)) };
    },
    async summarizePreset(name, scale, results) {
      return jsonSafe(presetByName(name).summarize(scale, results));
    },
    async measureRecording(config, options) {
      return measureRecording(await gpuPromise, config, options);
    },
    async runCell(config, cell, options = {}) {
      const gpu = await gpuPromise;
      const perItem = Boolean(config.metrics?.perItem);
      const result = await trainCell(
        gpu,
        config,
        {
          cell,
          onProgress: (event) => io.trainProgress?.(event),
          onRecord: (record) => io.record?.(cell, jsonSafe(record)),
          onPerItem: perItem ? (arrays) => io.perItem?.(cell, encodePerItem(arrays)) : undefined,
        },
        { profile: options.profile, stepPlan: options.stepPlan },
      ).catch(async (err: unknown) => {
        // A lost device surfaces first as whatever GPU call failed (often a readback's mapAsync);
        // say what happened instead, once device.lost has settled (it resolves just after).
        const reason =
          gpu.lostReason ??
          (await Promise.race([gpu.lost.then((i) => `${i.reason}: ${i.message}`), new Promise<undefined>((ok) => setTimeout(ok, 200))]));
        if (reason !== undefined)
          throw new Error(
            `${cell}: the GPU device was lost (${reason}); the records read back so far are kept (--resume runs the cell again)`,
            { cause: err },
          );
        throw err;
      });
      const profile = result.profile ? await withDevicePeak(gpu, result.profile) : undefined;
      return jsonSafe({
        cell,
        runs: result.runs.map(({ schedule: _schedule, ...run }) => run),
        steps: result.steps,
        stopped: result.stopped,
        elapsedMs: result.elapsedMs,
        recording: result.recording,
        finalPerItem: (result.finalPerItem?.runs ?? []).map(encodePerItem),
        ...(profile ? { profile } : {}),
      });
    },
  };
}

/** Installs `window.muonlab` in the page, reporting through the functions the harness exposes. */
export function installAutomationApi(gpuPromise: Promise<Gpu>): MuonlabPageApi {
  const api = createAutomationApi(gpuPromise, {
    userAgent: navigator.userAgent,
    progress: (message) => window.muonlabProgress?.(message),
    trainProgress: (event) => window.muonlabTrainProgress?.(event),
    record: (cell, record) => window.muonlabRecord?.(cell, record),
    perItem: (cell, arrays) => window.muonlabPerItem?.(cell, arrays),
    transformerRecord: (record) => window.muonlabTransformerRecord?.(record),
    checkpoint: (data, step) => window.muonlabCheckpoint?.(data, step),
  });
  window.muonlab = api;
  return api;
}
