/**
 * `muonlab merge DIR… [--out DIR]`: combines the folders of `--shard i/n` runs into one run folder
 * and recomputes its summary from the cells' raw results — never from a shard's summary:
 *
 * - config sweeps (`muonlab run CONFIG.json`): every input's config.json must be the same config;
 *   finished cells (with summary.json) are copied, and the root summary.json (per run: last step,
 *   loss, capacity from metrics.jsonl, recovered items over all N from the per-item `correct` file;
 *   power-law fits of capacity along every numeric sweep axis) is computed from those files.
 * - presets (`muonlab run PRESET --shard`): every input's preset.json must name the same preset,
 *   scale and cells; the cells' result.json files are copied, and the report is recomputed in the
 *   page from all of them (runPresetInCells / summarizePreset).
 */
import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseExperimentConfig, type ExperimentConfig } from '../src/experiments/config';
import { expandSweep, type SweepCell } from '../src/experiments/sweep';
import {
  PresetRunManifestSchema,
  readPresetSummary,
  SweepSummarySchema,
  type PresetRunManifest,
  type SweepSummary,
} from '../src/experiments/results';
import { fitPowerLaw } from '../src/metrics/fits';
import { recordRows, toCsv, type TidyRow } from '../src/experiments/tidyCsv';
import type { TrainMetricsRecord } from '../src/train/records';
import { readJsonLines, writeFileAtomic, writeJsonAtomic } from './files';
import { firstDifference } from './digest';
import { cellDirectory, finishedCellCheck, ResultsMismatchError } from './run';
import { HOLDER_FILE, LOCK_DIR } from './lock';
import { UsageError } from './errors';
import { manifestMismatch, presetCellDirectory, readPresetCell } from './presetRun';

type RunKind = { kind: 'config'; config: ExperimentConfig } | { kind: 'preset'; manifest: PresetRunManifest };

/** What a run folder holds: a config sweep (config.json) or a preset's cells (preset.json). */
export function readRunKind(dir: string): RunKind {
  const presetFile = join(dir, 'preset.json');
  if (existsSync(presetFile))
    return { kind: 'preset', manifest: PresetRunManifestSchema.parse(JSON.parse(readFileSync(presetFile, 'utf8'))) };
  const configFile = join(dir, 'config.json');
  if (existsSync(configFile)) {
    try {
      return { kind: 'config', config: parseExperimentConfig(JSON.parse(readFileSync(configFile, 'utf8'))) };
    } catch (err) {
      throw new UsageError(`${configFile}: ${(err as Error).message}`, { cause: err });
    }
  }
  throw new UsageError(`${dir}: not a muonlab run folder (no preset.json or config.json; give the folder that holds cells/)`);
}

export { firstDifference };

interface MetricsLine {
  run: number;
  optimizer: string;
  runSeed: number;
  step: number;
  loss: number | null;
  capacity: number;
  diverged: boolean;
  divergedAtStep: number | null;
  divergedReason?: 'non-finite' | 'loss-growth' | null;
}

/** A cell's metric records; a cut-short last line (a crash, a full disk) is dropped with a warning. */
function readMetrics(dir: string): MetricsLine[] {
  const file = join(dir, 'metrics.jsonl');
  return readJsonLines(file, (message) => console.error(`muonlab: ${message}`)).map((line, i) => {
    const r = line as MetricsLine & { schema?: string };
    if (r.schema !== 'muonlab.metrics/1') throw new RangeError(`${file}:${i + 1}: not a muonlab.metrics/1 record`);
    return r;
  });
}

/**
 * The sweep summary of a config run folder, from metrics.jsonl and per-item files of its finished
 * cells (a cell is finished when it has summary.json).
 */
