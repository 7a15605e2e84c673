/**
 * Optimizer groups by glob pattern over the model's matrix names (docs/transformer.md §3): each
 * matrix goes to the first group with a matching pattern. That precedence must be meaningful, so:
 *
 * - a pattern that ends up claiming no matrix is an error (it matches nothing, or everything it
 *   matches went to an earlier group: it is dead and probably a typo or a misordering);
 * - two groups whose matching patterns overlap without one being a subset of the other claim a
 *   matrix with no precedence (neither is the more specific rule): an error naming both patterns and
 *   the matrix. An earlier pattern that is a subset of a later one (`*.v` before `*`) is the intended
 *   "specific first, catch-all last" order.
 *
 * Patterns: `*` any run of characters (dots included), `?` one character, `{a,b}` alternatives.
 */

/**
 * The regular expression of a glob; throws naming `field` on a malformed pattern.
 *
 * @example
 * globToRegExp('layer.*.{q,k}').test('layer.3.k'); // true
 */
export function globToRegExp(pattern: string, field = 'pattern'): RegExp {
  if (pattern.length === 0) throw new RangeError(`${field}: an empty pattern matches no matrix`);
  let re = '';
  let inBraces = false;
  for (const ch of pattern) {
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else if (ch === '{') {
      if (inBraces) throw new RangeError(`${field}: nested "{" in "${pattern}" (alternatives do not nest)`);
      inBraces = true;
      re += '(?:';
    } else if (ch === '}') {
      if (!inBraces) throw new RangeError(`${field}: "}" without "{" in "${pattern}"`);
      inBraces = false;
      re += ')';
    } else if (ch === ',' && inBraces) re += '|';
    else re += ch.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  if (inBraces) throw new RangeError(`${field}: unclosed "{" in "${pattern}"`);
  return new RegExp(`^${re}$`);
}

export interface GroupPatterns {
  patterns: readonly string[];
}

/**
 * Assigns each matrix name to a group index. Throws a RangeError naming the field
 * (`optimizers.1.patterns.0`) for a dead pattern or an ambiguous claim.
 *
 * @example
 * assignGroups(['layer.0.v', 'layer.0.q', 'head'], [{ patterns: ['*.v'] }, { patterns: ['*'] }]);
 * // → [0, 1, 1]
 */
export function assignGroups(names: readonly string[], groups: readonly GroupPatterns[], field = 'optimizers'): number[] {
  const compiled = groups.map((g, i) =>
    g.patterns.map((p, j) => ({ text: p, re: globToRegExp(p, `${field}.${i}.patterns.${j}`), at: `${field}.${i}.patterns.${j}` })),
  );
  const matchesOf = new Map<string, Set<string>>();
  const matchSet = (p: { text: string; re: RegExp }): Set<string> => {
    let s = matchesOf.get(p.text);
    if (!s) {
      s = new Set(names.filter((n) => p.re.test(n)));
      matchesOf.set(p.text, s);
    }
    return s;
  };
  const assignment = names.map((name) => {
    const claims = compiled
      .map((patterns, g) => ({ g, p: patterns.find((p) => p.re.test(name)) }))
      .filter((c): c is { g: number; p: (typeof compiled)[number][number] } => c.p !== undefined);
    if (claims.length === 0) {
      throw new RangeError(`${field}: matrix "${name}" is claimed by no group (add a pattern for it, or a catch-all "*" last)`);
    }
    const [first, ...later] = claims;
    for (const other of later) {
      const a = matchSet(first.p);
      const b = matchSet(other.p);
      // Nested either way is a precedence: earlier ⊆ later is "specific first"; later ⊆ earlier
      // leaves the later pattern dead, which the check below reports as such.
      const nested = [...a].every((n) => b.has(n)) || [...b].every((n) => a.has(n));
      if (!nested) {
        throw new RangeError(
          `${other.p.at}: "${other.p.text}" and ${first.p.at} "${first.p.text}" both claim matrix "${name}" with no precedence ` +
            `(neither pattern is contained in the other over this model's matrices); make the earlier one a subset of the later or split them`,
        );
      }
    }
    return first.g;
  });
  compiled.forEach((patterns, g) => {
    for (const p of patterns) {
      const matched = [...matchSet(p)];
      const claimed = matched.filter((n) => assignment[names.indexOf(n)] === g);
      if (matched.length === 0) {
        throw new RangeError(
          `${p.at}: "${p.text}" matches no matrix (names: embed, pos, head, layer.{l}.{${[...new Set(names.filter((n) => n.startsWith('layer.')).map((n) => n.split('.')[2]))].join(',')}})`,
        );
      }
      if (claimed.length === 0) {
        const winner = assignment[names.indexOf(matched[0])];
        throw new RangeError(
          `${p.at}: "${p.text}" claims no matrix: everything it matches (${matched.slice(0, 4).join(', ')}${matched.length > 4 ? ', …' : ''}) goes to ${field}.${winner} first`,
        );
      }
    }
  });
  return assignment;
}
