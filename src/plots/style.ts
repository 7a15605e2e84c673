/**
 * The visual language of every muonlab figure (reports, PNGs, the page): one colour per optimizer,
 * line styles for variants (embedding, orthogonalization, batch size), one font with known metrics,
 * thin dashed grey or optimizer-coloured reference lines for predicted laws. Figures never pick a
 * colour of their own: they ask `optimizerColor` (or `colorScale`) by the optimizer's label, so "Muon
 * exact" is the same vermillion in c-capacity-onestep, b-balance-onestep and a live run on the page.
 *
 * Colours are the Okabe–Ito colour-blind-safe set (its yellow replaced by two darker hues, since
 * yellow lines vanish on white), assigned so that the two Muon variants are warm and the sign
 * methods (SignGD, Adam with β = 0) sit next to each other.
 */

/** The optimizer families a figure can show, each with one colour. */
export const OPTIMIZER_KEYS = ['gd', 'sgd', 'signgd', 'adam', 'muon-exact', 'muon-ns', 'muon-reg', 'tra-signgd'] as const;
export type OptimizerKey = (typeof OPTIMIZER_KEYS)[number];

/** Display name and colour per optimizer family. */
export const OPTIMIZER_STYLE: Readonly<Record<OptimizerKey, { label: string; color: string }>> = {
  gd: { label: 'GD', color: '#0072B2' },
  sgd: { label: 'SGD', color: '#56B4E9' },
  signgd: { label: 'SignGD', color: '#E69F00' },
  adam: { label: 'Adam(W)', color: '#009E73' },
  'muon-exact': { label: 'Muon exact', color: '#D55E00' },
  'muon-ns': { label: 'Muon ns5/PE', color: '#CC79A7' },
  'muon-reg': { label: 'muon-reg', color: '#7B3294' },
  'tra-signgd': { label: 'TRA-SignGD', color: '#8C6D31' },
};

/** Colour of anything that is not an optimizer (a second factor, a count of items seen). */
export const NEUTRAL_COLOR = '#555555';
/** Reference lines (predicted laws) not tied to one optimizer. */
export const REFERENCE_COLOR = '#333333';
/** Dash pattern of every reference line: thin and dashed, so measured data stays in front. */
export const REFERENCE_DASH = [5, 3];

/**
 * Dash patterns for variants within one optimizer colour (embedding, batch size, orthogonalization,
 * step-size factor), in order: solid first, then patterns that stay distinct at 1× and 2×.
 */
export const VARIANT_DASHES: readonly number[][] = [
  [1, 0],
  [7, 3],
  [2, 2],
  [9, 3, 2, 3],
  [4, 4],
  [12, 4],
  [1, 3],
];

/** Marker shapes for a variant shown by points (Vega symbol names), same order as VARIANT_DASHES. */
export const VARIANT_SHAPES: readonly string[] = ['circle', 'square', 'triangle-up', 'diamond', 'cross', 'triangle-down', 'wedge'];

/**
 * The font every figure uses. Liberation Sans (installed with Debian's fonts, metric-compatible with
 * Arial and Helvetica) comes first so that the text widths Vega estimates in Node (render.ts, from
 * Helvetica's advance widths) are the widths the browser draws: legends and labels measured in Node
 * fit in the PNG.
 */
export const FONT = 'Liberation Sans, Arial, Helvetica, sans-serif';

/**
 * The optimizer family of a label as muonlab writes it ('GD', 'Muon exact', 'Muon (GPU f32 Polar
 * Express)', 'Adam (β=0, ε=1e-12)', 'GD (rising η)', 'Muon B=16', 'tra-signgd', 'sgd' …), or null
 * for a label that names no optimizer. Orthogonalization matters for Muon: `exact` (and the Float64
 * polar factor) is one colour, the polynomial iterations (ns5, Polar Express, GPU f32) another.
 *
 * @example
 * optimizerKey('Muon (GPU f32 Polar Express)'); // 'muon-ns'
 * optimizerKey('Adam (β=0, ε=1e-12)'); // 'adam'
 * optimizerKey('SGD'); // 'sgd'
 */
export function optimizerKey(label: string, orth?: string): OptimizerKey | null {
  const l = label.toLowerCase();
  if (/tra[-\s]?signgd/.test(l)) return 'tra-signgd';
  if (/muon[-\s]?reg/.test(l)) return 'muon-reg';
  if (l.includes('muon')) {
    const o = (orth ?? '').toLowerCase();
    if (o === 'ns5' || o === 'polar-express' || /ns5|polar|f32|\bpe\b/.test(l)) return 'muon-ns';
    return 'muon-exact';
  }
  if (l.includes('adam')) return 'adam';
  if (l.includes('signgd') || l.includes('sign-gd')) return 'signgd';
  if (/(^|[^a-z])sgd([^a-z]|$)/.test(l)) return 'sgd';
  if (/(^|[^a-z])gd([^a-z]|$)/.test(l)) return 'gd';
  return null;
}

