/**
 * The page's plots as standalone SVG strings: d3-scale for axes and ticks, d3-shape for lines and
 * seed bands (d3 `area` between the lowest and highest seed at each x). Standalone strings, so the
 * same markup is shown, exported as .svg and rasterized to .png. Every series is a
 * `<g class="series" data-series=… data-points=…>` and every band a `<path class="band">` inside it,
 * so tests count what was drawn from the DOM.
 */
import { scaleLinear, scaleLog, type ScaleContinuousNumeric } from 'd3-scale';
import { area, line } from 'd3-shape';

export interface LiveSeries {
  name: string;
  /** [x, y] in data units; points that cannot be drawn (non-finite, ≤ 0 on a log axis) are dropped. */
  points: [number, number][];
  /** [x, yLow, yHigh]: the spread over seeds, drawn as a translucent band behind the line. */
  band?: [number, number, number][];
  color: string;
  style?: 'line' | 'points' | 'both';
  /** A dashed line (predictions, tail buckets, updates); `dash` sets its SVG dash pattern. */
  dashed?: boolean;
  dash?: string;
}

export interface LivePlotSpec {
  id: string;
  title: string;
  /** Lines under the title ('\n' separates them): fitted slopes, isotropy numbers, what is missing. */
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  xLog?: boolean;
  yLog?: boolean;
  series: LiveSeries[];
  width?: number;
  height?: number;
}

/** Colours per optimizer name (stable across plots and runs), then a palette for anything else. */
const OPTIMIZER_COLORS: Record<string, string> = {
  gd: '#1f77b4',
  sgd: '#17becf',
  signgd: '#ff7f0e',
  adam: '#2ca02c',
  adamw: '#8c564b',
  muon: '#d62728',
  'muon-reg': '#9467bd',
  'tra-signgd': '#e377c2',
};
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];

