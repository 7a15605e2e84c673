/**
 * The scheduler's pure decisions (no GPU): which steps read metrics back, frequency-rank order and
 * bucket names of the items, the stopping rules of `training.stop`, and the ETA of a cell. Kept
 * apart from src/train/trainCell.ts so the node tests cover them without an adapter.
 */
import type { TaskConfig } from '../task/task';
import { logRankBuckets } from '../metrics/recall';

/** Metrics are read back at t = 0, every `every` steps, and always at the last step T. */
export function isMetricStep(t: number, every: number, steps: number): boolean {
  return t === steps || t % every === 0;
}

/**
 * Items sorted by descending frequency (ties by item index, so the order is stable):
 * `rankOrder[r]` is the item of rank r (0 = most frequent).
 */
export function rankOrder(p: ArrayLike<number>): Uint32Array {
  const order = Array.from({ length: p.length }, (_, i) => i);
  order.sort((a, b) => p[b] - p[a] || a - b);
  return Uint32Array.from(order);
}

/** The inverse permutation: `rankOf[i]` is item i's 0-based frequency rank. */
export function rankOf(order: ArrayLike<number>): Uint32Array {
  const out = new Uint32Array(order.length);
  for (let r = 0; r < order.length; r++) out[order[r]] = r;
  return out;
}

/**
 * The bucket of each item for head/tail reports (docs/math.md §3): hierarchical → `group g` (1-based, the
 * frequency groups of [A]); two-class → `head` / `tail`; power → log-spaced rank ranges
 * (`ranks 1-1`, `ranks 2-3`, `ranks 4-7`, … by 1-based rank); uniform → `all`.
 */
export function itemBuckets(task: Pick<TaskConfig, 'N' | 'frequency'>, ranks: ArrayLike<number>): string[] {
  const { N } = task;
  const f = task.frequency;
  switch (f.kind) {
    case 'uniform':
      return new Array<string>(N).fill('all');
    case 'two-class':
      return Array.from({ length: N }, (_, i) => (i < f.headCount ? 'head' : 'tail'));
    case 'hierarchical': {
      const C = N / f.groups;
      return Array.from({ length: N }, (_, i) => `group ${Math.floor(i / C) + 1}`);
    }
    case 'power':
      return logRankBuckets(ranks);
  }
}

export type StopReason = 'steps' | 'targetLoss' | 'capacityGain' | 'allDiverged' | 'cancelled';

/** What the stopping rules look at for one run at one metric step. */
export interface RunSnapshot {
  step: number;
  loss: number;
  capacity: number;
  diverged: boolean;
}

export interface StopRules {
  targetLoss?: number;
  capacityGain?: { percent: number; window: number };
}

/**
 * Capacity gain in percent from `before` to `after`. From 0 recovered items any gain is infinite
 * and no gain is 0%.
 */
export function capacityGainPercent(before: number, after: number): number {
  if (before > 0) return ((after - before) / before) * 100;
  return after > 0 ? Infinity : 0;
}

/**
 * Decides at a metric step whether the cell stops. `history[r]` holds run r's snapshots at the
 * metric steps so far, in step order, the current one last. Rules (config.training.stop):
 * - every run diverged → `allDiverged`;
 * - targetLoss: every run that has not diverged has loss < target → `targetLoss`;
 * - capacityGain {percent, window}: at step t ≥ window, every run that has not diverged gained less
 *   than `percent`% capacity since its latest snapshot at a step ≤ t − window → `capacityGain`.
 * Diverged runs are ignored by the two rules (they are frozen and would block stopping forever).
 */
export function stopDecision(history: readonly (readonly RunSnapshot[])[], rules: StopRules): StopReason | null {
  const current = history.map((h) => h[h.length - 1]);
  if (current.some((s) => s === undefined)) return null;
  const live = history.filter((h) => !h[h.length - 1].diverged);
  if (live.length === 0) return 'allDiverged';
  if (rules.targetLoss !== undefined) {
    const target = rules.targetLoss;
    if (live.every((h) => h[h.length - 1].loss < target)) return 'targetLoss';
  }
  if (rules.capacityGain) {
    const { percent, window } = rules.capacityGain;
    const stalled = live.every((h) => {
      const now = h[h.length - 1];
      if (now.step < window) return false;
      let past: RunSnapshot | undefined;
      for (const s of h) if (s.step <= now.step - window) past = s;
      if (!past) return false;
      return capacityGainPercent(past.capacity, now.capacity) < percent;
    });
    if (stalled) return 'capacityGain';
  }
  return null;
}

/** Remaining time from the mean time per finished step (null before the first step finishes). */
export function etaMs(elapsedMs: number, stepsDone: number, stepsTotal: number): number | null {
  if (stepsDone <= 0) return null;
  return (elapsedMs / stepsDone) * Math.max(0, stepsTotal - stepsDone);
}

/**
 * Population loss Σ_i p_i·loss_i in Float64 from the GPU's per-item losses (`stride` floats per
 * item, loss at `column`), so it stays accurate when single items are tiny.
 */
export function weightedLoss(p: ArrayLike<number>, outputs: ArrayLike<number>, base: number, stride: number, column: number): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) if (p[i] !== 0) s += p[i] * outputs[base + i * stride + column];
  return s;
}
