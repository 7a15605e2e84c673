/**
 * Sweep expansion and sharding: a config with sweep axes becomes a list of cells (plain configs
 * without axes), each with a stable id; `--shard i/n` splits cells by estimated cost so every
 * machine computes the same split, and finished cells (with a summary.json) are skipped on resume.
 */
import { ConfigError, configPathProblem, parseExperimentConfig, type ExperimentConfig } from './config';
import { resolveSchedule } from '../optim/schedule';

export interface SweepCell {
  /** Stable id from the axis values, e.g. `task.dIn=128,task.frequency.powerExponent=1.5`. */
  id: string;
  index: number;
  config: ExperimentConfig;
  /** The axis values of this cell, by path. */
  point: Record<string, unknown>;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node: Record<string, unknown> = target;
  for (const [i, key] of keys.entries()) {
    if (i === keys.length - 1) {
      node[key] = value;
      return;
    }
    if (typeof node[key] !== 'object' || node[key] === null) {
      throw new RangeError(`sweep path "${path}": "${keys.slice(0, i + 1).join('.')}" is not an object in the config`);
    }
    node = node[key] as Record<string, unknown>;
  }
}

/** Values compared as JSON (a sweep value may be a number, a string or an object). */
const valueKey = (v: unknown) => JSON.stringify(v);

/**
 * Problems of the sweep axes themselves: a path that names no config field (or an array index out
 * of range), two axes on one path, a value repeated on an axis (or a repeated tuple in a zip
 * group), zip groups of unequal lengths. Each would make cells that are identical or that collide
 * on one id (and so on one folder) — silently wrong results.
 */
export function sweepAxisProblems(config: ExperimentConfig): string[] {
  const problems: string[] = [];
  const firstAxis = new Map<string, number>();
  config.sweep.forEach((axis, i) => {
    const pathProblem = configPathProblem(axis.path, config);
    if (pathProblem) problems.push(`sweep.${i}.path: ${pathProblem}`);
    if (axis.path === 'sweep' || axis.path.startsWith('sweep.') || axis.path === 'name' || axis.path === 'schema') {
      problems.push(`sweep.${i}.path: "${axis.path}" cannot be swept`);
    }
    const before = firstAxis.get(axis.path);
    if (before !== undefined) problems.push(`sweep.${i}.path: "${axis.path}" is already swept by sweep.${before}`);
    else firstAxis.set(axis.path, i);
    if (axis.zip === undefined) {
      const seen = new Map<string, number>();
      axis.values.forEach((v, k) => {
        const at = seen.get(valueKey(v));
        if (at !== undefined)
          problems.push(`sweep.${i}.values.${k}: ${valueKey(v)} repeats sweep.${i}.values.${at} (two cells would be the same)`);
        else seen.set(valueKey(v), k);
      });
    }
  });
  for (const [name, axes] of zipGroups(config)) {
    if (!name.startsWith('#')) {
      const lengths = new Set(axes.map((a) => a.values.length));
      if (lengths.size > 1) {
        problems.push(`sweep: zip group "${name}": axes have different lengths (${[...lengths].join(', ')})`);
        continue;
      }
      const seen = new Map<string, number>();
      for (let k = 0; k < axes[0].values.length; k++) {
        const key = valueKey(axes.map((a) => a.values[k]));
        const at = seen.get(key);
        if (at !== undefined) problems.push(`sweep: zip group "${name}": entry ${k} repeats entry ${at} (${key})`);
        else seen.set(key, k);
      }
    }
  }
  return problems;
}

function zipGroups(config: ExperimentConfig): Map<string, ExperimentConfig['sweep']> {
  const groups = new Map<string, ExperimentConfig['sweep']>();
  config.sweep.forEach((axis, i) => {
    const key = axis.zip ?? `#${i}`;
    groups.set(key, [...(groups.get(key) ?? []), axis]);
  });
  return groups;
}

/**
 * Problems of one expanded cell that the schema cannot see: every optimizer's learning rate (a
 * number or an expression of d, N…) evaluated with the cell's sizes and steps — NaN, ±∞ or < 0 is
 * an error naming `optimizers.<k>.lr`.
 */
export function cellProblems(config: ExperimentConfig): string[] {
  const problems: string[] = [];
  const dims = { d_in: config.task.dIn, d_out: config.task.dOut, N: config.task.N };
  config.optimizers.forEach((entry, k) => {
    try {
      resolveSchedule(entry.lr as Parameters<typeof resolveSchedule>[0], dims, config.training.steps, `optimizers.${k}.lr`);
    } catch (err) {
      problems.push((err as Error).message);
    }
  });
  return problems;
}