export function summarizeSweep(root: string): SweepSummary {
  const config = parseExperimentConfig(JSON.parse(readFileSync(join(root, 'config.json'), 'utf8')));
  const cells = expandSweep(config);
  const out: SweepSummary['cells'] = [];
  const missing: string[] = [];
  for (const cell of cells) {
    const dir = cellDirectory(root, cell);
    if (!existsSync(join(dir, 'summary.json'))) {
      missing.push(cell.id);
      continue;
    }
    const records = readMetrics(dir);
    const lastStep = records.reduce((m, r) => Math.max(m, r.step), 0);
    const byRun = new Map<number, MetricsLine>();
    for (const r of records) if (!byRun.has(r.run) || byRun.get(r.run)!.step <= r.step) byRun.set(r.run, r);
    const runs = [...byRun.values()]
      .sort((a, b) => a.run - b.run)
      .map((r) => {
        const correctFile = join(dir, 'per-item', `run${r.run}-step${lastStep}.correct.u8`);
        let capacityAllItems: number | null = null;
        if (existsSync(correctFile)) capacityAllItems = readFileSync(correctFile).reduce((s, v) => s + (v ? 1 : 0), 0);
        return {
          run: r.run,
          optimizer: r.optimizer,
          runSeed: r.runSeed,
          lastStep: r.step,
          loss: r.loss ?? null,
          capacity: r.capacity,
          capacityAllItems,
          diverged: r.diverged,
          divergedAtStep: r.divergedAtStep,
          divergedReason: r.divergedReason ?? null,
        };
      });
    out.push({ id: cell.id, index: cell.index, point: cell.point, runs });
  }
  const fits: SweepSummary['fits'] = [];
  for (const axis of config.sweep) {
    if (!axis.values.every((v) => typeof v === 'number' && v > 0)) continue;
    const optimizers = [...new Set(out.flatMap((c) => c.runs.map((r) => r.optimizer)))];
    for (const optimizer of optimizers) {
      const xs: number[] = [];
      const ys: number[] = [];
      for (const c of out) {
        for (const r of c.runs) {
          const y = r.capacityAllItems ?? r.capacity;
          if (r.optimizer === optimizer && !r.diverged && y > 0) {
            xs.push(c.point[axis.path] as number);
            ys.push(y);
          }
        }
      }
      if (new Set(xs).size < 2) continue;
      const fit = fitPowerLaw(xs, ys);
      const ci = fit.slopeCI.map((v) => (Number.isFinite(v) ? v : null)) as [number | null, number | null];
      fits.push({
        axis: axis.path,
        optimizer,
        quantity: 'capacity',
        slope: fit.slope,
        slopeCI: ci,
        intercept: fit.intercept,
        points: xs.length,
      });
    }
  }
  return SweepSummarySchema.parse({
    schema: 'muonlab.sweep-summary/1',
    name: config.name,
    createdAt: new Date().toISOString(),
    cells: out,
    missing,
    fits,
  });
}

/**
 * Writes `<root>/metrics.csv`: the tidy CSV (src/experiments/tidyCsv.ts — the same rows as the
 * page's CSV export) of every finished cell's metrics.jsonl, cells in sweep order. Returns the row count.
 */
export function writeSweepCsv(root: string): number {
  const rows: TidyRow[] = [];
  for (const { cell, records } of readFinishedCells(root)) rows.push(...recordRows(cell.id, records));
  writeFileAtomic(join(root, 'metrics.csv'), toCsv(rows));
  return rows.length;
}

/** Every finished cell of a config run folder (in sweep order) with its metric records from metrics.jsonl. */
export function readFinishedCells(root: string): { cell: SweepCell; records: TrainMetricsRecord[] }[] {
  const config = parseExperimentConfig(JSON.parse(readFileSync(join(root, 'config.json'), 'utf8')));
  return expandSweep(config)
    .filter((cell) => existsSync(join(cellDirectory(root, cell), 'summary.json')))
    .map((cell) => ({
      cell,
      records: readMetrics(cellDirectory(root, cell)).map((line) => ({ buckets: [], ...line }) as unknown as TrainMetricsRecord),
    }));
}

export interface MergeResult {
  kind: 'config' | 'preset';
  root: string;
  /** Cells copied from each input. */
  copied: Record<string, number>;
  /** Finished cells that `out` already held (same config) and that no input replaced. */
  kept: number;
  /** Cells no input has a finished result for. */
  missing: string[];
  manifest?: PresetRunManifest;
  summary?: SweepSummary;
}

/**
 * Merges run folders into `out` (created; it may be one of the inputs' parents but not an input).
 * Throws, naming the folders and the first differing field, when the inputs are not shards of one run.
 */
