/**
 * Sweep expansion and sharding: a config with sweep axes becomes a list of cells (plain configs
 * without axes), each with a stable id; `--shard i/n` splits cells by estimated cost so every
 * machine computes the same split, and finished cells (with a summary.json) are skipped on resume.
 */
import { parseExperimentConfig, type ExperimentConfig } from './config';

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

/** Expands sweep axes (zip groups advance together, groups form a product) into cells. */
export function expandSweep(config: ExperimentConfig): SweepCell[] {
  const groups = new Map<string, ExperimentConfig['sweep']>();
  config.sweep.forEach((axis, i) => {
    const key = axis.zip ?? `#${i}`;
    groups.set(key, [...(groups.get(key) ?? []), axis]);
  });
  for (const [name, axes] of groups) {
    const lengths = new Set(axes.map((a) => a.values.length));
    if (lengths.size > 1) throw new RangeError(`sweep zip group "${name}": axes have different lengths (${[...lengths].join(', ')})`);
  }
  let points: Record<string, unknown>[] = [{}];
  for (const axes of groups.values()) {
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
  return points.map((point, index) => {
    const raw = structuredClone({ ...config, sweep: [] }) as unknown as Record<string, unknown>;
    for (const [path, value] of Object.entries(point)) setPath(raw, path, value);
    const id = Object.entries(point).map(([p, v]) => `${p}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(',') || 'single';
    let cellConfig: ExperimentConfig;
    try {
      cellConfig = parseExperimentConfig(raw);
    } catch (err) {
      throw new RangeError(`sweep cell ${id}: ${(err as Error).message}`, { cause: err });
    }
    return { id, index, config: cellConfig, point };
  });
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
  const orth = config.optimizers.some((o) => o.name === 'muon' || o.name === 'muon-reg') ? 5 * 6 * Math.min(dIn, dOut) ** 2 * Math.max(dIn, dOut) : 0;
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
