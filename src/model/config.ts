/**
 * The transformer experiment config (schema `muonlab.transformer/1`, zod): the model of
 * docs/transformer.md §2, its data source, optimizer groups by matrix-name pattern with per-group
 * warm-up and decay, training (steps, batch, replicas by seed, clipping), metrics and checkpoints.
 * Every problem is reported with its path and the allowed values (`model.heads: d = 10 is not
 * divisible by heads = 3 …`); cross-field rules (d % H, T ≤ maxSeqLen, data vocabulary ≤ V, dead or
 * ambiguous patterns) are checked here, before any GPU work.
 */
import { z } from 'zod';
import { optimizerSchemas, type OptimizerConfig } from '../optim/config';
import { MAX_SEQ_LEN, MLP_KINDS, transformerMatrices, validateDims, type TransformerDims } from '../layout/transformerShape';
import { assignGroups } from './groups';
import { DECAY_KINDS, type GroupSchedule } from './schedule';
import { dataVocab } from './data';
import {
  DEFAULT_ATTRIBUTES,
  DEFAULT_QA_TEMPLATE,
  DEFAULT_TEMPLATES,
  knowledgeStatementLengths,
  validateKnowledgeConfig,
  type KnowledgeSourceConfig,
} from './knowledge';

/** The optimizers a transformer group can use (the elementwise ones and Muon). */
export const TRANSFORMER_OPTIMIZERS = ['sgd', 'gd', 'signgd', 'adam', 'adamw', 'muon'] as const;

const positiveInt = z.number().int().min(1);

const ModelSchema = z
  .object({
    layers: positiveInt,
    dModel: positiveInt,
    heads: positiveInt,
    vocab: z.number().int().min(2),
    maxSeqLen: positiveInt.max(MAX_SEQ_LEN),
    mlp: z.enum(MLP_KINDS).default('relu2'),
  })
  .strict();

const DataSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('markov'),
      vocab: z.number().int().min(2),
      branching: positiveInt.default(4),
      seed: z.number().int().min(0).max(0xffffffff).default(0),
      fixedBatch: z.boolean().default(false),
      shared: z.boolean().default(true),
    })
    .strict(),
  // The heavy-tailed knowledge corpus (src/model/knowledge.ts, docs/transformer.md §4).
  z
    .object({
      kind: z.literal('knowledge'),
      individuals: z.number().int().min(2, 'P must be at least 2 (two individuals make the smallest corpus)'),
      attributes: z
        .array(z.object({ name: z.string(), values: z.number().int().min(2, 'an attribute needs at least 2 values') }).strict())
        .min(1, 'at least one attribute')
        .default(DEFAULT_ATTRIBUTES),
      templates: z.array(z.string()).default(DEFAULT_TEMPLATES),
      qaTemplate: z.string().default(DEFAULT_QA_TEMPLATE),
      qaFraction: z
        .number()
        .min(0, 'the share of QA statements must be in [0, 1]')
        .max(1, 'the share of QA statements must be in [0, 1]')
        .default(0.5),
      alpha: z.number().min(0, 'α must be ≥ 0 (0 is uniform)').default(1),
      seed: z.number().int().min(0).max(0xffffffff).default(0),
      shared: z.boolean().default(false),
      nameVocab: positiveInt.optional(),
    })
    .strict(),
  // The in-context linear-regression control (src/model/regression.ts).
  z
    .object({
      kind: z.literal('regression'),
      tasks: z.number().int().min(2, 'K must be at least 2 task vectors'),
      inputDim: positiveInt.default(2),
      bins: z.number().int().min(2, 'at least 2 bins').default(8),
      alpha: z.number().min(0, 'α must be ≥ 0 (0 is uniform)').default(1),
      seed: z.number().int().min(0).max(0xffffffff).default(0),
      shared: z.boolean().default(false),
    })
    .strict(),
]);

const ScheduleSchema = z
  .object({
    warmup: z.number().int().min(0).default(0),
    decay: z.enum(DECAY_KINDS).default('constant'),
    final: z.number().min(0).max(1).default(0.1),
  })
  .strict();

