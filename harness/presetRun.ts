/**
 * `muonlab run PRESET --scale S [--shard i/n] [--resume] [--profile]`: every preset runs as cells
 * (src/experiments/presets/cellular.ts); each cell's raw result is written to
 * `<dir>/cells/<id>/result.json` as soon as it is done, so an interrupted run keeps its finished
 * cells and `--resume` skips them; when every cell of the scale has a result (this run, earlier
 * runs, or other shards copied in by `muonlab merge`), the report is recomputed from those raw
 * results. Writing a report also renders its SVG plots to PNG in the same browser.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Browser } from 'playwright';
import type { RunProfile } from '../src/gpu/runProfile';
import { PresetCellFileSchema, PresetRunManifestSchema, type PresetCellFile, type PresetRunManifest } from '../src/experiments/results';
import { parseShard, shardByCost } from '../src/experiments/sweep';
import {
  verdictCounts,
  type PredictionRecord,
  type PresetCell,
  type PresetCellResult,
  type PresetReport,
  type Scale,
} from '../src/experiments/presets/types';
import { measurementRows, toCsv } from '../src/experiments/tidyCsv';
import { writeFileAtomic, writeJsonAtomic } from './files';
import { writeFigures } from './figures';
import type { Session } from './session';
import { formatTable } from './table';

/** A cell's folder name: its id with anything but letters, digits, `.`, `=`, `,` and `-` replaced. */
export function presetCellDirectory(dir: string, cell: PresetCell): string {
  return join(dir, 'cells', cell.id.replace(/[^A-Za-z0-9.=,-]+/g, '_').slice(0, 120));
}

