/**
 * Figures to SVG with Vega's headless View: no browser, no canvas. Used by the CLI (reports, config
 * runs, `muonlab report`) and the tests; the page draws the same specs with vega-embed (embed.ts).
 *
 * Text widths. Without a canvas Vega estimates a label as 0.8 em per character, which makes legends
 * and margins far wider than drawn (and narrower for "mmm"). In Node we measure with Helvetica's
 * advance widths instead — the metrics of Arial and of Liberation Sans, the first font of FONT — so
 * the layout computed here is the one the browser draws when it rasterizes the SVG to PNG.
 * Characters outside ASCII count as 0.65 em (wider than any Greek letter or math sign in those fonts:
 * where a fallback font draws them, the label still fits).
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Helvetica/Arial advance widths in 1/1000 em for ASCII 32–126 (Adobe's AFM). */
const ASCII_WIDTHS = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278,
  278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722,
  667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556,
  556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];
/** A few non-ASCII signs muonlab writes, in Arial's widths; anything else counts 650. */
const OTHER_WIDTHS: Record<string, number> = {
  '−': 584,
  '·': 278,
  '…': 1000,
  '≈': 584,
  '×': 584,
  '≥': 549,
  '≤': 549,
  '—': 1000,
  '–': 556,
  ' ': 278,
};

/**
 * The width in pixels of `text` at `fontSize` in Helvetica/Arial metrics (bold counts 7% wider).
 *
 * @example
 * textWidth('Muon exact', 11); // ≈ 55
 */
export function textWidth(text: string, fontSize: number, bold = false): number {
  let units = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    units += c >= 32 && c <= 126 ? ASCII_WIDTHS[c - 32] : (OTHER_WIDTHS[ch] ?? 650);
  }
  return (units / 1000) * fontSize * (bold ? 1.07 : 1);
}

let metricsInstalled = false;

/** Replaces Vega's 0.8-em estimate by textWidth where there is no DOM canvas (Node). */
function installTextMetrics(): void {
  if (metricsInstalled || typeof document !== 'undefined') return;
  metricsInstalled = true;
  const metrics = (vega as unknown as { textMetrics: unknown }).textMetrics as {
    width: (item: { text?: unknown; fontSize?: number; fontWeight?: string | number }, text?: unknown) => number;
  };
  metrics.width = (item, text) => {
    const value = text ?? item.text;
    const s = Array.isArray(value) ? value.join(' ') : value == null ? '' : String(value);
    const weight = item.fontWeight;
    return textWidth(s, item.fontSize ?? 11, weight === 'bold' || (typeof weight === 'number' && weight >= 600));
  };
}

/**
 * Compiles a Vega-Lite spec; warnings (an unused encoding, a dropped scale property) are returned,
 * not printed, so tests can require none.
 *
 * @example
 * const { spec, warnings } = compileFigure(figure.spec);
 */
export function compileFigure(spec: TopLevelSpec): { spec: vega.Spec; warnings: string[] } {
  const warnings: string[] = [];
  const logger = {
    level: () => logger,
    error: (...a: unknown[]) => {
      throw new Error(a.map(String).join(' '));
    },
    warn: (...a: unknown[]) => {
      warnings.push(a.map(String).join(' '));
      return logger;
    },
    info: () => logger,
    debug: () => logger,
  };
  const compiled = compile(spec, { logger: logger as never });
  return { spec: compiled.spec, warnings };
}

/**
 * Renders a figure's spec to a standalone SVG document (white background, width/height in px).
 *
 * @example
 * const svg = await renderFigureSvg(figure.spec);
 * writeFileSync('plots/delta-vs-loss.svg', svg);
 */
export async function renderFigureSvg(spec: TopLevelSpec): Promise<string> {
  installTextMetrics();
  const { spec: vgSpec } = compileFigure(spec);
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none', logLevel: vega.Error });
  try {
    const svg = await view.toSVG();
    return svg;
  } finally {
    view.finalize();
  }
}