/**
 * Expands sweep axes (zip groups advance together, groups form a product) into cells. Every cell is
 * validated (schema, learning rates) before any is returned; all problems of all cells are listed
 * at once in one ConfigError.
 *
 * @example
 * expandSweep(parseExperimentConfig(json)).map((c) => c.id); // ['task.dIn=64', 'task.dIn=128']
 */
export function expandSweep(config: ExperimentConfig): SweepCell[] {
  const axisProblems = sweepAxisProblems(config);
  if (axisProblems.length) throw new ConfigError(`invalid sweep:\n  ${axisProblems.join('\n  ')}`);
  let points: Record<string, unknown>[] = [{}];
  for (const axes of zipGroups(config).values()) {
    const next: Record<string, unknown>[] = [];
    for (const p of points) {
      for (let k = 0; k < axes[0].values.length; k++) {
        const q = { ...p };
        for (const axis of axes) q[axis.path] = axis.values[k];
        next.push(q);
      }
    }
    points = next;
  }
  const problems: string[] = [];
  const cells: SweepCell[] = [];
  points.forEach((point, index) => {
    const raw = structuredClone({ ...config, sweep: [] }) as unknown as Record<string, unknown>;
    const id =
      Object.entries(point)
        .map(([p, v]) => `${p}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
        .join(',') || 'single';
    try {
      for (const [path, value] of Object.entries(point)) setPath(raw, path, value);
      const cellConfig = parseExperimentConfig(raw);
      const more = cellProblems(cellConfig);
      if (more.length) throw new ConfigError(more.join('\n  '));
      cells.push({ id, index, config: cellConfig, point });
    } catch (err) {
      const message = (err as Error).message.replace(/^invalid experiment config:\n\s*/, '');
      problems.push(config.sweep.length ? `sweep cell ${id}: ${message}` : message);
    }
  });
  if (problems.length)
    throw new ConfigError(
      problems.length === 1 && config.sweep.length === 0
        ? `invalid experiment config:\n  ${problems[0]}`
        : `invalid sweep cells (${problems.length} of ${points.length}):\n  ${problems.join('\n  ')}`,
    );
  return cells;
}

/**
 * Estimated cost of a cell in FLOPs (what sharding balances): per step and run, the forward and
 * gradient matmuls (≈ 3 products of d_out×d_in by the evaluated items, plus the N-long softmax
 * stream) and, for orthogonalizing optimizers, ~5 Newton–Schulz iterations.
 */
export function estimateCellCost(config: ExperimentConfig): number {
  const { N, dIn, dOut } = config.task;
  const items = config.training.mode === 'minibatch' ? (config.training.batchSize ?? N) : N;
  const perStep = 2 * dIn * dOut * items * 3 + 2 * dOut * items * N;
  const orth = config.optimizers.some((o) => o.name === 'muon' || o.name === 'muon-reg')
    ? 5 * 6 * Math.min(dIn, dOut) ** 2 * Math.max(dIn, dOut)
    : 0;
  const runs = config.optimizers.length * config.training.runSeeds.length;
  return runs * Math.max(1, config.training.steps) * (perStep + orth);
}

/**
 * Deterministic split of cells into `count` shards balancing estimated cost (longest first, each
 * to the currently cheapest shard; ties by cell index). Every machine computes the same split.
 */
export function shardCells(cells: readonly SweepCell[], shard: number, count: number): SweepCell[] {
  return shardByCost(cells, (c) => estimateCellCost(c.config), shard, count);
}

/**
 * The same split for any list (sweep cells, preset cells): `items` in their order, `cost(item)` the
 * estimate; returns shard `shard` (1-based) of `count`, in the items' order.
 */
export function shardByCost<T>(items: readonly T[], cost: (item: T) => number, shard: number, count: number): T[] {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`--shard: the shard count must be an integer ≥ 1, got ${count}`);
  if (!Number.isInteger(shard) || shard < 1 || shard > count) throw new RangeError(`--shard: i must be in 1..${count}, got ${shard}`);
  const indexed = items.map((item, index) => ({ item, index, cost: cost(item) }));
  const order = [...indexed].sort((a, b) => b.cost - a.cost || a.index - b.index);
  const load = new Array<number>(count).fill(0);
  const assigned: (typeof indexed)[] = Array.from({ length: count }, () => []);
  for (const entry of order) {
    let target = 0;
    for (let s = 1; s < count; s++) if (load[s] < load[target]) target = s;
    assigned[target].push(entry);
    load[target] += entry.cost;
  }
  return assigned[shard - 1].sort((a, b) => a.index - b.index).map((e) => e.item);
}

/** Parses `i/n` (1-based) from the command line. */
export function parseShard(text: string): { shard: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  if (!m) throw new RangeError(`--shard: expected i/n such as 1/4, got "${text}"`);
  return { shard: Number(m[1]), count: Number(m[2]) };
}