/** The colour of an optimizer by its kernel name, or of the k-th other series. */
export function pickColor(key: string, k: number): string {
  return OPTIMIZER_COLORS[key] ?? PALETTE[k % PALETTE.length];
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

function usable(v: number, log: boolean): boolean {
  return Number.isFinite(v) && (!log || v > 0);
}

function extent(values: number[], log: boolean): [number, number] {
  const ok = values.filter((v) => usable(v, log));
  if (ok.length === 0) return log ? [1, 10] : [0, 1];
  let lo = Math.min(...ok);
  let hi = Math.max(...ok);
  if (lo === hi) {
    lo = log ? lo / 2 : lo - 1;
    hi = log ? hi * 2 : hi + 1;
  }
  return [lo, hi];
}

function formatTick(v: number): string {
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(0) : String(+v.toPrecision(3));
}

/** Log-axis ticks thinned to at most 8 labels (d3 gives every 1…9 multiple per decade). */
function ticksOf(scale: ScaleContinuousNumeric<number, number>, log: boolean): number[] {
  const t = scale.ticks(6);
  if (!log || t.length <= 8) return t;
  const powers = t.filter((v) => Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9);
  return powers.length >= 2 ? powers : t.filter((_v, i) => i % Math.ceil(t.length / 8) === 0);
}

/**
 * Renders one plot. A plot with no drawable point still renders its frame and a "waiting for data"
 * note, so the page layout does not jump while a run starts.
 *
 * @example
 * renderLivePlot({ id: 'loss', title: 'loss', xLabel: 'step + 1', yLabel: 'loss', xLog: true, yLog: true,
 *   series: [{ name: 'muon', color: '#d62728', points: [[1, 4.1], [2, 3.2]], band: [[1, 4, 4.2], [2, 3.1, 3.3]] }] });
 */
export function renderLivePlot(spec: LivePlotSpec): string {
  const width = spec.width ?? 560;
  const height = spec.height ?? 340;
  const subtitle = spec.subtitle ? spec.subtitle.split('\n') : [];
  const margin = { left: 64, right: 170, top: 32 + 14 * subtitle.length, bottom: 46 };
  const xLog = Boolean(spec.xLog);
  const yLog = Boolean(spec.yLog);
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of spec.series) {
    for (const [px, py] of s.points) {
      if (usable(px, xLog) && usable(py, yLog)) {
        xs.push(px);
        ys.push(py);
      }
    }
    for (const [bx, lo, hi] of s.band ?? []) {
      if (usable(bx, xLog) && usable(lo, yLog) && usable(hi, yLog)) {
        xs.push(bx);
        ys.push(lo, hi);
      }
    }
  }
  const x: ScaleContinuousNumeric<number, number> = (xLog ? scaleLog() : scaleLinear()).domain(extent(xs, xLog)).range([margin.left, width - margin.right]).nice();
  const y: ScaleContinuousNumeric<number, number> = (yLog ? scaleLog() : scaleLinear()).domain(extent(ys, yLog)).range([height - margin.bottom, margin.top]).nice();
  const [x0, x1] = x.range();
  const [y0, y1] = y.range();
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" class="live-plot" data-plot="${escapeXml(spec.id)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  parts.push(`<text x="${(x0 + x1) / 2}" y="18" text-anchor="middle" font-size="13" font-weight="600">${escapeXml(spec.title)}</text>`);
  subtitle.forEach((text, i) => parts.push(`<text x="${(x0 + x1) / 2}" y="${34 + 14 * i}" text-anchor="middle" fill="#444">${escapeXml(text)}</text>`));
  parts.push(`<g class="axes" stroke="#444" fill="none"><line x1="${x0}" y1="${y0}" x2="${x1}" y2="${y0}"/><line x1="${x0}" y1="${y0}" x2="${x0}" y2="${y1}"/></g>`);
  for (const t of ticksOf(x, xLog)) parts.push(`<g class="tick"><line x1="${x(t)}" y1="${y0}" x2="${x(t)}" y2="${y0 + 4}" stroke="#444"/><text x="${x(t)}" y="${y0 + 16}" text-anchor="middle">${formatTick(t)}</text></g>`);
  for (const t of ticksOf(y, yLog)) parts.push(`<g class="tick"><line x1="${x0 - 4}" y1="${y(t)}" x2="${x0}" y2="${y(t)}" stroke="#444"/><text x="${x0 - 7}" y="${y(t) + 4}" text-anchor="end">${formatTick(t)}</text></g>`);
  parts.push(`<text x="${(x0 + x1) / 2}" y="${height - 8}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${(y0 + y1) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(spec.yLabel)}</text>`);
  let drawn = 0;
  spec.series.forEach((s, k) => {
    const pts = s.points.filter(([px, py]) => usable(px, xLog) && usable(py, yLog));
    const band = (s.band ?? []).filter(([bx, lo, hi]) => usable(bx, xLog) && usable(lo, yLog) && usable(hi, yLog));
    const style = s.style ?? 'line';
    drawn += pts.length;
    parts.push(`<g class="series" data-series="${escapeXml(s.name)}" data-points="${pts.length}" data-band-points="${band.length}">`);
    if (band.length > 1) {
      const d = area<[number, number, number]>().x((p) => x(p[0])).y0((p) => y(p[1])).y1((p) => y(p[2]))(band);
      parts.push(`<path class="band" d="${d}" fill="${s.color}" fill-opacity="0.2" stroke="none"/>`);
    }
    if (style !== 'points' && pts.length > 1) {
      const d = line<[number, number]>().x((p) => x(p[0])).y((p) => y(p[1]))(pts);
      parts.push(`<path class="line" d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed || s.dash ? ` stroke-dasharray="${s.dash ?? '6 4'}"` : ''}/>`);
    }
    if (style !== 'line' || pts.length === 1) for (const p of pts) parts.push(`<circle cx="${x(p[0]).toFixed(2)}" cy="${y(p[1]).toFixed(2)}" r="3" fill="${s.color}"/>`);
    parts.push('</g>');
    const ly = margin.top + 8 + k * 16;
    parts.push(`<g class="legend"><line x1="${width - margin.right + 10}" y1="${ly}" x2="${width - margin.right + 30}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dashed || s.dash ? ` stroke-dasharray="${s.dash ?? '6 4'}"` : ''}/><text x="${width - margin.right + 35}" y="${ly + 4}">${escapeXml(s.name)}</text></g>`);
  });
  if (drawn === 0) parts.push(`<text class="empty" x="${(x0 + x1) / 2}" y="${(y0 + y1) / 2}" text-anchor="middle" fill="#888">waiting for data</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}