const GroupSchema = z
  .object({
    label: z.string().min(1).optional(),
    patterns: z.array(z.string()).min(1),
    optimizer: z.object({ name: z.enum(TRANSFORMER_OPTIMIZERS) }).passthrough(),
    schedule: ScheduleSchema.default({ warmup: 0, decay: 'constant', final: 0.1 }),
    /** Muon's update scale: the optimizer's own (`shapeScale`), √max(1, rows/cols), √(rows/cols) or 1. */
    muonScale: z.enum(['optimizer', 'shape', 'spectral', 'none']).default('optimizer'),
  })
  .strict()
  .superRefine((g, ctx) => {
    const r = optimizerSchemas[g.optimizer.name].safeParse(g.optimizer);
    if (!r.success) for (const issue of r.error.issues) ctx.addIssue({ ...issue, path: ['optimizer', ...issue.path] } as never);
    const lr = (g.optimizer as { lr?: unknown }).lr;
    if (typeof lr === 'object' && lr !== null) {
      ctx.addIssue({
        code: 'custom',
        path: ['optimizer', 'lr'],
        message: 'a number or an expression; warm-up and decay go in the group\'s "schedule"',
      });
    }
  });

const TrainingSchema = z
  .object({
    steps: z.number().int().min(0),
    /** Sequences per step and replica. */
    batchSize: positiveInt,
    /** Positions per sequence T (≤ model.maxSeqLen). */
    seqLen: positiveInt,
    /** One model replica per seed (the R axis): its initial weights, and its data with data.shared = false. */
    seeds: z.array(z.number().int().min(0).max(0xffffffff)).min(1).default([0]),
    /** Clip each replica's gradient to this global L2 norm (off when absent). */
    clipNorm: z.number().positive().optional(),
  })
  .strict();

const MetricsSchema = z
  .object({
    every: positiveInt.default(10),
    /** Matrix-name patterns whose isotropy (W and its update) is measured at `isotropyEvery`. */
    isotropy: z.array(z.string()).default([]),
    isotropyEvery: positiveInt.optional(),
  })
  .strict();

export const TransformerConfigSchema = z
  .object({
    schema: z.literal('muonlab.transformer/1'),
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes'),
    description: z.string().default(''),
    model: ModelSchema,
    data: DataSchema,
    optimizers: z.array(GroupSchema).min(1),
    training: TrainingSchema,
    metrics: MetricsSchema.default({ every: 10, isotropy: [] }),
    /** Write a checkpoint every k steps (0: none). */
    checkpoint: z
      .object({ every: z.number().int().min(0).default(0) })
      .strict()
      .default({ every: 0 }),
  })
  .strict()
  .superRefine((c, ctx) => {
    const issue = (path: (string | number)[], fn: () => void) => {
      try {
        fn();
      } catch (err) {
        // The thrown message starts with its own field ("optimizers.1.patterns.0: …"): use it as the path.
        const message = (err as Error).message;
        const field = /^([\w.]+): /.exec(message);
        const at = field ? field[1].split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k)) : path;
        ctx.addIssue({ code: 'custom', path: at, message: field ? message.slice(field[0].length) : message });
      }
    };
    const dims = c.model as TransformerDims;
    let dimsOk = true;
    issue(['model', 'heads'], () => {
      try {
        validateDims(dims);
      } catch (err) {
        dimsOk = false;
        throw err;
      }
    });
    if (c.training.seqLen > c.model.maxSeqLen) {
      ctx.addIssue({
        code: 'custom',
        path: ['training', 'seqLen'],
        message: `T = ${c.training.seqLen} is above model.maxSeqLen = ${c.model.maxSeqLen} (allowed: 1 … ${c.model.maxSeqLen})`,
      });
    }
    if (c.data.kind === 'knowledge') {
      const data = c.data as KnowledgeSourceConfig;
      let dataOk = true;
      issue(['data'], () => {
        try {
          validateKnowledgeConfig(data);
        } catch (err) {
          dataOk = false;
          throw err;
        }
      });
      if (!dataOk) return;
      const longest = Math.max(...knowledgeStatementLengths(data));
      if (c.training.seqLen < longest) {
        ctx.addIssue({
          code: 'custom',
          path: ['training', 'seqLen'],
          message: `T = ${c.training.seqLen} is shorter than the corpus's longest statement (${longest} tokens): such statements could never be placed`,
        });
      }
    }
    if (c.data.kind === 'regression' && c.training.seqLen < 2) {
      ctx.addIssue({
        code: 'custom',
        path: ['training', 'seqLen'],
        message: `T = ${c.training.seqLen}: a regression sequence needs at least one (x, y) pair (T ≥ 2)`,
      });
    }
    const vocab = dataVocab(c.data);
    if (vocab > c.model.vocab) {
      const what =
        c.data.kind === 'markov' ? `the data's vocabulary data.vocab = ${vocab}` : `the ${c.data.kind} source's vocabulary ${vocab}`;
      ctx.addIssue({
        code: 'custom',
        path: ['model', 'vocab'],
        message: `V = ${c.model.vocab} is below ${what} (allowed: ≥ ${vocab})`,
      });
    }
    if (!dimsOk) return;
    const names = transformerMatrices(dims).map((m) => m.name);
    issue(['optimizers'], () => assignGroups(names, c.optimizers));
    c.metrics.isotropy.forEach((p, i) =>
      issue(['metrics', 'isotropy', i], () => assignGroups(names, [{ patterns: [p] }, { patterns: ['*'] }], 'metrics.isotropy')),
    );
  });

