/**
 * The figure grid: the live figures of a training run (src/plots/figures/training.ts, from the
 * records read back so far) or a preset's report figures, each embedded with vega-embed (tooltips,
 * pan and zoom) and with SVG, PNG and Vega-Lite (.vl.json) export. Redraws are throttled to at most
 * 4 per second and done in an animation frame, so a fast run spends its time training, not drawing;
 * between redraws a figure whose spec kept its shape only gets its new rows (src/plots/embed.ts).
 */
import { LiveFigure } from '../plots/embed';
import { trainingFigures } from '../plots/figures/training';
import type { Figure } from '../plots/spec';
import { downloadBlob, downloadText } from './download';
import type { RunState } from './runState';

const MIN_REDRAW_MS = 250;

export class PlotPanel {
  private readonly figures = new Map<string, { element: HTMLElement; live: LiveFigure }>();
  private scheduled = false;
  private drawing: Promise<void> | null = null;
  private again = false;
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
    setTimeout(() => requestAnimationFrame(() => void this.drawNow()), wait);
  }

  /** Draws now (end of a run) when the state moved since the last draw; one draw at a time. */
  async drawNow(): Promise<void> {
    this.scheduled = false;
    if (this.drawing) {
      this.again = true;
      return this.drawing;
    }
    this.drawing = this.draw().finally(() => {
      this.drawing = null;
      if (this.again) {
        this.again = false;
        void this.drawNow();
      }
    });
    return this.drawing;
  }

  private async draw(): Promise<void> {
    this.lastDraw = performance.now();
    const state = this.getState();
    if (state.version === this.drawnVersion) return;
    this.drawnVersion = state.version;
    this.draws++;
    const shown: { id: string; figure: Figure }[] = [];
    if (state.source?.kind === 'config') for (const figure of trainingFigures(state.cells)) shown.push({ id: figure.name, figure });
    if (state.presetReport) for (const figure of state.presetReport.plots) shown.push({ id: `preset-${figure.name}`, figure });
    const wanted = new Set(shown.map((p) => p.id));
    for (const [id, f] of this.figures) {
      if (!wanted.has(id)) {
        f.live.destroy();
        f.element.remove();
        this.figures.delete(id);
      }
    }
    for (const { id, figure } of shown) {
      const f = this.figures.get(id) ?? this.createFigure(id);
      try {
        await f.live.update(figure);
        f.element.dataset.drawn = String(Number(f.element.dataset.drawn ?? 0) + 1);
      } catch (err) {
        // A figure that cannot be drawn says so in place; the others still draw.
        f.element.querySelector('.plot-svg')!.textContent = `this figure could not be drawn: ${(err as Error).message}`;
      }
    }
  }

  private createFigure(id: string): { element: HTMLElement; live: LiveFigure } {
    const element = document.createElement('figure');
    element.className = 'plot';
    element.dataset.plotId = id;
    const holder = document.createElement('div');
    holder.className = 'plot-svg';
    const bar = document.createElement('figcaption');
    const entry = { element, live: new LiveFigure(holder) };
    for (const kind of ['svg', 'png', 'vl.json'] as const) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'small';
      button.textContent = kind === 'vl.json' ? 'Vega-Lite' : kind.toUpperCase();
      button.dataset.export = kind;
      button.title =
        kind === 'vl.json'
          ? 'Download this figure as a Vega-Lite spec with its data (opens in the Vega editor)'
          : `Download this figure as ${kind.toUpperCase()}`;
      button.addEventListener('click', async () => {
        const name = `${this.fileStem()}-${id}.${kind}`;
        if (kind === 'svg') downloadText(name, await entry.live.svg(), 'image/svg+xml');
        else if (kind === 'png') downloadBlob(name, await entry.live.png(2));
        else downloadText(name, entry.live.specJson(), 'application/json');
      });
      bar.append(button);
    }
    element.append(holder, bar);
    this.grid.append(element);
    this.figures.set(id, entry);
    return entry;
  }
}