/**
 * The colour of an optimizer label (NEUTRAL_COLOR for one that names no optimizer).
 *
 * @example
 * optimizerColor('Muon exact'); // '#D55E00'
 */
export function optimizerColor(label: string, orth?: string): string {
  const key = optimizerKey(label, orth);
  return key ? OPTIMIZER_STYLE[key].color : NEUTRAL_COLOR;
}

/**
 * A Vega-Lite colour scale for these labels: each label gets its optimizer's colour, in the
 * canonical optimizer order (GD, SGD, SignGD, Adam, Muon exact, Muon ns5/PE, muon-reg, TRA-SignGD),
 * so legends list optimizers the same way everywhere. `infoOf` gives a label's optimizer name and
 * Muon orthogonalization when the label does not say them (config runs: label "fast", name "muon").
 *
 * @example
 * colorScale(['Muon exact', 'GD']); // { domain: ['GD', 'Muon exact'], range: ['#0072B2', '#D55E00'] }
 */
export function colorScale(
  labels: Iterable<string>,
  infoOf: (label: string) => { name?: string; orth?: string } = () => ({}),
): { domain: string[]; range: string[] } {
  const unique = [...new Set(labels)];
  const keyOf = (label: string) => optimizerKey(infoOf(label).name ?? label, infoOf(label).orth);
  const rank = (label: string) => {
    const key = keyOf(label);
    return key ? OPTIMIZER_KEYS.indexOf(key) : OPTIMIZER_KEYS.length;
  };
  const domain = unique
    .map((label, i) => ({ label, i }))
    .sort((a, b) => rank(a.label) - rank(b.label) || a.i - b.i)
    .map((x) => x.label);
  return { domain, range: domain.map((label) => (keyOf(label) ? OPTIMIZER_STYLE[keyOf(label)!].color : NEUTRAL_COLOR)) };
}

/**
 * The same scale with repeated colours told apart by shade: the first label of each colour keeps it,
 * the next ones get a lighter, then a darker tint of the same hue (mixed 45 % towards white, then
 * 35 % towards black, and so on). For figures whose series share an optimizer family but must stay
 * distinguishable by colour alone — c-multistep's GPU exact, Float64 SVD and scheduler Muon series.
 *
 * @example
 * shadeRepeats(colorScale(['Muon exact', 'Muon Float64 SVD'])); // range ['#D55E00', '#e8a673']
 */
export function shadeRepeats(scale: { domain: string[]; range: string[] }): { domain: string[]; range: string[] } {
  const mix = (hex: string, toward: number, share: number) => {
    const channels = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    return `#${channels
      .map((c) =>
        Math.round(c + (toward - c) * share)
          .toString(16)
          .padStart(2, '0'),
      )
      .join('')}`;
  };
  return {
    domain: scale.domain,
    range: mapRepeats(scale.range, (color, k) => {
      if (k === 0) return color;
      const lighter = k % 2 === 1;
      const share = Math.min(0.8, (lighter ? 0.45 : 0.35) * Math.ceil(k / 2));
      return mix(color, lighter ? 255 : 0, share);
    }),
  };
}

/** Maps each colour with its repeat index: 0 for the first label of that colour, 1 for the next, … */
function mapRepeats<T>(colors: readonly string[], f: (color: string, k: number) => T): T[] {
  const seen = new Map<string, number>();
  return colors.map((color) => {
    const k = seen.get(color) ?? 0;
    seen.set(color, k + 1);
    return f(color, k);
  });
}

/**
 * Dash patterns that tell apart labels sharing one optimizer colour (two Muon runs with different
 * η): the first label of each optimizer is solid, the next ones dashed — same domain order as
 * colorScale, so colour and dash merge into one legend.
 *
 * @example
 * variantDashes(colorScale(['muon-a', 'muon-b'])); // { domain: ['muon-a', 'muon-b'], range: [[1, 0], [7, 3]] }
 */
export function variantDashes(scale: { domain: string[]; range: string[] }): { domain: string[]; range: number[][] } {
  return { domain: scale.domain, range: mapRepeats(scale.range, (_color, k) => VARIANT_DASHES[k % VARIANT_DASHES.length]) };
}