export type TransformerConfig = z.output<typeof TransformerConfigSchema>;
export type TransformerConfigInput = z.input<typeof TransformerConfigSchema>;
export type GroupConfig = TransformerConfig['optimizers'][number];

/**
 * Parses a transformer config; throws one RangeError listing every problem as `path: message`.
 *
 * @example
 * parseTransformerConfig({ schema: 'muonlab.transformer/1', name: 'tiny', model: { layers: 2, dModel: 8, heads: 2, vocab: 11, maxSeqLen: 8 },
 *   data: { kind: 'markov', vocab: 11 }, optimizers: [{ patterns: ['*'], optimizer: { name: 'adamw', lr: 1e-3 } }],
 *   training: { steps: 10, batchSize: 2, seqLen: 8 } });
 */
export function parseTransformerConfig(input: unknown): TransformerConfig {
  const r = TransformerConfigSchema.safeParse(input);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => {
    const allowed = i.code === 'invalid_value' ? ` (allowed: ${(i.values as unknown[]).map(String).join(', ')})` : '';
    return `${i.path.join('.') || '(root)'}: ${i.message}${allowed}`;
  });
  throw new RangeError(`invalid transformer config:\n  ${lines.join('\n  ')}`);
}

/** Whether a parsed JSON value is meant as a transformer config (by its `schema` field). */
export function isTransformerConfig(input: unknown): boolean {
  return typeof input === 'object' && input !== null && (input as { schema?: unknown }).schema === 'muonlab.transformer/1';
}

/** The dimensions of a config's model. */
export function configDims(c: TransformerConfig): TransformerDims {
  return { ...c.model };
}

/** The group's optimizer config (defaults filled). */
export function groupOptimizer(g: GroupConfig): OptimizerConfig {
  return optimizerSchemas[g.optimizer.name].parse(g.optimizer) as OptimizerConfig;
}

export function groupSchedule(g: GroupConfig): GroupSchedule {
  return g.schedule;
}

/** JSON Schema of the transformer config (for editors; `muonlab schema` prints it beside the experiment's). */
export function transformerJsonSchema(): unknown {
  return z.toJSONSchema(TransformerConfigSchema, { io: 'input', unrepresentable: 'any' });
}

/**
 * The first difference between two configs as a dotted path and both values, or null when equal:
 * why a checkpoint of another config refuses to resume.
 *
 * @example
 * firstDifference({ a: { b: 1 } }, { a: { b: 2 } }); // 'a.b: 1 ≠ 2'
 */
export function firstDifference(a: unknown, b: unknown, path = ''): string | null {
  const show = (v: unknown) => (v === undefined ? 'absent' : JSON.stringify(v));
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') {
    return Object.is(a, b) ? null : `${path || '(root)'}: ${show(a)} ≠ ${show(b)}`;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return `${path || '(root)'}: ${show(a)} ≠ ${show(b)}`;
  const keys = [...new Set([...Object.keys(a as object), ...Object.keys(b as object)])];
  if (!Array.isArray(a)) keys.sort();
  for (const k of keys) {
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
    if (d) return d;
  }
  return null;
}
