/**
 * Experiment configs (one zod schema for a run or a sweep): the task, the optimizers to compare,
 * how to train (population or minibatch, steps, seeds, stopping rules), what to measure and how
 * often, and sweep axes. Invalid configs fail with every problem listed by path.
 */
import { z } from 'zod';
import { TaskConfigSchema } from '../task/task';
import { OPTIMIZER_NAMES, optimizerSchemas } from '../optim/config';
import { formatIssue, schemaPathProblem, strictObject } from './strict';

const positiveInt = z.number().int().min(1);

/** An optimizer entry: the optimizer config plus an optional label for plots and reports. */
export const OptimizerEntrySchema = z
  .object({ name: z.enum(OPTIMIZER_NAMES), label: z.string().min(1).optional() })
  .passthrough()
  .superRefine((entry, ctx) => {
    const { label: _label, ...config } = entry;
    const r = optimizerSchemas[entry.name].safeParse(config);
    if (!r.success) for (const issue of r.error.issues) ctx.addIssue({ ...issue, path: issue.path } as never);
  });

/** Default of training.divergence.lossMultiple: a run whose loss grows a millionfold has diverged. */
export const DEFAULT_LOSS_MULTIPLE = 1e6;

export const TrainingSchema = strictObject({
  /** `population`: the exact gradient over all N items (weights p_i); `minibatch`: B draws per step. */
  mode: z.enum(['population', 'minibatch']).default('population'),
  batchSize: positiveInt.optional(),
  steps: z.number().int().min(0),
  /** runSeed of each repeat (minibatches, noise labels); one run per seed per optimizer. */
  runSeeds: z.array(z.number().int().min(0).max(0xffffffff)).min(1).default([0]),
  stop: strictObject({
    targetLoss: z.number().positive().optional(),
    /** Stop when capacity gains less than `percent`% over the last `window` steps. */
    capacityGain: strictObject({ percent: z.number().positive(), window: positiveInt }).optional(),
  }).default({}),
  /**
   * A run has diverged when its loss is not finite, or when it exceeds `lossMultiple` × its loss
   * at step 0 (GD at a huge η can reach 1e27 and stay finite: not a healthy run).
   */
  divergence: strictObject({ lossMultiple: z.number().gt(1).default(DEFAULT_LOSS_MULTIPLE) }).default({
    lossMultiple: DEFAULT_LOSS_MULTIPLE,
  }),
}).superRefine((t, ctx) => {
  if (t.mode === 'minibatch' && t.batchSize === undefined) {
    ctx.addIssue({ code: 'custom', path: ['batchSize'], message: 'minibatch training needs batchSize' });
  }
});

export const MetricsSchema = strictObject({
  /** Read metrics back every k steps (and always after the last step). */
  every: positiveInt.default(1),
  /** Evaluate per-item recall on the first k items by frequency rank (default: all). */
  evalItems: positiveInt.optional(),
  /** Write per-item pCorrect / correct arrays at each metric step. */
  perItem: z.boolean().default(false),
  /** Singular-value isotropy of W and of the update (CPU SVD of a readback: costly at large d). */
  isotropy: z.boolean().default(false),
  /** Balance thresholds τ for Δ / first-crossing reports. */
  tau: z.array(z.number().gt(0).lt(1)).default([0.1]),
});

export const SweepAxisSchema = strictObject({
  /** Dotted path into the config, e.g. "task.dIn" or "optimizers.0.lr". */
  path: z.string().regex(/^[A-Za-z][\w-]*(\.[\w-]+)*$/, 'a dotted path such as task.dIn'),
  values: z.array(z.unknown()).min(1),
  /** Axes with the same `zip` name advance together instead of forming a product. */
  zip: z.string().optional(),
});

// Every object is strict: an unknown key is an error (with the closest field), never dropped.
export const ExperimentConfigSchema = strictObject({
  schema: z.literal('muonlab.experiment/1').default('muonlab.experiment/1'),
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes'),
  description: z.string().default(''),
  task: TaskConfigSchema,
  optimizers: z.array(OptimizerEntrySchema).min(1),
  training: TrainingSchema,
  metrics: MetricsSchema.default({ every: 1, perItem: false, isotropy: false, tau: [0.1] }),
  sweep: z.array(SweepAxisSchema).default([]),
});

export type ExperimentConfig = z.output<typeof ExperimentConfigSchema>;
export type ExperimentConfigInput = z.input<typeof ExperimentConfigSchema>;

/**
 * Parses a config; throws one RangeError listing every problem as `path: message`.
 *
 * @example
 * parseExperimentConfig(JSON.parse(readFileSync('my-sweep.json', 'utf8')));
 */
export function parseExperimentConfig(input: unknown): ExperimentConfig {
  const r = ExperimentConfigSchema.safeParse(input);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => {
    const { path, message } = formatIssue(i);
    return `${path}: ${message}`;
  });
  throw new ConfigError(`invalid experiment config:\n  ${lines.join('\n  ')}`);
}

/**
 * A config that cannot run as written (a bad field, an unknown key, a sweep path that names
 * nothing). A RangeError, so callers that catch those keep working; the CLI exits 64 on it.
 */
export class ConfigError extends RangeError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

/**
 * Why a dotted path (a sweep axis or a `--set`) names no field of an experiment config, or null.
 * An optimizer entry's fields are those of its `name`'s schema; array indices must exist in `config`.
 *
 * @example
 * configPathProblem('task.nothere', rawConfig); // 'task.nothere: no such field (fields of task: N, dIn, …)'
 * configPathProblem('optimizers.0.lr', rawConfig); // null
 */
export function configPathProblem(path: string, config: unknown): string | null {
  if (!/^[A-Za-z][\w-]*(\.[\w-]+)*$/.test(path)) return `${path}: not a dotted path such as task.dIn`;
  return schemaPathProblem(ExperimentConfigSchema, path, config, (at, schema, value) => {
    if (at.length === 2 && at[0] === 'optimizers') {
      const name = (value as { name?: unknown } | undefined)?.name;
      if (typeof name === 'string' && name in optimizerSchemas) {
        return (optimizerSchemas[name as keyof typeof optimizerSchemas] as unknown as z.ZodObject).extend({
          label: z.string().optional(),
        }) as never;
      }
    }
    return schema;
  });
}

/** JSON Schema of the config, for editors (`muonlab schema > experiment.schema.json`). */
export function experimentJsonSchema(): unknown {
  return z.toJSONSchema(ExperimentConfigSchema, { io: 'input', unrepresentable: 'any' });
}
