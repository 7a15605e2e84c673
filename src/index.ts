/**
 * muonlab's public library API (`import { … } from 'muonlab'`, bundled with Vite or any bundler
 * that understands `?raw` shader imports).
 */
export { requestGpu, GpuUnavailableError, type Gpu, type AdapterDescription } from './gpu/device';
export {
  createTensor,
  uploadTensor,
  writeTensor,
  readTensor,
  runRange,
  broadcastRuns,
  type Tensor,
  type TensorLayout,
  type DType,
  type HostArrayOfDType,
} from './gpu/tensor';
export { CommandRecorder, runCommands, type KernelDispatch } from './gpu/commands';
export { defineKernel, listKernels, type KernelDefinition } from './gpu/registry';
export { reflectKernel, checkKernelArgs, type KernelInfo } from './gpu/reflect';
export { TimestampProfiler, median, summarizeTimings } from './gpu/profiler';
export { measureKernel } from './gpu/timing';
export { matmul, MATMUL_VARIANTS, type MatmulVariantName } from './kernels/matmul/matmul';
export { setVariantChoices, variantChoices } from './kernels/variants';
export { selectVariants } from './kernels/matmul/selectVariants';
export { gatherRows } from './kernels/gather/gather';
export { newtonSchulz, createNsWorkspace } from './kernels/newtonSchulz/newtonSchulz';
export {
  softmaxGrad,
  computeSoftmaxGrad,
  assertFiniteTensors,
  createSoftmaxGradWorkspace,
  SoftmaxGradWorkspace,
  SOFTMAX_OUTPUT_COLUMNS,
  DEFAULT_CHUNK_SIZE,
  type SoftmaxGradArgs,
  type SoftmaxGradResult,
  type SoftmaxGradMemory,
  type SoftmaxTargets,
} from './kernels/softmaxGrad/softmaxGrad';
export { softmaxGradCpu, type SoftmaxGradCpuArgs, type SoftmaxGradCpuResult } from './cpu/softmaxGrad';
export { philoxFill } from './kernels/philox/philox';
export { sumSquares } from './kernels/reduce/reduce';
export { createRunParams, readRunParams, advanceRuns, packRunParams, RUN_PARAM_FIELDS } from './gpu/runParams';
export { createGpuTask, sampleMinibatch, type GpuTask, type TaskEmbeddings, type SampleArgs } from './task/taskGpu';
export {
  parseTaskConfig,
  TaskConfigSchema,
  EMBEDDING_KINDS,
  type TaskConfig,
  type TaskConfigInput,
  type EmbeddingKind,
  type FrequencyConfig,
} from './task/task';
export { frequencies, validateFrequencies } from './task/frequencies';
export { validateNoise, type NoiseTarget } from './task/noise';
export { samplingThresholds, sampleMinibatchCpu } from './task/sampling';
export { denseEmbedding, rotation3, COUPLED_ROTATION_IN, COUPLED_ROTATION_OUT } from './task/embeddings';
export {
  createOptimizer,
  parseOptimizerConfig,
  runParamsFor,
  stepOptimizer,
  type GpuOptimizer,
  type OptimizerConfig,
  type StepOptions,
} from './optim/index';
export { parseExperimentConfig, ExperimentConfigSchema, experimentJsonSchema, type ExperimentConfig } from './experiments/config';
export { expandSweep, shardCells } from './experiments/sweep';
export * from './metrics/isotropy';
export * from './metrics/recall';
export * from './metrics/fits';
export { balanceRho } from './metrics/balance';
export { hostTensor, type HostTensor } from './cpu/hostTensor';
export { matmulCpu } from './cpu/matmul';
export { gatherRowsCpu } from './cpu/gather';
export { compareToReference, type Tolerance } from './cpu/compare';
export { trainCell } from './train/trainCell';
export { isMetricStep, rankOrder, itemBuckets, stopDecision, type StopReason, type StopRules } from './train/rules';
export type {
  CellResult,
  PerItemArrays,
  RunInfo,
  RunOutcome,
  TrainHooks,
  TrainMetricsRecord,
  TrainOptions,
  TrainProgress,
} from './train/records';
