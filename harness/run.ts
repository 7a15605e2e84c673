/**
 * `muonlab run <config.json>`: expands a sweep into cells, keeps this shard's, and trains each cell
 * in the page. Records are appended to `metrics.jsonl` the moment they arrive, so a crash or a lost
 * device loses only the step in flight; a cell is finished when its `summary.json` exists, and
 * `--resume` skips finished cells.
 *
 * Layout: <out>/<name>/{config.json, env.json, cells/<index>-<slug>/{config.json, metrics.jsonl,
 * per-item/*.f32|*.u8, summary.json}}.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, configPathProblem, parseExperimentConfig, type ExperimentConfig } from '../src/experiments/config';
import { expandSweep, parseShard, shardCells, type SweepCell } from '../src/experiments/sweep';
import type { CellSummary, EncodedPerItem } from '../src/ui/automation';
import { configDigest, firstDifference } from './digest';
import { UsageError } from './errors';
import { appendLine, writeFileAtomic, writeJsonAtomic } from './files';
import { HOLDER_FILE, LOCK_DIR } from './lock';

/**
 * Applies `--set path=value` overrides (value parsed as JSON when it parses, else a string). Every
 * path must name a config field (an array index within the array), and no path may be set twice:
 * all problems are listed at once.
 */
export function applyOverrides(raw: Record<string, unknown>, sets: readonly string[]): Record<string, unknown> {
  const out = structuredClone(raw);
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const set of sets) {
    const eq = set.indexOf('=');
    if (eq < 1) {
      problems.push(`--set: expected path=value, got "${set}"`);
      continue;
    }
    const dotted = set.slice(0, eq);
    if (seen.has(dotted)) {
      problems.push(`--set ${dotted}: set twice`);
      continue;
    }
    seen.add(dotted);
    const pathProblem = configPathProblem(dotted, raw);
    if (pathProblem) {
      problems.push(`--set ${pathProblem}`);
      continue;
    }
    const path = dotted.split('.');
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
  if (problems.length) throw new ConfigError(problems.join('\n'));
  return out;
}

