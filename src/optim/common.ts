/**
 * What the optimizer files share: the per-run parameters a config sets in the run-parameters
 * buffer, and the two-pass (CHECK, then APPLY) elementwise update dispatch that freezes a run whose
 * candidate update is non-finite (shaders/optimizers/gd.wgsl explains the passes).
 */
import type { CommandRecorder } from '../gpu/commands';
import type { Gpu } from '../gpu/device';
import type { KernelDefinition } from '../gpu/registry';
import { RUN_PARAM_FIELDS, RUN_PARAMS_BYTES, type RunParamsBuffer, type RunParamValues } from '../gpu/runParams';
import { createTensor, type Tensor } from '../gpu/tensor';
import { FLAG_DECOUPLED, FLAG_EMA, FLAG_NESTEROV } from '../cpu/optim';
import type { OptimizerConfig } from './config';
import { learningRateAt, resolveSchedule, type ProblemDims, type ResolvedSchedule } from './schedule';

export { FLAG_DECOUPLED, FLAG_EMA, FLAG_NESTEROV };

export interface MatrixShape {
  batch: number;
  rows: number;
  cols: number;
}

/** One step's operands: the parameters W and gradient G (both R×rows×cols), and the runs' params. */
export interface StepOperands {
  w: Tensor;
  g: Tensor;
  params: RunParamsBuffer;
}

export interface GpuOptimizer {
  readonly name: OptimizerConfig['name'];
  readonly shape: MatrixShape;
  /** Optimizer state tensors by name (momentum, second moment…), R×rows×cols each. */
  readonly state: Record<string, Tensor<'f32'>>;
  /** Records one step for every run of the batch (diverged runs stay frozen). */
  step(rec: CommandRecorder, operands: StepOperands): Promise<void>;
  /** Only optimizers that orthogonalize with the GPU `exact` polar iteration (Muon) have it. */
  readonly exactPolarReadback?: ExactPolarReadback;
  destroy(): void;
}

/**
 * Where the GPU `exact` polar iteration leaves each run's step changes after a step, so the
 * training scheduler can copy them with a metric step's readback (no stall) and decode the copy
 * into the iteration's stop decisions (TrainMetricsRecord.orthExact).
 *
 * @example
 * if (optimizer.exactPolarReadback) staging.copy(encoder, 'exact', optimizer.exactPolarReadback.buffer, 0, optimizer.exactPolarReadback.bytes);
 * // later, from the mapped copy:
 * const perRun = optimizer.exactPolarReadback.decode(copy); // [{ steps, stepChange, converged }, …] one per run
 */
export interface ExactPolarReadback {
  /** Written by the last recorded step; its first `bytes` bytes cover every run of the batch. */
  readonly buffer: GPUBuffer;
  readonly bytes: number;
  /** Per run: the steps of the returned iterate, its residual (the step change ‖X_k − X_{k−1}‖_F there) and whether it converged. */
  decode(copy: ArrayBuffer): { steps: number; stepChange: number; converged: boolean }[];
}

/**
 * The RunParams values a config sets for one run (η from its schedule, β's, flags…).
 *
 * @example
 * runParamsFor(parseOptimizerConfig({ name: 'adam', lr: 1e-3 }), { rows: 64, cols: 64, dims });
 */
