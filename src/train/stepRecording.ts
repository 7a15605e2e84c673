/**
 * Step recording: the GPU work of one training step t for every run group of a cell, into one
 * command buffer (docs/architecture.md §2):
 *
 *   population: softmaxGrad(W_t, weights p) → outputs at W_t and G;  optimizer(G);  advanceRuns
 *   minibatch:  sampleMinibatch(step t) → softmaxGrad(W_t, draws) → G;  at metric steps also a
 *               population softmaxGrad(W_t) into the evaluation's own G;  optimizer(G);  advanceRuns
 *
 * At a metric step the per-item outputs and the run parameters (copied before the update, so the
 * flags describe W_t) — and, when asked for, W before and after the update and the `exact` polar
 * iteration's step changes — are copied into a staging set in the same command buffer, under the
 * keys of STAGED; src/train/recordExtraction.ts reads them back under the same keys.
 */
import { advanceRuns, RUN_PARAMS_BYTES } from '../gpu/runParams';
import type { CommandRecorder } from '../gpu/commands';
import { BYTES_PER_ELEMENT } from '../gpu/tensor';
import {
  softmaxGrad,
  SOFTMAX_OUTPUT_COLUMNS,
  outputColumn,
  type SoftmaxGradResult,
  type SoftmaxGradWorkspace,
} from '../kernels/softmaxGrad/softmaxGrad';
import type { TaskConfig } from '../task/task';
import { sampleMinibatch, type GpuTask } from '../task/taskGpu';
import { freezeNonFiniteLoss } from './freezeNonFinite';
import type { StagingSet } from './readback';
import type { RunGroup } from './runGroup';

const OUTPUT_COLUMNS = SOFTMAX_OUTPUT_COLUMNS.length;

/** Staging keys of group `gi`'s copies at a metric step: shared by recording and extraction. */
export const STAGED = {
  outputs: (gi: number) => `outputs ${gi}`,
  params: (gi: number) => `params ${gi}`,
  minibatchOutputs: (gi: number) => `minibatch ${gi}`,
  weightsBefore: (gi: number) => `W ${gi}`,
  weightsAfter: (gi: number) => `W after ${gi}`,
  exactPolar: (gi: number) => `exact ${gi}`,
} as const;

/** What every step of a cell shares. */
export interface StepContext {
  task: GpuTask;
  taskConfig: TaskConfig;
  groups: readonly RunGroup[];
  /** Passed to every softmaxGrad call (a shared workspace, test-forced chunking). */
  gradOptions: { chunkSize?: number; queryBlock?: number; workspace: SoftmaxGradWorkspace };
  /** metrics.isotropy: stage W before and after each update at metric steps. */
  stageWeights: boolean;
}

export interface StepPlan {
  t: number;
  /** Whether W_t is updated (every step but the last, t = T). */
  update: boolean;
  /** The staging set of a metric step; undefined otherwise. */
  staging?: StagingSet;
}

/**
 * Records step t for every group into `rec`. The softmax results it creates are pushed to
 * `transient` as they are made (also when a later call throws); the caller destroys them after the
 * command buffer is submitted.
 *
 * @example
 * const transient: SoftmaxGradResult[] = [];
 * try { await recordStep(rec, context, { t, update: t < T, staging }, transient); await rec.submit(); }
 * finally { for (const r of transient) r.destroy(); }
 */
export async function recordStep(
  rec: CommandRecorder,
  context: StepContext,
  step: StepPlan,
  transient: SoftmaxGradResult[],
): Promise<void> {
  const { task, taskConfig, gradOptions } = context;
  const { t, update, staging } = step;
  const N = taskConfig.N;
  for (const [gi, g] of context.groups.entries()) {
    const Rg = g.runs.length;
    const matrixBytes = Rg * g.W.rows * g.W.cols * BYTES_PER_ELEMENT;
    const common = { W: g.W, embeddings: task.embeddings, noise: taskConfig.noise, noiseTarget: taskConfig.noiseTarget, ...gradOptions };
    const population = { kind: 'population' as const, weights: task.weights };
    // Slot scopes (CommandRecorder.inSlotScope): each group's pieces keep their dispatch plan slots
    // whether or not this step evaluates the population or updates.
    const scoped = <T>(piece: string, record: () => Promise<T>) => rec.inSlotScope(`group ${gi} ${piece}`, record);
    let evaluation: SoftmaxGradResult | undefined;
    if (!g.minibatch) {
      evaluation = await scoped('evaluation', () => softmaxGrad(rec, { ...common, G: g.G, targets: population }));
      transient.push(evaluation);
    } else {
      const { seeds, items, labels, evalG } = g.minibatch;
      if (update) {
        const drawn = await scoped('minibatch', async () => {
          await sampleMinibatch(rec, {
            seeds,
            thresholds: task.thresholds,
            thresholdCount: task.thresholdCount,
            N,
            noise: taskConfig.noise,
            step: t,
            items,
            labels,
          });
          return softmaxGrad(rec, { ...common, G: g.G, targets: { kind: 'minibatch', items, labels } });
        });
        transient.push(drawn);
        staging?.copy(
          rec.encoder,
          STAGED.minibatchOutputs(gi),
          drawn.outputs.buffer,
          0,
          Rg * items.rows * OUTPUT_COLUMNS * BYTES_PER_ELEMENT,
        );
      }
      if (staging) {
        evaluation = await scoped('evaluation', () => softmaxGrad(rec, { ...common, G: evalG, targets: population }));
        transient.push(evaluation);
      }
    }
    if (staging && evaluation) {
      staging.copy(rec.encoder, STAGED.outputs(gi), evaluation.outputs.buffer, 0, Rg * N * OUTPUT_COLUMNS * BYTES_PER_ELEMENT);
      staging.copy(rec.encoder, STAGED.params(gi), g.params.buffer, 0, Rg * RUN_PARAMS_BYTES);
      if (context.stageWeights) staging.copy(rec.encoder, STAGED.weightsBefore(gi), g.W.buffer, 0, matrixBytes);
    }
    if (update) {
      await scoped('update', async () => {
        await g.optimizer.step(rec, { w: g.W, g: g.G, params: g.params });
        await advanceRuns(rec, g.params);
      });
      const exact = g.optimizer.exactPolarReadback;
      if (staging && exact) staging.copy(rec.encoder, STAGED.exactPolar(gi), exact.buffer, 0, exact.bytes);
      if (staging && context.stageWeights) staging.copy(rec.encoder, STAGED.weightsAfter(gi), g.W.buffer, 0, matrixBytes);
    }
    // After the update, as the host-side freeze used to land: W_{t+1} is already taken, the run is
    // frozen from step t + 1 on.
    if (evaluation) {
      const outputs = evaluation.outputs;
      await scoped('loss guard', () =>
        freezeNonFiniteLoss(rec, {
          params: g.params,
          outputs,
          weights: task.weights,
          items: N,
          columns: OUTPUT_COLUMNS,
          lossColumn: outputColumn('loss'),
          step: t,
        }),
      );
    }
  }
}