/** Reads, overrides and validates a config file; every problem is a ConfigError (exit 64). */
export function loadExperiment(file: string, sets: readonly string[] = []): ExperimentConfig {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(resolve(file), 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`cannot read experiment config ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ConfigError(`${file}: an experiment config is a JSON object, got ${Array.isArray(raw) ? 'an array' : JSON.stringify(raw)}`);
  return parseExperimentConfig(applyOverrides(raw, sets));
}

export function cellDirectory(root: string, cell: SweepCell): string {
  const slug = cell.id === 'single' ? 'single' : cell.id.replace(/[^A-Za-z0-9.=,-]+/g, '_').slice(0, 100);
  return join(root, 'cells', `${String(cell.index).padStart(3, '0')}-${slug}`);
}

/** A results folder that holds another run's results (--resume, a fresh run, merge): exit 64. */
export class ResultsMismatchError extends UsageError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ResultsMismatchError';
  }
}

export interface RunPlan {
  root: string;
  config: ExperimentConfig;
  cells: SweepCell[];
  /** Cells this invocation trains (this shard, minus finished ones with --resume). */
  todo: SweepCell[];
  /** Cells of this shard already finished here with the same config (skipped by --resume). */
  finished: SweepCell[];
  /** --force-new: the folder's earlier results are to be removed before anything is written. */
  clear: boolean;
}

/** The digest recorded by a finished cell: summary.json's (schema /2), else its config.json's (/1). */
export function finishedCellDigest(dir: string): string | null {
  const file = join(dir, 'summary.json');
  if (!existsSync(file)) return null;
  const summary = JSON.parse(readFileSync(file, 'utf8')) as { schema?: string; configDigest?: string };
  if (summary.schema === 'muonlab.cell-summary/2' && summary.configDigest) return summary.configDigest;
  // muonlab.cell-summary/1 (before digests): the cell's own config.json says what it ran.
  const config = join(dir, 'config.json');
  return existsSync(config) ? configDigest(JSON.parse(readFileSync(config, 'utf8'))) : 'unknown (no config.json)';
}

/**
 * A stored config resolved as this muonlab reads it (defaults added since it was written filled in),
 * or the raw JSON when it no longer parses — so a field that only gained a default does not count
 * as a difference, and a real one is named.
 */
function resolvedStored(raw: unknown): unknown {
  try {
    return parseExperimentConfig(raw);
  } catch {
    return raw;
  }
}

/**
 * Whether `dir` holds a finished cell, and if so the first field where the config it ran differs
 * from `cell`'s (null: the same experiment). The digest decides at once when equal; otherwise the
 * cell's config.json, resolved, is compared field by field.
 *
 * @example
 * const { finished, difference } = finishedCellCheck(cellDirectory(root, cell), cell);
 */
export function finishedCellCheck(dir: string, cell: SweepCell): { finished: boolean; difference: string | null } {
  const digest = finishedCellDigest(dir);
  if (digest === null) return { finished: false, difference: null };
  if (digest === configDigest(cell.config)) return { finished: true, difference: null };
  const file = join(dir, 'config.json');
  if (!existsSync(file)) return { finished: true, difference: 'its config.json is missing' };
  return { finished: true, difference: firstDifference(resolvedStored(JSON.parse(readFileSync(file, 'utf8'))), cell.config) };
}

const START_OVER = 'use --force-new to delete them and start over, or another --out';

/**
 * Plans a run in `<out>/<name>`: which cells this invocation trains. A folder that already holds
 * results of another config (its config.json, or a finished cell's digest) is refused naming the
 * first differing field — with or without --resume — unless `forceNew` (then `clear` is set and the
 * caller removes them). With --resume, finished cells of the same config are skipped.
 */
export function planRun(config: ExperimentConfig, options: { out: string; shard?: string; resume?: boolean; forceNew?: boolean }): RunPlan {
  const root = resolve(options.out, config.name);
  const cells = expandSweep(config);
  const mine = options.shard ? shardCells(cells, parseShard(options.shard).shard, parseShard(options.shard).count) : cells;
  if (options.forceNew) return { root, config, cells, todo: mine, finished: [], clear: true };
  const rootConfig = join(root, 'config.json');
  if (existsSync(rootConfig)) {
    let stored: unknown;
    try {
      stored = JSON.parse(readFileSync(rootConfig, 'utf8'));
    } catch (err) {
      throw new ResultsMismatchError(`${rootConfig} cannot be read (${(err as Error).message}); ${START_OVER}`);
    }
    const diff = firstDifference(resolvedStored(stored), config);
    if (diff) throw new ResultsMismatchError(`${root} holds results of another config: it differs at ${diff}; ${START_OVER}`);
  }
  const finished: SweepCell[] = [];
  const todo: SweepCell[] = [];
  for (const cell of mine) {
    const dir = cellDirectory(root, cell);
    const { finished: done, difference } = finishedCellCheck(dir, cell);
    if (!done) {
      todo.push(cell);
      continue;
    }
    if (difference !== null)
      throw new ResultsMismatchError(`${dir} was run with another config: it differs at ${difference}; ${START_OVER}`);
    if (options.resume) finished.push(cell);
    else todo.push(cell);
  }
  return { root, config, cells, todo, finished, clear: false };
}

/** --force-new: removes a run folder's results (everything but the lock this process holds). */
export function clearRunFolder(root: string): void {
  if (!existsSync(root)) return;
  for (const entry of readdirSync(root)) {
    if (entry === LOCK_DIR || entry === HOLDER_FILE) continue;
    rmSync(join(root, entry), { recursive: true, force: true });
  }
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

/**
 * Starts a cell's folder over: its config, an empty metrics.jsonl, no summary.json (so a cell cut
 * short is never taken for finished) and no per-item files of an earlier attempt.
 */
export function beginCell(dir: string, cell: SweepCell): void {
  rmSync(join(dir, 'summary.json'), { force: true });
  rmSync(join(dir, 'per-item'), { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeJsonAtomic(join(dir, 'config.json'), cell.config);
  writeFileAtomic(join(dir, 'metrics.jsonl'), '');
}

/**
 * Appends one record as a whole line (appendLine cuts a failed append back). A cell only counts as
 * finished once its summary.json is written (atomically) after its last record, so readers (merge,
 * --resume) never use a metrics.jsonl that a crash cut short: that cell is run again, starting its
 * file over.
 */
export function appendRecord(dir: string, cell: string, record: unknown): void {
  appendLine(join(dir, 'metrics.jsonl'), JSON.stringify({ schema: 'muonlab.metrics/1', cell, ...(record as object) }));
}

/**
 * Writes the cell's final per-item arrays and its summary.json (schema muonlab.cell-summary/2: with
 * the digest of the config it ran, which --resume and merge compare).
 */
export function finishCell(dir: string, summary: CellSummary, config: ExperimentConfig): void {
  for (const arrays of summary.finalPerItem) writePerItem(dir, arrays);
  const { finalPerItem: _arrays, ...rest } = summary;
  writeJsonAtomic(join(dir, 'summary.json'), { schema: 'muonlab.cell-summary/2', configDigest: configDigest(config), ...rest });
}
