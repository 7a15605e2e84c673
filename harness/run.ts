/**
 * `muonlab run <config.json>`: expands a sweep into cells, keeps this shard's, and trains each cell
 * in the page. Records are appended to `metrics.jsonl` the moment they arrive, so a crash or a lost
 * device loses only the step in flight; a cell is finished when its `summary.json` exists, and
 * `--resume` skips finished cells.
 *
 * Layout: <out>/<name>/{config.json, env.json, cells/<index>-<slug>/{config.json, metrics.jsonl,
 * per-item/*.f32|*.u8, summary.json}}.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseExperimentConfig, type ExperimentConfig } from '../src/experiments/config';
import { expandSweep, parseShard, shardCells, type SweepCell } from '../src/experiments/sweep';
import type { CellSummary, EncodedPerItem } from '../src/ui/automation';
import { writeFileAtomic, writeJsonAtomic } from './files';

/** Applies `--set path=value` overrides (value parsed as JSON when it parses, else a string). */
export function applyOverrides(raw: Record<string, unknown>, sets: readonly string[]): Record<string, unknown> {
  const out = structuredClone(raw);
  for (const set of sets) {
    const eq = set.indexOf('=');
    if (eq < 1) throw new RangeError(`--set: expected path=value, got "${set}"`);
    const path = set.slice(0, eq).split('.');
    const text = set.slice(eq + 1);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = text;
    }
    let node = out as Record<string, unknown>;
    for (const key of path.slice(0, -1)) {
      if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[path[path.length - 1]] = value;
  }
  return out;
}

export function loadExperiment(file: string, sets: readonly string[] = []): ExperimentConfig {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(resolve(file), 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new RangeError(`cannot read experiment config ${file}: ${(err as Error).message}`, { cause: err });
  }
  return parseExperimentConfig(applyOverrides(raw, sets));
}

export function cellDirectory(root: string, cell: SweepCell): string {
  const slug = cell.id === 'single' ? 'single' : cell.id.replace(/[^A-Za-z0-9.=,-]+/g, '_').slice(0, 100);
  return join(root, 'cells', `${String(cell.index).padStart(3, '0')}-${slug}`);
}

export interface RunPlan {
  root: string;
  config: ExperimentConfig;
  cells: SweepCell[];
  /** Cells this invocation trains (this shard, minus finished ones with --resume). */
  todo: SweepCell[];
}

export function planRun(config: ExperimentConfig, options: { out: string; shard?: string; resume?: boolean }): RunPlan {
  const root = resolve(options.out, config.name);
  const cells = expandSweep(config);
  const mine = options.shard ? shardCells(cells, parseShard(options.shard).shard, parseShard(options.shard).count) : cells;
  const todo = options.resume ? mine.filter((c) => !existsSync(join(cellDirectory(root, c), 'summary.json'))) : mine;
  return { root, config, cells, todo };
}

/** Writes a cell's per-item arrays as raw little-endian files (N can be 250,000: not JSON). */
export function writePerItem(dir: string, arrays: EncodedPerItem): void {
  const base = join(dir, 'per-item');
  mkdirSync(base, { recursive: true });
  const stem = `run${arrays.run}-step${arrays.step}`;
  writeFileAtomic(join(base, `${stem}.pcorrect.f32`), Buffer.from(arrays.pCorrect, 'base64'));
  writeFileAtomic(join(base, `${stem}.correct.u8`), Buffer.from(arrays.correct, 'base64'));
  writeFileAtomic(join(base, `${stem}.loss.f32`), Buffer.from(arrays.loss, 'base64'));
}

/** Starts a cell's folder: its config, and an empty metrics.jsonl (a re-run starts it over). */
export function beginCell(dir: string, cell: SweepCell): void {
  mkdirSync(dir, { recursive: true });
  writeJsonAtomic(join(dir, 'config.json'), cell.config);
  writeFileAtomic(join(dir, 'metrics.jsonl'), '');
}

/**
 * Appends one record line. Appends are not atomic, but a cell only counts as finished once its
 * summary.json is written (atomically) after its last record, so readers (merge, --resume) never
 * use a metrics.jsonl that a crash cut short: that cell is run again, starting its file over.
 */
export function appendRecord(dir: string, cell: string, record: unknown): void {
  appendFileSync(join(dir, 'metrics.jsonl'), `${JSON.stringify({ schema: 'muonlab.metrics/1', cell, ...(record as object) })}\n`);
}

export function finishCell(dir: string, summary: CellSummary): void {
  for (const arrays of summary.finalPerItem) writePerItem(dir, arrays);
  const { finalPerItem: _arrays, ...rest } = summary;
  writeJsonAtomic(join(dir, 'summary.json'), { schema: 'muonlab.cell-summary/1', ...rest });
}
