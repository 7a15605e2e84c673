/**
 * The training scheduler: one sweep cell (an ExperimentConfig without sweep axes) — every optimizer
 * entry × runSeed — trained entirely on the GPU (docs/architecture.md §2).
 *
 * The pieces, one concern each: src/train/runPlan.ts resolves the runs and groups them by optimizer
 * kernel; src/train/runGroup.ts makes each group's batched buffers and optimizer (and frees them);
 * src/train/stepRecording.ts records step t of every group into one command buffer;
 * src/train/recordExtraction.ts turns a metric step's readback into records. This file schedules
 * them: at metric steps (t % metrics.every = 0 and the last step) the step's outputs are copied into
 * one of two sets of staging buffers (src/train/readback.ts); the set is mapped while the next steps
 * are encoded and submitted, and consumed after the next metric step was submitted, so the queue
 * never waits for the host (`options.readback: 'synchronous'` consumes it at once: same results).
 * Submits do not wait for the GPU; at most MAX_STEPS_IN_FLIGHT steps are queued. A run whose update
 * is non-finite is frozen by the update kernels; one whose loss is non-finite by the loss guard
 * (src/train/freezeNonFinite.ts) in the same command buffer — no readback needed. A stop rule
 * decided at a metric step drops the readbacks of the steps already queued after it.
 *
 * Every step records through one DispatchPlan (src/gpu/dispatchPlan.ts): a step's dispatches are the
 * same kernels on the same buffers each time, so their uniform buffers and bind groups are made at
 * the first steps and reused — only uniform contents that change (the step number of the sampler and
 * the loss guard) are rewritten. `options.stepPlan: false` records every dispatch afresh; the results
 * are the same bit for bit (test/train.browser.test.ts). CellResult.recording reports the host's
 * recording cost either way.
 */
import { CommandRecorder } from '../gpu/commands';
import { DispatchPlan } from '../gpu/dispatchPlan';
import type { Gpu } from '../gpu/device';
import { writeListLearningRates } from '../optim';
import { createSoftmaxGradWorkspace, type SoftmaxGradResult } from '../kernels/softmaxGrad/softmaxGrad';
import { parseExperimentConfig, type ExperimentConfig, type ExperimentConfigInput } from '../experiments/config';
import { createGpuTask, type GpuTask } from '../task/taskGpu';
import { startRunProfile } from '../gpu/runProfile';
import { ReadbackRing, type StagingSet } from './readback';
import { RecordExtractor } from './recordExtraction';
import { createRunGroups, type RunGroups } from './runGroup';
import { planRuns } from './runPlan';
import { etaMs, isMetricStep, itemBuckets, rankOf, rankOrder, stopDecision, type StopReason } from './rules';
import { recordStep } from './stepRecording';
import type { CellResult, RecordingStats, TrainHooks, TrainOptions } from './records';

/**
 * Encoding may run this many steps ahead of the GPU: enough to keep the queue fed while the host
 * encodes, few enough that progress, ETA and cancellation stay close to what the GPU has done.
 */
const MAX_STEPS_IN_FLIGHT = 3;

/**
 * Runs one cell: every optimizer × runSeed of `config`, T = training.steps steps, metrics at their
 * cadence. Returns the records, the final per-item arrays and why it stopped.
 *
 * @example
 * const result = await trainCell(gpu, parseExperimentConfig(json), {
 *   onProgress: (e) => console.log(e.step, '/', e.steps), onRecord: (r) => lines.push(JSON.stringify(r)) });
 */
