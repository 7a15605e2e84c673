/**
 * Live figures on the page: a Figure's Vega-Lite spec embedded with vega-embed (SVG renderer, so the
 * DOM holds the marks the tests count; tooltips from vega-tooltip; drag to pan, wheel to zoom from
 * the spec's scale-bound `zoom` parameter). While a run streams records the spec's shape rarely
 * changes but its data does: `LiveFigure.update` then swaps the named datasets in the running view
 * instead of compiling the spec again, which keeps redraws cheap enough for 4 Hz during training.
 */
import embed from 'vega-embed';
import type { View } from 'vega';
import type { Figure } from './spec';

/** The spec without its datasets: what must match for an in-place data update. */
function shapeOf(figure: Figure): string {
  const { datasets: _datasets, ...rest } = figure.spec as unknown as Record<string, unknown>;
  return JSON.stringify(rest);
}

function datasetsOf(figure: Figure): Record<string, unknown[]> {
  return (figure.spec as unknown as { datasets?: Record<string, unknown[]> }).datasets ?? {};
}

/**
 * One embedded figure in `holder`. `update` redraws it with a newer Figure of the same name.
 *
 * @example
 * const live = new LiveFigure(div);
 * await live.update(figure);
 * const svg = await live.svg();
 */
export class LiveFigure {
  private view: View | null = null;
  private shape = '';
  private data = '';
  private figure: Figure | null = null;
  /** Full embeds (spec compiled) and in-place data updates so far. */
  embeds = 0;
  dataUpdates = 0;

  constructor(private readonly holder: HTMLElement) {}

  /** Draws `figure`: a data-only change updates the view in place, anything else re-embeds. */
  async update(figure: Figure): Promise<void> {
    const shape = shapeOf(figure);
    const data = JSON.stringify(datasetsOf(figure));
    if (this.view && shape === this.shape) {
      if (data === this.data) return;
      for (const [name, rows] of Object.entries(datasetsOf(figure))) this.view.data(name, rows as object[]);
      await this.view.runAsync();
      this.data = data;
      this.figure = figure;
      this.dataUpdates++;
      return;
    }
    this.view?.finalize();
    const result = await embed(this.holder, figure.spec, { renderer: 'svg', actions: false, tooltip: true });
    this.view = result.view;
    this.shape = shape;
    this.data = data;
    this.figure = figure;
    this.embeds++;
  }

  /** The figure as a standalone SVG document (what the page shows). */
  async svg(): Promise<string> {
    if (!this.view) throw new Error('LiveFigure.svg: nothing drawn yet');
    return this.view.toSVG();
  }

  /** The figure as a PNG at `scale`× (vega's canvas renderer in the browser). */
  async png(scale = 2): Promise<Blob> {
    if (!this.view) throw new Error('LiveFigure.png: nothing drawn yet');
    const url = await this.view.toImageURL('png', scale);
    return (await fetch(url)).blob();
  }

  /** The Vega-Lite spec with its data, for the Vega editor. */
  specJson(): string {
    if (!this.figure) throw new Error('LiveFigure.specJson: nothing drawn yet');
    return `${JSON.stringify(this.figure.spec, null, 1)}\n`;
  }

  destroy(): void {
    this.view?.finalize();
    this.view = null;
  }
}
