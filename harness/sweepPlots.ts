/**
 * Figures of a config run on disk: the page's live figures (src/plots/figures/training.ts — the same
 * functions the page draws with) built from every finished cell's metrics.jsonl, written as
 * `<root>/plots/<id>.svg`, `<id>.vl.json` and, rendered by the headless browser, `<id>.png`.
 *
 * @example
 * await writeSweepPlots(await session.renderer(), 'runs/balance-demo'); // plots/loss.svg, plots/loss.vl.json, plots/loss.png, …
 */
import type { Browser } from 'playwright';
import { trainingFigures, type TrainingCell } from '../src/plots/figures/training';
import type { Figure } from '../src/plots/spec';
import { writeFigures, type WrittenFigures } from './figures';
import { readFinishedCells } from './merge';

/** The cells (config and records) of a run folder's finished cells, as the page holds them. */
export function trainingCellsOfFolder(root: string): TrainingCell[] {
  return readFinishedCells(root).map(({ cell, records }) => ({ id: cell.id, point: cell.point, config: cell.config, records }));
}

/** The figures of a run folder (specs with data inlined), in TRAINING_FIGURES order. */
export function sweepFigures(root: string): Figure[] {
  return trainingFigures(trainingCellsOfFolder(root));
}

/** Writes plots/<id>.svg, .vl.json and .png (PNG rendered in `browser`, skipped without one). */
export async function writeSweepPlots(browser: Browser | undefined, root: string): Promise<WrittenFigures> {
  return writeFigures(browser, root, sweepFigures(root));
}
