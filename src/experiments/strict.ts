/**
 * Strictness helpers for the config schemas: objects that reject unknown keys with a "did you
 * mean" hint, one formatter that turns zod issues into `path: message` lines (unknown keys get the
 * key in the path), and a walk over a zod schema that says whether a dotted path (a sweep axis, a
 * `--set`) names a field at all. A typo must be an error: a silently dropped key runs a different
 * experiment than the one written down.
 */
import { distance } from 'fastest-levenshtein';
import { z } from 'zod';

/**
 * The known key closest to `key` when it is plausibly a typo (edit distance ≤ ⌈len/3⌉, at least 1),
 * else null. Case differences count as one edit less, so `n` suggests `N`.
 *
 * @example
 * closestKey('evry', ['every', 'perItem']); // 'every'
 * closestKey('bogus', ['every', 'perItem']); // null
 */
export function closestKey(key: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = Math.min(distance(key, k), distance(key.toLowerCase(), k.toLowerCase()) + 0.5);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  const limit = Math.max(1, Math.ceil(key.length / 3));
  return best !== null && bestDistance <= limit ? best : null;
}

function unknownKeyHint(key: string, known: readonly string[]): string {
  const close = closestKey(key, known);
  return close ? `did you mean "${close}"?` : `allowed: ${known.join(', ')}`;
}

/**
 * `z.strictObject` whose unknown-key error names the closest allowed key ("did you mean …") or lists
 * the allowed keys. With one unknown key the message is just the hint (formatIssue puts the key in
 * the path); with several each key is named.
 *
 * @example
 * const Metrics = strictObject({ every: z.number() });
 * Metrics.safeParse({ evry: 2 }); // issue: unrecognized_keys ["evry"], message 'unknown key; did you mean "every"?'
 */
export function strictObject<Shape extends z.ZodRawShape>(shape: Shape) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code !== 'unrecognized_keys') return undefined;
      const keys = (issue as { keys: string[] }).keys;
      if (keys.length === 1) return `unknown key; ${unknownKeyHint(keys[0], known)}`;
      return `unknown keys ${keys.map((k) => `"${k}" (${unknownKeyHint(k, known)})`).join(', ')}`;
    },
  });
}

/** One zod issue as a `path` and a `message` (allowed values of enums appended). */
export function formatIssue(issue: z.core.$ZodIssue, prefix: readonly (string | number)[] = []): { path: string; message: string } {
  const path = [...prefix, ...issue.path].map(String);
  if (issue.code === 'unrecognized_keys') {
    const keys = (issue as { keys: string[] }).keys;
    if (keys.length === 1) {
      const hint = issue.message.startsWith('unknown key;') ? issue.message.slice('unknown key;'.length).trim() : '';
      return { path: [...path, keys[0]].join('.'), message: `unknown key${hint ? ` (${hint})` : ''}` };
    }
    return {
      path: path.join('.') || '(root)',
      message: issue.message.startsWith('unknown keys') ? issue.message : `unknown keys ${keys.map((k) => `"${k}"`).join(', ')}`,
    };
  }
  const allowed = issue.code === 'invalid_value' && Array.isArray(issue.values) ? ` (allowed: ${issue.values.map(String).join(', ')})` : '';
  return { path: path.join('.') || '(root)', message: `${issue.message}${allowed}` };
}

type AnySchema = z.core.$ZodType;

interface Def {
  type: string;
  shape?: Record<string, AnySchema>;
  element?: AnySchema;
  options?: AnySchema[];
  innerType?: AnySchema;
  in?: AnySchema;
  valueType?: AnySchema;
  items?: AnySchema[];
  catchall?: AnySchema;
}

const defOf = (schema: AnySchema): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** Unwraps default/optional/nullable/pipe wrappers down to the schema that holds the value. */
function unwrap(schema: AnySchema): AnySchema {
  let s = schema;
  for (;;) {
    const def = defOf(s);
    if (def.innerType && ['default', 'optional', 'nullable', 'prefault', 'readonly', 'catch', 'nonoptional'].includes(def.type))
      s = def.innerType;
    else if (def.type === 'pipe' && def.in) s = def.in;
    else return s;
  }
}

/**
 * Why `path` (dot-separated) names no field of `schema`, or null when it does. Array indices must be
 * within `value`'s array at that point (the config the path is applied to); `refine` may replace
 * the schema at a node (e.g. an optimizer entry, whose fields depend on its `name`).
 *
 * @example
 * schemaPathProblem(ExperimentConfigSchema, 'task.nothere', config); // 'task.nothere: no such field (allowed under task: N, dIn, …)'
 */
export function schemaPathProblem(
  schema: AnySchema,
  path: string,
  value: unknown,
  refine?: (at: string[], schema: AnySchema, value: unknown) => AnySchema,
): string | null {
  const keys = path.split('.');
  let nodes: { schema: AnySchema; value: unknown }[] = [{ schema, value }];
  for (const [i, key] of keys.entries()) {
    const at = keys.slice(0, i);
    const here = at.join('.') || '(root)';
    const next: { schema: AnySchema; value: unknown }[] = [];
    const knownKeys = new Set<string>();
    let arrayProblem: string | null = null;
    // A union may match by any of its members: expand them all at this level.
    const expand = (s: AnySchema, v: unknown): AnySchema[] => {
      const u = unwrap(refine ? refine(at, unwrap(s), v) : s);
      const def = defOf(u);
      return def.type === 'union' && def.options ? def.options.flatMap((o) => expand(o, v)) : [u];
    };
    for (const node of nodes) {
      for (const s of expand(node.schema, node.value)) {
        const def = defOf(s);
        const v = node.value as Record<string, unknown> | undefined;
        if (def.type === 'object' && def.shape) {
          for (const k of Object.keys(def.shape)) knownKeys.add(k);
          if (key in def.shape) next.push({ schema: def.shape[key], value: v && typeof v === 'object' ? v[key] : undefined });
        } else if (def.type === 'array' && def.element) {
          const length = Array.isArray(v) ? v.length : 0;
          if (!/^\d+$/.test(key))
            arrayProblem = `${[...at, key].join('.')}: ${here} is a list; give an index (0…${Math.max(0, length - 1)})`;
          else if (Number(key) >= length)
            arrayProblem = `${[...at, key].join('.')}: index ${key} is outside ${here} (${length} entr${length === 1 ? 'y' : 'ies'})`;
          else next.push({ schema: def.element, value: (v as unknown as unknown[])[Number(key)] });
        } else if (def.type === 'record' && def.valueType) {
          next.push({ schema: def.valueType, value: v && typeof v === 'object' ? v[key] : undefined });
        } else if (def.type === 'tuple' && def.items && /^\d+$/.test(key) && Number(key) < def.items.length) {
          next.push({ schema: def.items[Number(key)], value: Array.isArray(v) ? v[Number(key)] : undefined });
        }
      }
    }
    if (next.length === 0) {
      if (arrayProblem) return arrayProblem;
      const full = [...at, key].join('.');
      if (knownKeys.size === 0) return `${full}: ${here} is a value, not an object with fields`;
      const close = closestKey(key, [...knownKeys]);
      return `${full}: no such field${close ? ` (did you mean "${[...at, close].join('.')}"?)` : ` (fields of ${here}: ${[...knownKeys].join(', ')})`}`;
    }
    nodes = next;
  }
  return null;
}
