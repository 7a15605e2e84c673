/**
 * A preset cell's raw result as JSON, losslessly: a sharded, resumed or merged run recomputes its
 * report from `cells/<id>/result.json` files, and must get the figures a single run gets. Plain JSON
 * would turn NaN and ±Infinity into null (a diverged run's loss, an unfitted exponent) and a typed
 * array into an object of indices, and the summary would then compute something else. So:
 *
 * - non-finite numbers are written as `{ "nonFinite": "NaN" | "Infinity" | "-Infinity" }` and read
 *   back as the numbers;
 * - anything JSON cannot hold exactly (typed arrays, Maps, class instances, functions, undefined in
 *   an array) is refused with an error naming its path, when the result is written — so a preset
 *   that returns one fails in its own tests (its run() goes through this encoding too), not in a
 *   merge weeks later.
 *
 * Files written before this encoding hold null where a non-finite number was; they read back as null.
 */

/** A JSON value as parsed. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

const NON_FINITE = ['NaN', 'Infinity', '-Infinity'] as const;

/**
 * `value` as plain JSON with non-finite numbers tagged; throws a TypeError naming the first part
 * JSON cannot hold (`what` prefixes the path, e.g. the preset and cell).
 *
 * @example
 * encodeCellResult({ loss: NaN, steps: [1, 2] }, 'a-noisy-scaling T=16');
 * // { loss: { nonFinite: 'NaN' }, steps: [1, 2] }
 */
export function encodeCellResult(value: unknown, what: string): JsonObject {
  const encoded = encode(value, what, 'result');
  if (encoded === null || typeof encoded !== 'object' || Array.isArray(encoded)) {
    throw new TypeError(`${what}: a cell result must be a plain object, got ${describe(value)}`);
  }
  return encoded;
}

/**
 * The value encodeCellResult encoded (non-finite numbers restored). Returns `unknown`: what it holds
 * is the business of the preset that wrote it.
 *
 * @example
 * decodeCellResult({ loss: { nonFinite: 'NaN' } }); // { loss: NaN }
 */
export function decodeCellResult(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeCellResult);
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 1 && entries[0][0] === 'nonFinite' && (NON_FINITE as readonly unknown[]).includes(entries[0][1]))
      return Number(entries[0][1]);
    return Object.fromEntries(entries.map(([k, v]) => [k, decodeCellResult(v)]));
  }
  return value;
}

function encode(value: unknown, what: string, path: string): JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : { nonFinite: String(value) };
  if (Array.isArray(value)) {
    return value.map((v, i) => {
      // JSON would write undefined in an array as null: not the same value.
      if (v === undefined) throw new TypeError(`${what}: ${path}[${i}] is undefined, which JSON cannot hold in an array`);
      return encode(v, what, `${path}[${i}]`);
    });
  }
  if (typeof value === 'object' && isPlainObject(value)) {
    const out: JsonObject = {};
    // undefined properties are left out, as JSON does: reading them back gives undefined again.
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = encode(v, what, `${path}.${k}`);
    return out;
  }
  throw new TypeError(
    `${what}: ${path} is ${describe(value)}, which JSON cannot hold exactly; keep cell results to numbers, strings, booleans, null, arrays and plain objects (Array.from a typed array)`,
  );
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object' && value !== null) return `a ${value.constructor?.name ?? 'non-plain object'}`;
  return `a ${typeof value}`;
}
