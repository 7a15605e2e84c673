/**
 * What a training cell produces (src/train/trainCell.ts): one metrics record per run per metric
 * step, per-item arrays through a hook, progress events, and the cell's result. Plain data, so the
 * page can stream records to Node as JSON (non-finite numbers: see finiteOrNull in results.ts).
 */
import type { BucketStats } from '../metrics/recall';
import type { Isotropy } from '../metrics/isotropy';
import type { OptimizerConfig } from '../optim/config';
import type { ResolvedSchedule } from '../optim/schedule';
import type { GpuTask } from '../task/taskGpu';
import type { StopReason } from './rules';
import type { DispatchPlanStats } from '../gpu/dispatchPlan';
import type { RunProfile } from '../gpu/runProfile';

/** One run of the cell: an optimizer entry × a runSeed. Run index = entry·seeds + seed index. */
export interface RunInfo {
  run: number;
  /** entry.label ?? entry.name. */
  optimizer: string;
  optimizerName: OptimizerConfig['name'];
  optimizerIndex: number;
  runSeed: number;
  seedIndex: number;
  /** The complete optimizer config (defaults filled in). */
  config: OptimizerConfig;
  schedule: ResolvedSchedule;
}

export interface TrainMetricsRecord {
  run: number;
  optimizer: string;
  optimizerName: OptimizerConfig['name'];
  runSeed: number;
  /** t: the record describes W_t (after t optimizer steps). */
  step: number;
  /** η of the run's next step (η_{t+1}), as the run-parameters buffer holds it. */
  lr: number;
  /** Population loss Σ_i p_i·loss_i (Float64 sum of the GPU's per-item losses; with label noise the expected cross-entropy under t(·|i)). */
  loss: number;
  /** Minibatch mode: the mean loss of the B draws of step t at W_t (absent at the last step, which draws none). */
  minibatchLoss?: number;
  /** Items the recall metrics cover (the first `metrics.evalItems` by frequency rank, default N). */
  evalItems: number;
  capacity: number;
  capacityPrefix: number;
  delta: number;
  maxPCorrect: number;
  minPCorrect: number;
  buckets: BucketStats[];
  diverged: boolean;
  /** Step whose update (or loss) was non-finite, or whose loss passed the growth bound; null while running. */
  divergedAtStep: number | null;
  /** Why it diverged (null while running). */
  divergedReason?: DivergedReason | null;
  /** metrics.isotropy: of W_t, and of the update W_t − W_{t+1} (null at the last step). */
  isotropy?: { w: Isotropy; update: Isotropy | null };
  /** Muon with orth 'exact', at metric steps with an update: the GPU polar iteration's steps, its residual (the step change ‖X_k − X_{k−1}‖_F at the returned step) and whether the stop rule's tolerance was reached (docs/math.md §2.6). */
  orthExact?: { steps: number; stepChange: number; converged?: boolean };
}

/** Per-item arrays of one run at one metric step (all N items, item order). */
export interface PerItemArrays {
  run: number;
  step: number;
  pCorrect: Float32Array;
  correct: Uint8Array;
  loss: Float32Array;
}

export interface TrainProgress {
  cell: string;
  /** Steps done (0 … steps). */
  step: number;
  steps: number;
  elapsedMs: number;
  /** null before the first step finished. */
  etaMs: number | null;
}

export interface TrainHooks {
  /** Cell id for progress events (default: config.name). */
  cell?: string;
  /** Cancels between steps; the cell then returns with `stopped: 'cancelled'`. */
  signal?: AbortSignal;
  /** Awaited before each step (ahead of the cancel check): a promise that is still pending pauses the cell. */
  whilePaused?(): Promise<void> | void;
  onProgress?(event: TrainProgress): void;
  /** Each record as soon as it is read back. */
  onRecord?(record: TrainMetricsRecord): void;
  /** Per-item arrays of every run at every metric step (set it when metrics.perItem asks for files). */
  onPerItem?(arrays: PerItemArrays): void;
}

export interface TrainOptions {
  /** A task already on the GPU (shared across cells with the same task); trainCell does not destroy it. */
  task?: GpuTask;
  /** Passed to softmaxGrad (tests force chunking with it). */
  chunkSize?: number;
  queryBlock?: number;
  /**
   * 'pipelined' (default): a metric step's readback is consumed after the next metric step was
   * submitted, so the queue never waits for the host; 'synchronous': consumed at once (same results).
   */
  readback?: 'pipelined' | 'synchronous';
  /** Per-kernel GPU time from timestamp queries (CellResult.profile); steps then wait for the GPU. */
  profile?: boolean;
  /**
   * Record the steps through one DispatchPlan (src/gpu/dispatchPlan.ts, default true): uniform
   * buffers and bind groups are made at the first steps and reused; false makes them for every
   * dispatch of every step (the form before plans: CellResult.recording compares the two).
   */
  stepPlan?: boolean;
}

/** The host's side of a cell's steps: how many dispatches it recorded and how long that took. */
export interface RecordingStats {
  steps: number;
  dispatches: number;
  /** Host milliseconds inside the steps' recording (recordStep: checks, packing, encoding). */
  recordMs: number;
  /** Host milliseconds inside the submits (encoder finish, queue submit, the error scopes' answers). */
  submitMs: number;
  /** With a step plan: what it created and how many uniform contents it rewrote. */
  plan?: DispatchPlanStats;
}

/**
 * `non-finite`: an update or the loss was NaN/±∞ (the run is frozen on the GPU); `loss-growth`: the
 * loss passed training.divergence.lossMultiple × its step-0 value.
 */
export type DivergedReason = 'non-finite' | 'loss-growth';

export interface RunOutcome extends RunInfo {
  diverged: boolean;
  divergedAtStep: number | null;
  divergedReason: DivergedReason | null;
  /** Per τ of metrics.tau: the earliest metric step where max_i pCorrect_i ≥ 1 − τ (null if never). */
  firstCrossing: Record<string, number | null>;
}

export interface CellResult {
  cell: string;
  runs: RunOutcome[];
  records: TrainMetricsRecord[];
  /** pCorrect / correct of every run at the last evaluated step (null if cancelled before step 0). */
  finalPerItem: { step: number; runs: PerItemArrays[] } | null;
  /** The last evaluated step t (W_t is what the final records describe). */
  steps: number;
  stopped: StopReason;
  elapsedMs: number;
  /** With options.profile: per-kernel GPU time of every step (src/gpu/runProfile.ts). */
  profile?: RunProfile;
  /** Host cost of recording the steps (dispatches per second = dispatches / recordMs · 1000). */
  recording?: RecordingStats;
}
