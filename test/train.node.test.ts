// The scheduler's pure decisions (src/train/rules.ts): metric cadence, rank order, bucket names,
// stopping rules, ETA and the Float64 population loss.
import { describe, expect, test } from 'vitest';
import {
  capacityGainPercent,
  etaMs,
  isMetricStep,
  itemBuckets,
  rankOf,
  rankOrder,
  stopDecision,
  weightedLoss,
  type RunSnapshot,
} from '../src/train/rules';
import { frequencies } from '../src/task/frequencies';

const snap = (step: number, loss: number, capacity: number, diverged = false): RunSnapshot => ({ step, loss, capacity, diverged });

describe('metric cadence', () => {
  test('t = 0, every k-th step and always the last', () => {
    const steps = Array.from({ length: 11 }, (_, t) => t).filter((t) => isMetricStep(t, 4, 10));
    expect(steps).toEqual([0, 4, 8, 10]);
    expect([0, 1, 2].filter((t) => isMetricStep(t, 1, 2))).toEqual([0, 1, 2]);
    expect(isMetricStep(0, 5, 0)).toBe(true);
  });
});

describe('rank order and buckets', () => {
  test('descending frequency, ties by item index; rankOf inverts it', () => {
    const order = rankOrder([0.1, 0.4, 0.1, 0.4]);
    expect(Array.from(order)).toEqual([1, 3, 0, 2]);
    expect(Array.from(rankOf(order))).toEqual([2, 0, 3, 1]);
  });

  test('the frequency kinds keep item i at rank i', () => {
    const p = frequencies(12, { kind: 'power', powerExponent: 1.5 });
    expect(Array.from(rankOrder(p))).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });

  test('bucket names per frequency kind', () => {
    const ranks = Uint32Array.from({ length: 9 }, (_, i) => i);
    expect(itemBuckets({ N: 9, frequency: { kind: 'uniform' } }, ranks)).toEqual(new Array(9).fill('all'));
    expect(itemBuckets({ N: 9, frequency: { kind: 'two-class', headCount: 3, headMass: 0.8 } }, ranks)).toEqual([
      'head',
      'head',
      'head',
      'tail',
      'tail',
      'tail',
      'tail',
      'tail',
      'tail',
    ]);
    expect(itemBuckets({ N: 9, frequency: { kind: 'hierarchical', groups: 3, groupExponent: 1 } }, ranks)).toEqual([
      'group 1',
      'group 1',
      'group 1',
      'group 2',
      'group 2',
      'group 2',
      'group 3',
      'group 3',
      'group 3',
    ]);
    expect(itemBuckets({ N: 9, frequency: { kind: 'power', powerExponent: 1 } }, ranks)).toEqual([
      'ranks 1-1',
      'ranks 2-3',
      'ranks 2-3',
      'ranks 4-7',
      'ranks 4-7',
      'ranks 4-7',
      'ranks 4-7',
      'ranks 8-15',
      'ranks 8-15',
    ]);
  });
});

describe('stopping rules', () => {
  test('targetLoss: every run that has not diverged below the target', () => {
    const rules = { targetLoss: 0.1 };
    expect(stopDecision([[snap(0, 0.05, 0)], [snap(0, 0.2, 0)]], rules)).toBeNull();
    expect(stopDecision([[snap(0, 0.05, 0)], [snap(0, 0.09, 0)]], rules)).toBe('targetLoss');
    // A diverged run does not block stopping.
    expect(stopDecision([[snap(0, 0.05, 0)], [snap(0, Number.NaN, 0, true)]], rules)).toBe('targetLoss');
    // Equal to the target is not below it.
    expect(stopDecision([[snap(0, 0.1, 0)]], rules)).toBeNull();
  });

  test('all runs diverged stops the cell', () => {
    expect(stopDecision([[snap(3, Number.NaN, 0, true)]], {})).toBe('allDiverged');
  });

  test('capacityGain: compares with the latest snapshot at least `window` steps back', () => {
    const rules = { capacityGain: { percent: 0.5, window: 10 } };
    // Not yet a full window.
    expect(stopDecision([[snap(0, 1, 100), snap(5, 1, 100)]], rules)).toBeNull();
    // 1000 → 1004 over 10 steps: 0.4% < 0.5% → stop.
    expect(stopDecision([[snap(0, 1, 10), snap(10, 1, 1000), snap(20, 1, 1004)]], rules)).toBe('capacityGain');
    // 1000 → 1005: 0.5% is not < 0.5%.
    expect(stopDecision([[snap(0, 1, 10), snap(10, 1, 1000), snap(20, 1, 1005)]], rules)).toBeNull();
    // Cadence of 4: at t = 24 the reference is t = 12 (the latest ≤ 14), not t = 16.
    const h = [snap(0, 1, 0), snap(4, 1, 500), snap(8, 1, 900), snap(12, 1, 1000), snap(16, 1, 1010), snap(20, 1, 1012), snap(24, 1, 1012)];
    expect(stopDecision([h], rules)).toBeNull(); // 1000 → 1012 = 1.2%
    expect(stopDecision([[...h, snap(28, 1, 1012)]], rules)).toBe('capacityGain'); // 1010 → 1012 ≈ 0.2%
    // Every live run must have stalled.
    const moving = [snap(0, 1, 0), snap(10, 1, 100), snap(20, 1, 200)];
    const stalled = [snap(0, 1, 0), snap(10, 1, 100), snap(20, 1, 100)];
    expect(stopDecision([moving, stalled], rules)).toBeNull();
    expect(stopDecision([[...moving.slice(0, 2), snap(20, 1, 0, true)], stalled], rules)).toBe('capacityGain');
  });

  test('capacity gain from zero', () => {
    expect(capacityGainPercent(0, 0)).toBe(0);
    expect(capacityGainPercent(0, 3)).toBe(Infinity);
    expect(capacityGainPercent(200, 201)).toBeCloseTo(0.5, 12);
  });
});

describe('ETA and loss', () => {
  test('ETA from the mean step time', () => {
    expect(etaMs(1000, 0, 10)).toBeNull();
    expect(etaMs(1000, 4, 10)).toBe(1500);
    expect(etaMs(1000, 10, 10)).toBe(0);
  });

  test('Σ p_i·loss_i over strided outputs; items of zero frequency do not poison it', () => {
    // Two runs × 3 items × 5 columns, loss in column 1.
    const out = new Float32Array(30);
    [0.5, 1, 2].forEach((l, i) => (out[i * 5 + 1] = l));
    [4, Infinity, 8].forEach((l, i) => (out[15 + i * 5 + 1] = l));
    expect(weightedLoss([0.5, 0.25, 0.25], out, 0, 5, 1)).toBeCloseTo(0.25 + 0.25 + 0.5, 12);
    expect(weightedLoss([0.5, 0, 0.5], out, 15, 5, 1)).toBe(6);
  });
});