export function runParamsFor(
  config: OptimizerConfig,
  where: { rows: number; cols: number; dims?: ProblemDims; steps?: number; seed?: number },
): { params: Partial<RunParamValues>; schedule: ResolvedSchedule } {
  const dims = where.dims ?? { d_in: where.cols, d_out: where.rows, N: Number.NaN };
  const schedule = resolveSchedule(config.lr, dims, where.steps, 'optimizer.lr');
  const params: Partial<RunParamValues> = {
    lr: schedule.initial,
    lrBase: schedule.initial,
    lrGrowth: schedule.growth,
    seed: where.seed ?? 0,
    scale: 1,
  };
  switch (config.name) {
    case 'gd':
    case 'sgd':
      Object.assign(params, { momentum: config.momentum, flags: config.nesterov ? FLAG_NESTEROV : 0 });
      break;
    case 'adam':
    case 'adamw':
      Object.assign(params, {
        beta1: config.beta1,
        beta2: config.beta2,
        eps: config.eps,
        weightDecay: config.weightDecay,
        flags: config.name === 'adamw' ? FLAG_DECOUPLED : 0,
      });
      break;
    case 'muon':
      Object.assign(params, {
        momentum: config.momentum,
        flags: (config.nesterov ? FLAG_NESTEROV : 0) | (config.momentumForm === 'ema' ? FLAG_EMA : 0),
        scale: config.shapeScale ? Math.sqrt(Math.max(1, where.rows / where.cols)) : 1,
      });
      break;
    case 'muon-reg':
      Object.assign(params, { lambda: config.lambda });
      break;
    default:
      break;
  }
  return { params, schedule };
}

export function checkOperands(name: string, shape: MatrixShape, { w, g, params }: StepOperands): void {
  for (const [what, t] of [
    ['w', w],
    ['g', g],
  ] as const) {
    if (t.batch !== shape.batch || t.rows !== shape.rows || t.cols !== shape.cols) {
      throw new RangeError(
        `${name}: ${what} is ${t.batch}×${t.rows}×${t.cols}, the optimizer was made for ${shape.batch}×${shape.rows}×${shape.cols}`,
      );
    }
    if (shape.batch > 1 && t.batchStride === 0)
      throw new RangeError(`${name}: ${what} must hold one matrix per run (batch stride 0 given)`);
  }
  if (params.count < shape.batch) throw new RangeError(`${name}: run params hold ${params.count} runs, the batch has ${shape.batch}`);
}

export function updateShape(shape: MatrixShape, w: Tensor, g: Tensor): Record<string, number> {
  return {
    count: shape.rows * shape.cols,
    batch: shape.batch,
    offsetW: w.offset,
    batchStrideW: w.batchStride,
    offsetG: g.offset,
    batchStrideG: g.batchStride,
  };
}

export function elementGroups(shape: MatrixShape): [number, number, number] {
  return [Math.ceil((shape.rows * shape.cols) / 64), shape.batch, 1];
}

/** The CHECK pass then the APPLY pass of one elementwise update kernel. */
export async function checkedUpdate(
  rec: CommandRecorder,
  kernel: KernelDefinition,
  shape: MatrixShape,
  buffers: Record<string, GPUBuffer>,
  uniforms: Record<string, Record<string, number>>,
): Promise<void> {
  for (const check of [true, false]) {
    await rec.dispatch({
      kernel,
      label: `${kernel.entryPoint} (${check ? 'check' : 'apply'})`,
      constants: { CHECK: check },
      buffers,
      uniforms,
      workgroups: elementGroups(shape),
    });
  }
}

export function stateTensor(gpu: Gpu, shape: MatrixShape, label: string): Tensor<'f32'> {
  return createTensor(gpu, { batch: shape.batch, rows: shape.rows, cols: shape.cols, label });
}

/**
 * Before step t (1, 2, …): writes η_t of every run with a `list` schedule into its RunParams.lr
 * (constant and geometric runs are left to advance_runs, which multiplies lr by lrGrowth). The
 * write is queue-ordered, so it lands before the step's command buffer that is submitted after it.
 *
 * @example
 * for (let t = 1; t <= steps; t++) { writeListLearningRates(gpu, params, schedules, t); await runStep(); }
 */
export function writeListLearningRates(gpu: Gpu, params: RunParamsBuffer, schedules: readonly ResolvedSchedule[], t: number): void {
  const lrOffset = RUN_PARAM_FIELDS.find((f) => f.name === 'lr')!.offset;
  schedules.forEach((s, r) => {
    if (s.kind !== 'list') return;
    gpu.device.queue.writeBuffer(params.buffer, r * RUN_PARAMS_BYTES + lrOffset, new Float32Array([learningRateAt(s, t)]));
  });
}
