/**
 * Experiment configs (one zod schema for a run or a sweep): the task, the optimizers to compare,
 * how to train (population or minibatch, steps, seeds, stopping rules), what to measure and how
 * often, and sweep axes. Invalid configs fail with every problem listed by path.
 */
import { z } from 'zod';
import { TaskConfigSchema } from '../task/task';
import { OPTIMIZER_NAMES, optimizerSchemas } from '../optim/config';

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

export const TrainingSchema = z
  .object({
    /** `population`: the exact gradient over all N items (weights p_i); `minibatch`: B draws per step. */
    mode: z.enum(['population', 'minibatch']).default('population'),
    batchSize: positiveInt.optional(),
    steps: z.number().int().min(0),
    /** runSeed of each repeat (minibatches, noise labels); one run per seed per optimizer. */
    runSeeds: z.array(z.number().int().min(0).max(0xffffffff)).min(1).default([0]),
    stop: z
      .object({
        targetLoss: z.number().positive().optional(),
        /** Stop when capacity gains less than `percent`% over the last `window` steps. */
        capacityGain: z.object({ percent: z.number().positive(), window: positiveInt }).optional(),
      })
      .default({}),
  })
  .superRefine((t, ctx) => {
    if (t.mode === 'minibatch' && t.batchSize === undefined) {
      ctx.addIssue({ code: 'custom', path: ['batchSize'], message: 'minibatch training needs batchSize' });
    }
  });

export const MetricsSchema = z.object({
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

export const SweepAxisSchema = z.object({
  /** Dotted path into the config, e.g. "task.dIn" or "optimizers.0.lr". */
  path: z.string().regex(/^[A-Za-z][\w-]*(\.[\w-]+)*$/, 'a dotted path such as task.dIn'),
  values: z.array(z.unknown()).min(1),
  /** Axes with the same `zip` name advance together instead of forming a product. */
  zip: z.string().optional(),
});

export const ExperimentConfigSchema = z.object({
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
    const allowed = i.code === 'invalid_value' ? ` (allowed: ${(i.values as unknown[]).map(String).join(', ')})` : '';
    return `${i.path.join('.') || '(root)'}: ${i.message}${allowed}`;
  });
  throw new RangeError(`invalid experiment config:\n  ${lines.join('\n  ')}`);
}

/** JSON Schema of the config, for editors (`muonlab schema > experiment.schema.json`). */
export function experimentJsonSchema(): unknown {
  return z.toJSONSchema(ExperimentConfigSchema, { io: 'input', unrepresentable: 'any' });
}
