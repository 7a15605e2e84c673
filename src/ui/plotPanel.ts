/**
 * The plot grid: the live plots of a training run (plotModels.ts) or a preset's report plots, each
 * with SVG and PNG export. Redraws are throttled to at most 4 per second and done in an animation
 * frame, so a fast run spends its time training, not drawing.
 */
import { downloadBlob, downloadText, svgToPng } from './download';
import { buildPlots } from './plotModels';
import { renderLivePlot } from './plotSvg';
import type { RunState } from './runState';

const MIN_REDRAW_MS = 250;

export class PlotPanel {
  private readonly figures = new Map<string, { figure: HTMLElement; holder: HTMLElement; svg: string }>();
  private scheduled = false;
  private lastDraw = 0;
  private drawnVersion = -1;
  /** Redraws so far (for the page's tests and curious users). */
  draws = 0;

  constructor(
    private readonly grid: HTMLElement,
    private readonly getState: () => RunState,
    private readonly fileStem: () => string,
  ) {}

  /** Schedules a redraw (coalesced; ≤ 4 Hz). */
  request(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const wait = Math.max(0, MIN_REDRAW_MS - (performance.now() - this.lastDraw));
    setTimeout(() => requestAnimationFrame(() => this.drawNow()), wait);
  }

  /** Draws immediately (end of a run) when the state moved since the last draw. */
  drawNow(): void {
    this.scheduled = false;
    this.lastDraw = performance.now();
    const state = this.getState();
    if (state.version === this.drawnVersion) return;
    this.drawnVersion = state.version;
    this.draws++;
    const plots: { id: string; svg: string }[] = [];
    if (state.source?.kind === 'config') for (const spec of buildPlots(state)) plots.push({ id: spec.id, svg: renderLivePlot(spec) });
    if (state.presetReport) for (const p of state.presetReport.plots) plots.push({ id: `preset-${p.name}`, svg: p.svg });
    const wanted = new Set(plots.map((p) => p.id));
    for (const [id, f] of this.figures) {
      if (!wanted.has(id)) {
        f.figure.remove();
        this.figures.delete(id);
      }
    }
    for (const p of plots) {
      const f = this.figures.get(p.id) ?? this.createFigure(p.id);
      if (f.svg !== p.svg) {
        f.holder.innerHTML = p.svg;
        f.svg = p.svg;
      }
    }
  }

  private createFigure(id: string): { figure: HTMLElement; holder: HTMLElement; svg: string } {
    const figure = document.createElement('figure');
    figure.className = 'plot';
    figure.dataset.plotId = id;
    const holder = document.createElement('div');
    holder.className = 'plot-svg';
    const bar = document.createElement('figcaption');
    const entry = { figure, holder, svg: '' };
    for (const kind of ['svg', 'png'] as const) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'small';
      button.textContent = kind.toUpperCase();
      button.dataset.export = kind;
      button.title = `Download this plot as ${kind.toUpperCase()}`;
      button.addEventListener('click', async () => {
        const name = `${this.fileStem()}-${id}.${kind}`;
        if (kind === 'svg') downloadText(name, entry.svg, 'image/svg+xml');
        else downloadBlob(name, await svgToPng(entry.svg));
      });
      bar.append(button);
    }
    figure.append(holder, bar);
    this.grid.append(figure);
    this.figures.set(id, entry);
    return entry;
  }
}