/** Reads a cell's stored result, or null if it has none (unfinished). Throws on a foreign file. */
export function readPresetCell(dir: string, cell: PresetCell): PresetCellFile | null {
  const file = join(presetCellDirectory(dir, cell), 'result.json');
  if (!existsSync(file)) return null;
  const parsed = PresetCellFileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success)
    throw new RangeError(
      `${file}: not a muonlab.preset-cell/1 file: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

/**
 * Writes preset.json. With `keep` (--resume, --shard: the folder's results will be reused), an
 * existing one must describe the same preset, scale and cells; otherwise a fresh run replaces it
 * (every cell is run again, so no stale result is read).
 */
export function ensurePresetManifest(dir: string, manifest: PresetRunManifest, keep = true): void {
  const file = join(dir, 'preset.json');
  if (existsSync(file) && keep) {
    const old = PresetRunManifestSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
    const problem = manifestMismatch(old, manifest);
    if (problem)
      throw new RangeError(
        `${dir} holds results of another run (${problem}); use another --out, or run without --resume/--shard to start over`,
      );
    return;
  }
  // A fresh run: results left by an earlier run in this folder must not count as this run's.
  if (!keep) for (const cell of manifest.cells) rmSync(join(presetCellDirectory(dir, cell), 'result.json'), { force: true });
  writeJsonAtomic(file, manifest);
}

/** Why two manifests cannot share results, or null. */
export function manifestMismatch(a: PresetRunManifest, b: PresetRunManifest): string | null {
  if (a.preset !== b.preset) return `preset ${a.preset} vs ${b.preset}`;
  if (a.scale !== b.scale) return `scale ${a.scale} vs ${b.scale}`;
  if (JSON.stringify(a.cells) !== JSON.stringify(b.cells)) return 'the cells differ (another muonlab version?)';
  return null;
}

export interface PresetPlan {
  cells: PresetCell[];
  /** This invocation's share of the cells (all of them without --shard). */
  mine: PresetCell[];
  /** Cells this invocation runs (its shard, minus finished ones with --resume). */
  todo: PresetCell[];
}

export function planPresetCells(dir: string, cells: PresetCell[], options: { shard?: string; resume?: boolean }): PresetPlan {
  const mine = options.shard ? shardByCost(cells, (c) => c.cost, parseShard(options.shard).shard, parseShard(options.shard).count) : cells;
  const todo = options.resume ? mine.filter((c) => readPresetCell(dir, c) === null) : mine;
  return { cells, mine, todo };
}

/** Every cell's stored result, or the ids of those missing. */
export function collectPresetResults(dir: string, cells: readonly PresetCell[]): { results: PresetCellResult[]; missing: string[] } {
  const results: PresetCellResult[] = [];
  const missing: string[] = [];
  for (const cell of cells) {
    const stored = readPresetCell(dir, cell);
    if (stored) results.push({ cell: stored.cell, result: stored.result, elapsedMs: stored.elapsedMs });
    else missing.push(cell.id);
  }
  return { results, missing };
}

/** Where a run's cells ran: host and adapter, from the env.json files of its folders. */
export interface RanOn {
  host: string;
  adapter: string;
  fallback: boolean;
}

/**
 * The distinct hosts/adapters recorded in these env.json files (missing files are skipped).
 *
 * @example
 * ranOnFromEnvFiles(['runs/b-balance-onestep-ci/env.json']); // [{ host: 'browser', adapter: 'google / swiftshader', fallback: true }]
 */
export function ranOnFromEnvFiles(files: readonly string[]): RanOn[] {
  const seen = new Map<string, RanOn>();
  for (const f of files) {
    if (!existsSync(f)) continue;
    const env = JSON.parse(readFileSync(f, 'utf8')) as {
      host?: string;
      adapter: { vendor: string; architecture: string; description: string; isFallbackAdapter: boolean };
    };
    const a = env.adapter;
    const r = {
      host: env.host ?? 'browser',
      adapter: [a.vendor, a.architecture, a.description].filter(Boolean).join(' / '),
      fallback: Boolean(a.isFallbackAdapter),
    };
    seen.set(JSON.stringify(r), r);
  }
  return [...seen.values()];
}

/** The report's opening line about where it ran; a fallback adapter is named as one. */
export function ranOnMarkdown(ranOn: readonly RanOn[]): string {
  if (!ranOn.length) return '';
  const parts = ranOn.map(
    (r) =>
      `${r.adapter} on the ${r.host} host${r.fallback ? ' — a **FALLBACK adapter** (a CPU emulation, not a GPU): timings say nothing about GPUs' : ''}`,
  );
  return `> Ran on ${parts.join('; ')}.\n\n`;
}

/**
 * One line of verdict counts: disagreements first (they alone fail a run), then agreements, and
 * inconclusive / reported rows apart.
 *
 * @example
 * verdictLine(report.predictions); // 'no prediction disagrees, 9 agree; apart: 2 inconclusive'
 */
export function verdictLine(predictions: readonly PredictionRecord[]): string {
  const c = verdictCounts(predictions);
  const apart = [c.inconclusive ? `${c.inconclusive} inconclusive` : '', c.reported ? `${c.reported} reported (not checked)` : '']
    .filter(Boolean)
    .join(', ');
  return `${c.disagrees === 0 ? 'no prediction disagrees' : `${c.disagrees} prediction(s) DISAGREE`}, ${c.agrees} agree${apart ? `; apart: ${apart}` : ''}`;
}

/**
 * Writes summary.json, report.md, plots/*.svg, plots/*.vl.json and plots/*.png; prints the prediction
 * table. PNGs need a browser to render them: without one (the Node host on a machine without
 * Chromium) only the SVGs and specs are written and summary.json lists no PNG. `ranOn` (default: the folder's env.json) labels the
 * summary and the report with the host and adapter, fallback adapters as such.
 */
export async function writePresetReport(
  browser: Browser | undefined,
  dir: string,
  report: PresetReport & { profile?: unknown },
  ranOn: readonly RanOn[] = ranOnFromEnvFiles([join(dir, 'env.json')]),
): Promise<void> {
  const written = await writeFigures(browser, dir, report.plots);
  const { plots: _plots, markdown, profile: _profile, ...summary } = report;
  writeJsonAtomic(join(dir, 'summary.json'), {
    ...summary,
    plots: written.svg,
    png: written.png,
    specs: written.vl,
    ranOn,
    fallbackAdapter: ranOn.some((r) => r.fallback),
  });
  writeFileAtomic(join(dir, 'report.md'), ranOnMarkdown(ranOn) + markdown);
  writeFileAtomic(join(dir, 'measurements.csv'), toCsv(measurementRows(report.preset, report.measurements)));
  console.log(
    formatTable(
      ['prediction', 'predicted', 'measured', 'tolerance', 'verdict'],
      report.predictions.map((p) => [
        p.name,
        typeof p.predicted === 'number' ? p.predicted.toPrecision(4) : p.predicted,
        p.ci && p.measured !== null
          ? `${p.measured.toPrecision(4)} [${p.ci[0]?.toPrecision(3)}, ${p.ci[1]?.toPrecision(3)}]`
          : p.measured === null
            ? '—'
            : p.measured.toPrecision(4),
        p.tolerance,
        p.verdict === 'disagrees' ? 'DISAGREES' : (p.verdict ?? 'DISAGREES'),
      ]),
    ),
  );
  console.log(
    `${verdictLine(report.predictions)} — ${(report.elapsedMs / 1000).toFixed(0)} s; report: ${relative(process.cwd(), join(dir, 'report.md'))}`,
  );
  for (const p of report.predictions.filter((x) => x.verdict === 'inconclusive')) console.log(`  inconclusive: ${p.name} — ${p.why ?? ''}`);
}

/**
 * Runs this invocation's cells of a preset and, when all cells have results, writes the report.
 * Returns the report, or null when cells are still missing (another shard's). With `profile`, each
 * cell run here is profiled and its profile handed to `onProfile` with the cell's folder (as a
 * config run's cells: `cells/<id>/profile.json`).
 */
export async function runPresetInCells(
  session: Session,
  name: string,
  scale: Scale,
  dir: string,
  cells: PresetCell[],
  options: {
    shard?: string;
    resume?: boolean;
    profile?: boolean;
    onCell?: (done: number, total: number, cell: PresetCell) => void;
    onProfile?: (cellDir: string, profile: RunProfile) => void;
  },
): Promise<PresetReport | null> {
  ensurePresetManifest(dir, { schema: 'muonlab.preset-run/1', preset: name, scale, cells }, Boolean(options.shard || options.resume));
  const plan = planPresetCells(dir, cells, options);
  console.log(
    `${cells.length} cell(s)${options.shard ? `, shard ${options.shard}` : ''}, ${plan.todo.length} to run here${options.resume ? ` (${plan.mine.length - plan.todo.length}${options.shard ? " of this shard's cells" : ''} finished earlier)` : ''}`,
  );
  for (const [k, cell] of plan.todo.entries()) {
    options.onCell?.(k, plan.todo.length, cell);
    const started = performance.now();
    const { result, profile } = await session.call('runPresetCell', name, scale, cell, { profile: options.profile });
    const file: PresetCellFile = {
      schema: 'muonlab.preset-cell/1',
      preset: name,
      scale,
      cell,
      result,
      elapsedMs: performance.now() - started,
      createdAt: new Date().toISOString(),
    };
    writeJsonAtomic(join(presetCellDirectory(dir, cell), 'result.json'), PresetCellFileSchema.parse(file));
    if (profile) options.onProfile?.(presetCellDirectory(dir, cell), profile);
  }
  options.onCell?.(plan.todo.length, plan.todo.length, cells[cells.length - 1]);
  const { results, missing } = collectPresetResults(dir, cells);
  if (missing.length) {
    console.log(`${missing.length} cell(s) have no result here yet (other shards): combine the shard folders with \`muonlab merge DIR…\``);
    return null;
  }
  const report = await session.call('summarizePreset', name, scale, results);
  await writePresetReport(await session.renderer(), dir, report);
  return report;
}
