/**
 * The host's cost of recording training steps, on its own: the steps of an experiment config's cell
 * (its run groups, task and gradient workspace, as trainCell builds them) recorded one at a time with
 * the GPU idle before each — so on a CPU adapter, whose "GPU" shares the cores, and on the Node host,
 * where Dawn runs in the same process, the time is the recording's and not the kernels'. Each step is
 * submitted (the buffers it writes are real) but nothing is read back.
 *
 * Used to measure what the step plan (src/gpu/dispatchPlan.ts) saves: dispatches per second of
 * recording time with and without it (bench/gpukernels/, bench/README.md).
 */
import { CommandRecorder } from '../gpu/commands';
import type { Gpu } from '../gpu/device';
import { DispatchPlan } from '../gpu/dispatchPlan';
import { parseExperimentConfig, type ExperimentConfigInput } from '../experiments/config';
import { createSoftmaxGradWorkspace, type SoftmaxGradResult } from '../kernels/softmaxGrad/softmaxGrad';
import { createGpuTask } from '../task/taskGpu';
import type { RecordingStats } from './records';
import { createRunGroups } from './runGroup';
import { planRuns } from './runPlan';
import { recordStep } from './stepRecording';

export interface RecordingCostOptions {
  /** Steps recorded (each an update step; no metric steps). */
  steps: number;
  /** Record through one DispatchPlan (true) or make every dispatch's objects afresh (false). */
  stepPlan: boolean;
}

/**
 * Records `steps` update steps of a config's cell and returns the host time spent recording and
 * submitting them, the GPU idle at the start of each.
 *
 * @example
 * const on = await measureRecording(gpu, config, { steps: 100, stepPlan: true });
 * const off = await measureRecording(gpu, config, { steps: 100, stepPlan: false });
 * console.log((1000 * on.dispatches) / on.recordMs, (1000 * off.dispatches) / off.recordMs); // dispatches per second
 */
export async function measureRecording(gpu: Gpu, input: ExperimentConfigInput, options: RecordingCostOptions): Promise<RecordingStats> {
  if (!Number.isInteger(options.steps) || options.steps < 1)
    throw new RangeError(`measureRecording: steps must be a positive integer, got ${options.steps}`);
  const config = parseExperimentConfig(input);
  if (config.sweep.length > 0) throw new RangeError(`measureRecording: "${config.name}" has sweep axes; give one cell`);
  const { runs, initial } = planRuns(config);
  const task = await createGpuTask(gpu, config.task);
  const workspace = createSoftmaxGradWorkspace(gpu);
  const plan = options.stepPlan ? new DispatchPlan(`recording cost ${config.name}`) : undefined;
  const stats: RecordingStats = { steps: 0, dispatches: 0, recordMs: 0, submitMs: 0 };
  const minibatchSize = config.training.mode === 'minibatch' ? (config.training.batchSize ?? 0) : undefined;
  const groups = createRunGroups(gpu, { task, taskConfig: config.task, runs, initial, minibatchSize });
  try {
    const context = { task, taskConfig: config.task, groups: groups.groups, gradOptions: { workspace }, stageWeights: false };
    for (let t = 0; t < options.steps; t++) {
      await gpu.device.queue.onSubmittedWorkDone();
      const rec = new CommandRecorder(gpu, undefined, `recording cost step ${t}`, plan);
      const transient: SoftmaxGradResult[] = [];
      try {
        const t0 = performance.now();
        await recordStep(rec, context, { t, update: true }, transient);
        const t1 = performance.now();
        await rec.submit();
        stats.recordMs += t1 - t0;
        stats.submitMs += performance.now() - t1;
        stats.steps++;
        stats.dispatches += rec.dispatched.length;
      } finally {
        for (const r of transient) r.destroy();
      }
    }
    await gpu.device.queue.onSubmittedWorkDone();
    return plan ? { ...stats, plan: plan.stats } : stats;
  } finally {
    groups.destroy();
    workspace.dispose();
    plan?.destroy();
    task.destroy();
  }
}