export async function trainCell(
  gpu: Gpu,
  input: ExperimentConfig | ExperimentConfigInput,
  hooks: TrainHooks = {},
  options: TrainOptions = {},
): Promise<CellResult> {
  const config = parseExperimentConfig(input);
  if (config.sweep.length > 0) throw new RangeError(`trainCell: "${config.name}" has sweep axes; expand it into cells first (expandSweep)`);
  const cell = hooks.cell ?? config.name;
  const { N, dIn, dOut } = config.task;
  const T = config.training.steps;
  if (options.task) {
    const c = options.task.config;
    if (c.N !== N || c.dIn !== dIn || c.dOut !== dOut || c.embedding !== config.task.embedding || c.taskSeed !== config.task.taskSeed) {
      throw new RangeError(
        `trainCell: options.task (N ${c.N}, ${c.dIn}→${c.dOut}, ${c.embedding}, taskSeed ${c.taskSeed}) is not the config's task`,
      );
    }
  }
  // Everything parsed and resolved before any GPU object exists, so a bad config leaks nothing.
  const { runs, initial } = planRuns(config);

  // Profiling (options.profile): timestamp queries around every pass; off, nothing is made.
  const profiling = options.profile ? startRunProfile(gpu, cell) : undefined;
  const ownsTask = !options.task;
  const task: GpuTask = options.task ?? (await createGpuTask(gpu, config.task));
  let groups: RunGroups | undefined;
  let ring: ReadbackRing | undefined;
  // The gradient's work buffers, created at the first step and reused by every later one.
  const gradWorkspace = createSoftmaxGradWorkspace(gpu);
  // The steps' uniform buffers and bind groups, likewise (see the header).
  const plan = options.stepPlan === false ? undefined : new DispatchPlan(`train ${cell}`);
  const recording: RecordingStats = { steps: 0, dispatches: 0, recordMs: 0, submitMs: 0 };
  try {
    groups = createRunGroups(gpu, {
      task,
      taskConfig: config.task,
      runs,
      initial,
      minibatchSize: config.training.mode === 'minibatch' ? (config.training.batchSize ?? 0) : undefined,
    });
    const order = rankOrder(task.frequencies);
    const evalOrder = order.subarray(0, Math.min(N, config.metrics.evalItems ?? N));
    const buckets = itemBuckets(config.task, rankOf(order));
    const extractor = new RecordExtractor(
      runs,
      groups.groups,
      {
        frequencies: task.frequencies,
        evalOrder,
        evalBuckets: Array.from(evalOrder, (i) => buckets[i]),
        taus: config.metrics.tau,
        lossMultiple: config.training.divergence.lossMultiple,
      },
      hooks,
    );
    const stepContext = {
      task,
      taskConfig: config.task,
      groups: groups.groups,
      gradOptions: { chunkSize: options.chunkSize, queryBlock: options.queryBlock, workspace: gradWorkspace },
      stageWeights: config.metrics.isotropy,
    };
    let finalPerItem: CellResult['finalPerItem'] = null;
    let stopped: StopReason = 'steps';
    let lastStep = 0;
    const started = performance.now();

    const depth = options.readback === 'synchronous' ? 1 : 2;
    ring = new ReadbackRing(gpu, depth, cell);
    /** Metric steps submitted and not consumed yet, oldest first (at most depth − 1 after each step). */
    const pending: { t: number; set: StagingSet; update: boolean }[] = [];
    /** Steps submitted whose progress event is not out yet (see flushProgress). */
    const progressQueue: number[] = [];
    /** onSubmittedWorkDone of the steps in flight: bounds how far encoding runs ahead of the GPU. */
    const inFlight: Promise<void>[] = [];
    let consumedUpTo = -1;

    // A step's progress goes out once no earlier metric step is still unread: such a readback may
    // stop the cell (target loss, capacity stall) at its own step, and later steps would not count.
    const flushProgress = () => {
      while (progressQueue.length > 0) {
        const s = progressQueue[0];
        if (s > consumedUpTo && pending.some((p) => p.t < s)) break;
        progressQueue.shift();
        const elapsedMs = performance.now() - started;
        hooks.onProgress?.({ cell, step: s, steps: T, elapsedMs, etaMs: etaMs(elapsedMs, s + 1, T + 1) });
      }
    };

    /** Turns the oldest pending readback into records; returns the stop rules' decision at its step. */
    const consumeOldest = async (): Promise<StopReason | null> => {
      const { t, set, update } = pending[0];
      await set.ready();
      pending.shift();
      try {
        finalPerItem = { step: t, runs: extractor.extract(set, t, update) };
        lastStep = t;
        consumedUpTo = t;
        return stopDecision(extractor.history, config.training.stop);
      } finally {
        set.release();
      }
    };

    let stop: StopReason | null = null;
    for (let t = 0; t <= T && !stop; t++) {
      if (hooks.whilePaused) await hooks.whilePaused();
      if (hooks.signal?.aborted) {
        stopped = 'cancelled';
        break;
      }
      const update = t < T;
      if (update)
        for (const g of groups.groups)
          writeListLearningRates(
            gpu,
            g.params,
            g.runs.map((r) => r.schedule),
            t + 1,
          );
      const rec = new CommandRecorder(gpu, profiling?.profiler, `train ${cell} step ${t}`, plan);
      const transient: SoftmaxGradResult[] = [];
      const set = isMetricStep(t, config.metrics.every, T) ? ring.acquire() : undefined;
      try {
        const recordStart = performance.now();
        await recordStep(rec, stepContext, { t, update, staging: set }, transient);
        recording.recordMs += performance.now() - recordStart;
        if (inFlight.length >= MAX_STEPS_IN_FLIGHT) await inFlight.shift();
        const submitStart = performance.now();
        await rec.submit();
        recording.submitMs += performance.now() - submitStart;
        recording.steps++;
        recording.dispatches += rec.dispatched.length;
        inFlight.push(gpu.device.queue.onSubmittedWorkDone().catch(() => undefined));
      } finally {
        for (const r of transient) r.destroy();
      }
      if (set) {
        set.startMap();
        pending.push({ t, set, update });
      }
      progressQueue.push(t);
      flushProgress();
      while (pending.length > depth - 1 && !stop) stop = await consumeOldest();
      if (!stop) flushProgress();
    }
    // The end (or a cancel): read what is still pending, unless a stop rule already ended the cell
    // at an earlier step (then later steps' readbacks are dropped).
    while (pending.length > 0 && !stop) stop = await consumeOldest();
    if (stop) {
      stopped = stop;
      progressQueue.splice(0, progressQueue.length, ...progressQueue.filter((s) => s <= consumedUpTo));
      pending.length = 0;
    }
    flushProgress();
    return {
      cell,
      runs: extractor.outcomes(),
      records: extractor.records,
      finalPerItem,
      steps: lastStep,
      stopped,
      elapsedMs: performance.now() - started,
      recording: plan ? { ...recording, plan: plan.stats } : recording,
      ...(profiling ? { profile: profiling.summarize() } : {}),
    };
  } finally {
    // Mappings still in flight (an error, or a stop rule that dropped later readbacks) settle first.
    await ring?.destroy();
    groups?.destroy();
    gradWorkspace.dispose();
    plan?.destroy();
    if (ownsTask) task.destroy();
    profiling?.destroy();
  }
}
