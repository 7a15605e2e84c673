/**
 * The digest of a resolved config: SHA-256 of its canonical JSON (keys sorted at every level), so
 * two configs that run the same experiment have the same digest whatever their key order. Every
 * cell records it in summary.json; `--resume` and `merge` compare it before reusing a cell, and
 * name the first differing field when it differs.
 */
import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level (arrays keep their order). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/**
 * @example
 * configDigest({ b: 1, a: [2, 3] }) === configDigest({ a: [2, 3], b: 1 }); // true
 */
export function configDigest(value: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(value)).digest('hex')}`;
}

/** The first path (dotted) where two JSON values differ, with both values; null when equal. */
export function firstDifference(a: unknown, b: unknown, path = ''): string | null {
  if (canonicalJson(a) === canonicalJson(b)) return null;
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null && Array.isArray(a) === Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (const k of keys) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
      if (d !== null) return d;
    }
  }
  const show = (v: unknown) => (v === undefined ? 'absent' : JSON.stringify(v).slice(0, 60));
  return `${path || '(root)'} (${show(a)} vs ${show(b)})`;
}
