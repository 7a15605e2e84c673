/**
 * The task config (docs/math.md §1): sizes, embedding kind, frequencies, label noise, task seed — a zod
 * schema whose errors name the field (`task.dIn: identity embeddings need dIn = N …`).
 */
import { z } from 'zod';
import { formatIssue, strictObject } from '../experiments/strict';

export const EMBEDDING_KINDS = ['identity', 'orthonormal', 'gaussian', 'coupled-rotation'] as const;
export type EmbeddingKind = (typeof EMBEDDING_KINDS)[number];

const positiveInt = z.number().int().min(1);

export const FrequencyConfigSchema = z.discriminatedUnion('kind', [
  strictObject({ kind: z.literal('uniform') }),
  strictObject({ kind: z.literal('power'), powerExponent: z.number().min(0).finite() }),
  strictObject({ kind: z.literal('hierarchical'), groups: positiveInt, groupExponent: z.number().min(0).finite() }),
  strictObject({ kind: z.literal('two-class'), headCount: positiveInt, headMass: z.number().min(0).max(1) }),
]);
export type FrequencyConfig = z.infer<typeof FrequencyConfigSchema>;

// Strict: an unknown key (a typo) is an error naming the closest field, never silently dropped.
export const TaskConfigSchema = strictObject({
  N: positiveInt,
  dIn: positiveInt,
  dOut: positiveInt,
  embedding: z.enum(EMBEDDING_KINDS),
  frequency: FrequencyConfigSchema.default({ kind: 'uniform' }),
  noise: z.number().min(0).lt(1).default(0),
  noiseTarget: z.enum(['sampled', 'expected']).default('sampled'),
  taskSeed: z.number().int().min(0).max(0xffffffff).default(0),
}).superRefine((t, ctx) => {
  const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (t.embedding === 'identity') {
    if (t.dIn !== t.N) issue('dIn', `identity embeddings need dIn = N = ${t.N}, got ${t.dIn}`);
    if (t.dOut !== t.N) issue('dOut', `identity embeddings need dOut = N = ${t.N}, got ${t.dOut}`);
  }
  if (t.embedding === 'coupled-rotation') {
    if (t.N % 3 !== 0) issue('N', `coupled-rotation embeddings need N divisible by 3 (3×3 blocks), got ${t.N}`);
    if (t.dIn !== t.N) issue('dIn', `coupled-rotation embeddings need dIn = N = ${t.N}, got ${t.dIn}`);
    if (t.dOut !== t.N) issue('dOut', `coupled-rotation embeddings need dOut = N = ${t.N}, got ${t.dOut}`);
  }
  if (t.embedding === 'orthonormal') {
    if (t.dIn < t.N) issue('dIn', `orthonormal embeddings need dIn ≥ N = ${t.N} (N orthonormal columns), got ${t.dIn}`);
    if (t.dOut < t.N) issue('dOut', `orthonormal embeddings need dOut ≥ N = ${t.N}, got ${t.dOut}`);
  }
  const f = t.frequency;
  if (f.kind === 'hierarchical' && t.N % f.groups !== 0) {
    ctx.addIssue({ code: 'custom', path: ['frequency', 'groups'], message: `must divide N = ${t.N}, got ${f.groups}` });
  }
  if (f.kind === 'two-class') {
    if (f.headCount > t.N)
      ctx.addIssue({ code: 'custom', path: ['frequency', 'headCount'], message: `must be ≤ N = ${t.N}, got ${f.headCount}` });
    if (f.headCount === t.N && f.headMass !== 1) {
      ctx.addIssue({ code: 'custom', path: ['frequency', 'headMass'], message: 'must be 1 when every item is a head item' });
    }
  }
});

export type TaskConfig = z.infer<typeof TaskConfigSchema>;
export type TaskConfigInput = z.input<typeof TaskConfigSchema>;

/**
 * Parses a task config; a bad field throws one Error listing every problem as `task.<field>: …`.
 *
 * @example
 * parseTaskConfig({ N: 300, dIn: 300, dOut: 300, embedding: 'coupled-rotation',
 *   frequency: { kind: 'two-class', headCount: 60, headMass: 0.8 } });
 */
export function parseTaskConfig(input: unknown): TaskConfig {
  const r = TaskConfigSchema.safeParse(input);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => {
    const { path, message } = formatIssue(i, ['task']);
    return `${path}: ${message}`;
  });
  throw new RangeError(`invalid task config:\n  ${lines.join('\n  ')}`);
}
