/**
 * `muonlab report DIR`: (re)renders the figures and report of a finished run folder without a GPU —
 * a preset run or merge (preset.json: the report is recomputed in Node from the cells' raw results,
 * exactly as the page would, and written with its figures), or a config run or merge (config.json:
 * the figures of every finished cell's records). SVG and .vl.json always; PNG when a Chromium can be
 * launched (otherwise said once and skipped).
 *
 * @example
 * await reportFolder('runs/c-capacity-onestep-quick'); // summary.json, report.md, plots/*.svg|vl.json|png
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright';
import { presetByName } from '../src/experiments/presets';
import { readRunKind } from './merge';
import { launchPngRenderer } from './png';
import { collectPresetResults, ranOnFromEnvFiles, writePresetReport } from './presetRun';
import { writeSweepPlots } from './sweepPlots';

/** The env.json files that say where a folder's cells ran: its own, and a merge's sources'. */
function envFilesOf(dir: string): string[] {
  const files = [join(dir, 'env.json')];
  const merge = join(dir, 'merge.json');
  if (existsSync(merge)) {
    const sources = (JSON.parse(readFileSync(merge, 'utf8')) as { sources?: string[] }).sources ?? [];
    files.push(...sources.map((s) => join(s, 'env.json')));
  }
  return files;
}

/**
 * Re-renders one run folder; returns the paths written (relative to the folder). Throws naming the
 * folder when it is not a run folder or a preset's cells are unfinished.
 */
export async function reportFolder(
  dir: string,
  options: { browser?: Browser | undefined; log?: (message: string) => void } = {},
): Promise<string[]> {
  const root = resolve(dir);
  const kind = readRunKind(root);
  const log = options.log ?? ((m: string) => console.error(m));
  const browser = 'browser' in options ? options.browser : await launchPngRenderer(log);
  try {
    if (kind.kind === 'preset') {
      const m = kind.manifest;
      const { results, missing } = collectPresetResults(root, m.cells);
      if (missing.length)
        throw new RangeError(
          `${root}: ${missing.length} cell(s) of ${m.preset} (${m.scale}) have no result yet (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}); finish them (--resume) or merge the shards first`,
        );
      const report = presetByName(m.preset).summarize(m.scale, results);
      await writePresetReport(browser, root, report, ranOnFromEnvFiles(envFilesOf(root)));
      const summary = JSON.parse(readFileSync(join(root, 'summary.json'), 'utf8')) as { plots: string[]; png: string[]; specs: string[] };
      return ['summary.json', 'report.md', ...summary.plots, ...summary.specs, ...summary.png];
    }
    const written = await writeSweepPlots(browser, root);
    return [...written.svg, ...written.vl, ...written.png];
  } finally {
    if (!('browser' in options)) await browser?.close();
  }
}