export function mergeRuns(inputs: readonly string[], out: string): MergeResult {
  if (inputs.length === 0) throw new UsageError('merge: give at least one run folder');
  const dirs = inputs.map((d) => resolve(d));
  const root = resolve(out);
  if (dirs.includes(root)) throw new UsageError(`merge: --out ${out} is one of the inputs; choose a new folder`);
  const kinds = dirs.map(readRunKind);
  const first = kinds[0];
  const mismatch = (k: RunKind) => {
    if (k.kind !== first.kind) return `it is a ${k.kind} run, not a ${first.kind} run`;
    return k.kind === 'config' && first.kind === 'config'
      ? firstDifference(first.config, k.config)
      : manifestMismatch((first as { manifest: PresetRunManifest }).manifest, (k as { manifest: PresetRunManifest }).manifest);
  };
  kinds.forEach((k, i) => {
    if (k.kind !== first.kind) throw new ResultsMismatchError(`merge: ${dirs[i]} is a ${k.kind} run but ${dirs[0]} is a ${first.kind} run`);
    const problem = mismatch(k);
    if (problem !== null) throw new ResultsMismatchError(`merge: mismatched configs: ${dirs[i]} differs from ${dirs[0]} at ${problem}`);
  });
  // An existing --out must hold this same run (then its finished cells stay and count); anything
  // else would mix another config's cells into this one's summary.
  const outEntries = existsSync(root) ? readdirSync(root).filter((e) => e !== LOCK_DIR && e !== HOLDER_FILE) : [];
  if (outEntries.length > 0) {
    let held: RunKind;
    try {
      held = readRunKind(root);
    } catch {
      throw new ResultsMismatchError(
        `merge: --out ${root} exists and is not a muonlab run folder (${outEntries.slice(0, 3).join(', ')}${outEntries.length > 3 ? ', …' : ''}); choose a new folder`,
      );
    }
    const problem = mismatch(held);
    if (problem !== null)
      throw new ResultsMismatchError(
        `merge: --out ${root} holds results of another run: it differs from ${dirs[0]} at ${problem}; choose a new folder`,
      );
    // A preset report already there (muonlab.preset-summary/1 or /2) must be this preset and scale.
    const summaryFile = join(root, 'summary.json');
    if (held.kind === 'preset' && existsSync(summaryFile)) {
      let summary: ReturnType<typeof readPresetSummary>;
      try {
        summary = readPresetSummary(JSON.parse(readFileSync(summaryFile, 'utf8')));
      } catch (err) {
        throw new ResultsMismatchError(
          `merge: ${summaryFile} is not a preset summary this muonlab reads (${(err as Error).message.split('\n')[0]}); choose a new folder`,
          { cause: err },
        );
      }
      const diff = firstDifference(
        { preset: summary.preset, scale: summary.scale },
        { preset: held.manifest.preset, scale: held.manifest.scale },
      );
      if (diff) throw new ResultsMismatchError(`merge: ${summaryFile} belongs to another run: it differs at ${diff}; choose a new folder`);
    }
  }
  const copied: Record<string, number> = Object.fromEntries(dirs.map((d) => [d, 0]));
  const owner = new Map<string, string>();
  if (first.kind === 'config') {
    for (const cell of expandSweep(first.config)) {
      for (const dir of dirs) {
        const src = cellDirectory(dir, cell);
        const { finished, difference } = finishedCellCheck(src, cell);
        if (!finished) continue;
        if (difference !== null) throw new ResultsMismatchError(`merge: ${src} was run with another config: it differs at ${difference}`);
        if (owner.has(cell.id))
          throw new ResultsMismatchError(
            `merge: cell ${cell.id} is finished in both ${owner.get(cell.id)} and ${dir}; shards must not overlap`,
          );
        owner.set(cell.id, dir);
      }
    }
    // Everything is checked: only now is anything written into --out.
    writeJsonAtomic(join(root, 'config.json'), first.config);
    const env = join(dirs[0], 'env.json');
    if (existsSync(env)) cpSync(env, join(root, 'env.json'));
    let kept = 0;
    for (const cell of expandSweep(first.config)) {
      const dir = owner.get(cell.id);
      const dest = cellDirectory(root, cell);
      if (dir === undefined) {
        const { finished, difference } = finishedCellCheck(dest, cell);
        if (difference !== null)
          throw new ResultsMismatchError(`merge: ${dest} was run with another config (it differs at ${difference}); choose a new --out`);
        if (finished) kept++;
        continue;
      }
      rmSync(dest, { recursive: true, force: true });
      cpSync(cellDirectory(dir, cell), dest, { recursive: true });
      copied[dir]++;
    }
    writeJsonAtomic(join(root, 'merge.json'), { schema: 'muonlab.merge/1', createdAt: new Date().toISOString(), sources: dirs, copied });
    const summary = summarizeSweep(root);
    writeJsonAtomic(join(root, 'summary.json'), summary);
    writeSweepCsv(root);
    return { kind: 'config', root, copied, kept, missing: summary.missing, summary };
  }
  const manifest = first.manifest;
  for (const cell of manifest.cells) {
    for (const dir of dirs) {
      const stored = readPresetCell(dir, cell);
      if (stored === null) continue;
      // A cell's result records what it ran: it must be this preset, scale and cell.
      const diff = firstDifference(
        { preset: stored.preset, scale: stored.scale, cell: stored.cell },
        { preset: manifest.preset, scale: manifest.scale, cell },
      );
      if (diff !== null)
        throw new ResultsMismatchError(`merge: ${presetCellDirectory(dir, cell)} holds another cell's result: it differs at ${diff}`);
      if (owner.has(cell.id))
        throw new ResultsMismatchError(
          `merge: cell ${cell.id} has results in both ${owner.get(cell.id)} and ${dir}; shards must not overlap`,
        );
      owner.set(cell.id, dir);
    }
  }
  writeJsonAtomic(join(root, 'preset.json'), manifest);
  const missing: string[] = [];
  let kept = 0;
  for (const cell of manifest.cells) {
    const dir = owner.get(cell.id);
    if (dir !== undefined) {
      rmSync(presetCellDirectory(root, cell), { recursive: true, force: true });
      cpSync(presetCellDirectory(dir, cell), presetCellDirectory(root, cell), { recursive: true });
      copied[dir]++;
    } else if (readPresetCell(root, cell) !== null) kept++;
    else missing.push(cell.id);
  }
  writeJsonAtomic(join(root, 'merge.json'), { schema: 'muonlab.merge/1', createdAt: new Date().toISOString(), sources: dirs, copied });
  return { kind: 'preset', root, copied, kept, missing, manifest };
}

/** Default output folder of a merge: `<parent of the first input>/<its name>-merged`. */
export function defaultMergeOut(inputs: readonly string[]): string {
  const first = resolve(inputs[0]);
  return join(first, '..', `${basename(first)}-merged`);
}
