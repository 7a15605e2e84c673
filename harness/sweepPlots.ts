/**
 * Plots of a config run on disk: the page's live plots (src/ui/plotModels.ts + plotSvg.ts — the same
 * code the page draws with) built from every finished cell's metrics.jsonl, written as
 * `<root>/plots/<id>.svg` and, rendered by the headless browser, `<root>/plots/<id>.png`.
 *
 * @example
 * await writeSweepPlots(await session.renderer(), 'runs/balance-demo'); // plots/loss.svg, plots/loss.png, …
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright';
import { parseExperimentConfig } from '../src/experiments/config';
import { buildPlots } from '../src/ui/plotModels';
import { renderLivePlot } from '../src/ui/plotSvg';
import { createRunState, type RunState } from '../src/ui/runState';
import { writeFileAtomic } from './files';
import { readFinishedCells } from './merge';
import { renderSvgsToPng } from './png';

/** The run state the page would hold after running this folder's finished cells. */
export function runStateOfFolder(root: string): RunState {
  const config = parseExperimentConfig(JSON.parse(readFileSync(join(root, 'config.json'), 'utf8')));
  const state = createRunState();
  state.source = { kind: 'config', config };
  state.status = 'done';
  state.cells = readFinishedCells(root).map(({ cell, records }) => ({ id: cell.id, point: cell.point, config: cell.config, records, stopped: null }));
  return state;
}

/** The live plots of a run folder as SVG text, by plot id. */
export function sweepPlotSvgs(root: string): { name: string; svg: string }[] {
  return buildPlots(runStateOfFolder(root)).map((spec) => ({ name: spec.id, svg: renderLivePlot(spec) }));
}

/** Writes plots/<id>.svg and plots/<id>.png (PNG rendered in `browser`, skipped without one); returns the plot ids. */
export async function writeSweepPlots(browser: Browser | undefined, root: string): Promise<string[]> {
  const plots = sweepPlotSvgs(root);
  const pngs = browser ? await renderSvgsToPng(browser, plots.map((p) => p.svg)) : [];
  plots.forEach((plot, i) => {
    writeFileAtomic(join(root, 'plots', `${plot.name}.svg`), plot.svg);
    if (pngs[i]) writeFileAtomic(join(root, 'plots', `${plot.name}.png`), pngs[i]);
  });
  return plots.map((p) => p.name);
}
