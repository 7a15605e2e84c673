/**
 * Reads the marks back out of a figure's rendered SVG (what Vega's SVG renderer writes, in Node or
 * in the page): every mark element with an `aria-roledescription` ("point", "line mark", "area
 * mark", "bar", "rule mark", "text mark") and its `aria-label` — the series name figures put in
 * their `description` channel. Tests count marks per series from here, never from the spec.
 */

export interface SvgMark {
  /** aria-roledescription: 'point', 'line mark', 'area mark', 'bar', 'rule mark', 'text mark', … */
  role: string;
  /** aria-label, XML entities decoded. */
  label: string;
  fill: string | null;
  stroke: string | null;
  dash: string | null;
}

function unescapeXml(text: string): string {
  return text.replace(
    /&(lt|gt|amp|quot|#39|apos);/g,
    (_m, e: string) => ({ lt: '<', gt: '>', amp: '&', quot: '"', '#39': "'", apos: "'" })[e]!,
  );
}

/** Every data mark of an SVG document (axes, legends and titles are groups, not marks, and are left out). */
export function svgMarks(svg: string): SvgMark[] {
  const out: SvgMark[] = [];
  for (const m of svg.matchAll(/<(path|line|rect|text)\b([^>]*)>/g)) {
    const attrs = m[2];
    const role = /aria-roledescription="([^"]*)"/.exec(attrs)?.[1];
    if (!role || role.endsWith('container') || ['axis', 'legend', 'title', 'subtitle'].includes(role)) continue;
    const attr = (name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(attrs)?.[1] ?? null;
    out.push({
      role,
      label: unescapeXml(attr('aria-label') ?? ''),
      fill: attr('fill'),
      stroke: attr('stroke'),
      dash: attr('stroke-dasharray'),
    });
  }
  return out;
}

/**
 * Counts per series label and role, e.g. `{ 'GD · identity': { point: 16, 'line mark': 1 } }`.
 *
 * @example
 * seriesCounts(svg)['Muon exact · a = 1.5'].point; // 3
 */
export function seriesCounts(svg: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const m of svgMarks(svg)) {
    out[m.label] ??= {};
    out[m.label][m.role] = (out[m.label][m.role] ?? 0) + 1;
  }
  return out;
}

/** The legend labels of an SVG (text inside groups of class role-legend-label). */
export function legendLabels(svg: string): string[] {
  const out: string[] = [];
  for (const g of svg.matchAll(/<g class="mark-text role-legend-label"[^>]*>([\s\S]*?)<\/g>/g)) {
    for (const t of g[1].matchAll(/<text\b[^>]*>([^<]*)<\/text>/g)) out.push(unescapeXml(t[1]));
  }
  return out;
}
