/**
 * Writes figures to disk: for each Figure (a Vega-Lite spec with its data inlined, src/plots/)
 * `plots/NAME.svg` (Vega's headless view in Node, no browser), `plots/NAME.vl.json` (the spec, to open
 * and restyle in the Vega editor) and, when a browser is at hand, `plots/NAME.png` (the SVG
 * rasterized by Chromium at 2×, harness/png.ts). Without a browser the PNGs are skipped, never the SVGs.
 *
 * @example
 * const written = await writeFigures(browser, 'runs/c-capacity-onestep-quick', report.plots);
 * // { svg: ['plots/capacity-vs-d.svg'], vl: ['plots/capacity-vs-d.vl.json'], png: ['plots/capacity-vs-d.png'] }
 */
import { join } from 'node:path';
import type { Browser } from 'playwright';
import { renderFigureSvg } from '../src/plots/render';
import type { Figure } from '../src/plots/spec';
import { writeFileAtomic } from './files';
import { renderSvgsToPng } from './png';

/** Paths (relative to the run folder) of the files written per kind. */
export interface WrittenFigures {
  svg: string[];
  vl: string[];
  png: string[];
}

export async function writeFigures(browser: Browser | undefined, dir: string, figures: readonly Figure[]): Promise<WrittenFigures> {
  const svgs: string[] = [];
  for (const f of figures) svgs.push(await renderFigureSvg(f.spec));
  const pngs = browser ? await renderSvgsToPng(browser, svgs) : [];
  const written: WrittenFigures = { svg: [], vl: [], png: [] };
  figures.forEach((f, i) => {
    writeFileAtomic(join(dir, 'plots', `${f.name}.svg`), svgs[i]);
    written.svg.push(`plots/${f.name}.svg`);
    writeFileAtomic(join(dir, 'plots', `${f.name}.vl.json`), `${JSON.stringify(f.spec, null, 1)}\n`);
    written.vl.push(`plots/${f.name}.vl.json`);
    if (pngs[i]) {
      writeFileAtomic(join(dir, 'plots', `${f.name}.png`), pngs[i]);
      written.png.push(`plots/${f.name}.png`);
    }
  });
  return written;
}
