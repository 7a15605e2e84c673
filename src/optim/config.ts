/**
 * The optimizer config schema (zod): one object per optimizer of docs/math.md §2, with defaults, and errors
 * that name the field and the allowed values (`optimizer.beta1: must be in [0, 1), got 1`).
 */
import { z } from 'zod';
import { NS_SCHEDULE_NAMES } from '../cpu/newtonSchulz';
import { evaluateExpression, type LearningRateSchedule } from './schedule';
import { formatIssue, strictObject } from '../experiments/strict';

export const OPTIMIZER_NAMES = ['gd', 'sgd', 'signgd', 'adam', 'adamw', 'muon', 'muon-reg', 'tra-signgd'] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];
export const ORTH_NAMES = [...NS_SCHEDULE_NAMES, 'exact'] as const;

const unitInterval = (what: string) =>
  z
    .number({ error: `${what} must be a number` })
    .refine((v) => Number.isFinite(v) && v >= 0 && v < 1, { error: (i) => `must be in [0, 1), got ${String(i.input)}` });

const learningRate = z.union([z.number(), z.string()]).superRefine((v, ctx) => {
  if (typeof v === 'number' && (!Number.isFinite(v) || v < 0))
    ctx.addIssue({ code: 'custom', message: `learning rate must be a finite number ≥ 0, got ${v}` });
  if (typeof v === 'string') {
    // Syntax and names now; the value (and its sign) once the problem sizes are known.
    try {
      evaluateExpression(v, { d_in: 1, d_out: 1, N: 1 }, 'expression');
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  }
});

const lrSchedule = z.union([
  learningRate,
  z.object({ kind: z.literal('constant'), lr: learningRate }).strict(),
  z.object({ kind: z.literal('geometric'), lr: learningRate, growth: z.number().positive() }).strict(),
  z.object({ kind: z.literal('list'), values: z.array(learningRate).min(1) }).strict(),
]);

const triple = z.tuple([z.number(), z.number(), z.number()]);
const orth = z.union([
  z.enum(ORTH_NAMES),
  z.object({ name: z.enum(['ns5', 'polar-express', 'cubic']), steps: z.number().int().min(1).max(100).optional() }).strict(),
  z.object({ coefficients: z.array(triple).min(1), normScale: z.number().positive().optional() }).strict(),
]);

const base = { lr: lrSchedule };

export const optimizerSchemas = {
  gd: strictObject({ name: z.literal('gd'), ...base, momentum: unitInterval('momentum').default(0), nesterov: z.boolean().default(false) }),
  sgd: strictObject({
    name: z.literal('sgd'),
    ...base,
    momentum: unitInterval('momentum').default(0),
    nesterov: z.boolean().default(false),
  }),
  signgd: strictObject({ name: z.literal('signgd'), ...base }),
  adam: strictObject({
    name: z.literal('adam'),
    ...base,
    beta1: unitInterval('beta1').default(0.9),
    beta2: unitInterval('beta2').default(0.999),
    eps: z.number().nonnegative().default(1e-8),
    weightDecay: z.number().nonnegative().default(0),
  }),
  adamw: strictObject({
    name: z.literal('adamw'),
    ...base,
    beta1: unitInterval('beta1').default(0.9),
    beta2: unitInterval('beta2').default(0.999),
    eps: z.number().nonnegative().default(1e-8),
    weightDecay: z.number().nonnegative().default(0.01),
  }),
  muon: strictObject({
    name: z.literal('muon'),
    ...base,
    momentum: unitInterval('momentum').default(0.95),
    /** `sum`: B ← μB + G ([B]'s form); `ema`: B ← βB + (1−β)G (the reference implementation). */
    momentumForm: z.enum(['sum', 'ema']).default('ema'),
    nesterov: z.boolean().default(false),
    /** Multiply D by sqrt(max(1, rows/cols)). */
    shapeScale: z.boolean().default(false),
    orth: orth.default('ns5'),
  }),
  'muon-reg': strictObject({
    name: z.literal('muon-reg'),
    ...base,
    lambda: z.number().refine((v) => Number.isFinite(v) && v > 0, { error: (i) => `must be > 0, got ${String(i.input)}` }),
    /** Cap on coupled Newton–Schulz inverse-square-root iterations. */
    maxIterations: z.number().int().min(1).max(200).default(60),
  }),
  'tra-signgd': strictObject({ name: z.literal('tra-signgd'), ...base }),
} as const;

export type OptimizerConfig = { [K in OptimizerName]: z.output<(typeof optimizerSchemas)[K]> }[OptimizerName];
export type OptimizerConfigInput = { [K in OptimizerName]: z.input<(typeof optimizerSchemas)[K]> }[OptimizerName];
export type MuonConfig = z.output<(typeof optimizerSchemas)['muon']>;
export type OrthSpec = MuonConfig['orth'];

/**
 * Validates and completes an optimizer config (defaults filled in). Throws a RangeError naming the
 * field: `optimizer.name: unknown optimizer "lion"; allowed: gd, sgd, …`.
 *
 * @example
 * parseOptimizerConfig({ name: 'muon', lr: '0.5*sqrt(d)', orth: 'polar-express' });
 */
export function parseOptimizerConfig(input: unknown, field = 'optimizer'): OptimizerConfig {
  if (typeof input !== 'object' || input === null)
    throw new RangeError(`${field}: expected an object with a "name", got ${JSON.stringify(input)}`);
  const name = (input as { name?: unknown }).name;
  if (typeof name !== 'string' || !(OPTIMIZER_NAMES as readonly string[]).includes(name)) {
    throw new RangeError(`${field}.name: unknown optimizer ${JSON.stringify(name)}; allowed: ${OPTIMIZER_NAMES.join(', ')}`);
  }
  const orthValue = (input as { orth?: unknown }).orth;
  if (typeof orthValue === 'string' && !(ORTH_NAMES as readonly string[]).includes(orthValue)) {
    throw new RangeError(
      `${field}.orth: unknown coefficient schedule "${orthValue}"; allowed: ${ORTH_NAMES.join(', ')}, or { coefficients: [[a, b, c], …] }`,
    );
  }
  const result = optimizerSchemas[name as OptimizerName].safeParse(input);
  if (!result.success) {
    const messages = result.error.issues.map((i) => {
      const { path, message } = formatIssue(i, [field]);
      return `${path}: ${message}`;
    });
    throw new RangeError(messages.join('; '));
  }
  return result.data as OptimizerConfig;
}

export type { LearningRateSchedule };
