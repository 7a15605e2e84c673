/**
 * Line/scatter plots as standalone SVG strings (no DOM, no GPU): d3-scale for axes and ticks,
 * d3-shape for the paths. The same code renders in Node (reports) and in the page. Each series is a
 * <g data-series="name"> so tests and tools can count its points.
 */
import { scaleLinear, scaleLog, type ScaleContinuousNumeric } from 'd3-scale';
import { line } from 'd3-shape';

export interface PlotSeries {
  name: string;
  points: [number, number][];
  color?: string;
  /** Draw markers only (measurements) or a line (fits, predictions). */
  style?: 'line' | 'points' | 'both';
  dashed?: boolean;
}

export interface PlotSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  xLog?: boolean;
  yLog?: boolean;
  series: PlotSeries[];
  width?: number;
  height?: number;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

function extent(values: number[], log: boolean): [number, number] {
  const usable = values.filter((v) => Number.isFinite(v) && (!log || v > 0));
  if (usable.length === 0) return log ? [1, 10] : [0, 1];
  let lo = Math.min(...usable);
  let hi = Math.max(...usable);
  if (lo === hi) {
    lo = log ? lo / 2 : lo - 1;
    hi = log ? hi * 2 : hi + 1;
  }
  return [lo, hi];
}

/**
 * @example
 * const svg = renderPlot({ title: 'capacity', xLabel: 'd', yLabel: 'items', xLog: true, yLog: true,
 *   series: [{ name: 'Muon', points: [[64, 56], [128, 145]] }] });
 */
export function renderPlot(spec: PlotSpec): string {
  const width = spec.width ?? 640;
  const height = spec.height ?? 400;
  const margin = { left: 70, right: 150, top: 36, bottom: 50 };
  const all = spec.series.flatMap((s) => s.points);
  const xs = extent(all.map((p) => p[0]), Boolean(spec.xLog));
  const ys = extent(all.map((p) => p[1]), Boolean(spec.yLog));
  const x: ScaleContinuousNumeric<number, number> = (spec.xLog ? scaleLog() : scaleLinear()).domain(xs).range([margin.left, width - margin.right]).nice();
  const y: ScaleContinuousNumeric<number, number> = (spec.yLog ? scaleLog() : scaleLinear()).domain(ys).range([height - margin.bottom, margin.top]).nice();
  const ok = (p: [number, number]) => Number.isFinite(p[0]) && Number.isFinite(p[1]) && (!spec.xLog || p[0] > 0) && (!spec.yLog || p[1] > 0);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  parts.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(spec.title)}</text>`);
  const [x0, x1] = x.range();
  const [y0, y1] = y.range();
  parts.push(`<g class="axes" stroke="#444" fill="none"><line x1="${x0}" y1="${y0}" x2="${x1}" y2="${y0}"/><line x1="${x0}" y1="${y0}" x2="${x0}" y2="${y1}"/></g>`);
  const fmt = (v: number) => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(0) : String(+v.toPrecision(3)));
  const xTicks = spec.xLog ? x.ticks(6).filter((_v, i, arr) => arr.length <= 8 || i % Math.ceil(arr.length / 8) === 0) : x.ticks(6);
  const yTicks = spec.yLog ? y.ticks(6).filter((_v, i, arr) => arr.length <= 8 || i % Math.ceil(arr.length / 8) === 0) : y.ticks(6);
  for (const t of xTicks) parts.push(`<g class="tick"><line x1="${x(t)}" y1="${y0}" x2="${x(t)}" y2="${y0 + 5}" stroke="#444"/><text x="${x(t)}" y="${y0 + 18}" text-anchor="middle">${fmt(t)}</text></g>`);
  for (const t of yTicks) parts.push(`<g class="tick"><line x1="${x0 - 5}" y1="${y(t)}" x2="${x0}" y2="${y(t)}" stroke="#444"/><text x="${x0 - 8}" y="${y(t) + 4}" text-anchor="end">${fmt(t)}</text></g>`);
  parts.push(`<text x="${(x0 + x1) / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${(y0 + y1) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(spec.yLabel)}</text>`);
  spec.series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length];
    const pts = s.points.filter(ok);
    const style = s.style ?? 'both';
    parts.push(`<g class="series" data-series="${escapeXml(s.name)}" data-points="${pts.length}">`);
    if (style !== 'points' && pts.length > 1) {
      const d = line<[number, number]>().x((p) => x(p[0])).y((p) => y(p[1]))(pts);
      parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    }
    if (style !== 'line') for (const p of pts) parts.push(`<circle cx="${x(p[0]).toFixed(2)}" cy="${y(p[1]).toFixed(2)}" r="3.5" fill="${color}"/>`);
    parts.push('</g>');
    const ly = margin.top + 10 + k * 18;
    parts.push(`<g class="legend"><line x1="${width - margin.right + 12}" y1="${ly}" x2="${width - margin.right + 32}" y2="${ly}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/><text x="${width - margin.right + 38}" y="${ly + 4}">${escapeXml(s.name)}</text></g>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
