// Experiment configs, sweep expansion and sharding (src/experiments/config.ts, sweep.ts).
import { describe, expect, test } from 'vitest';
import { experimentJsonSchema, parseExperimentConfig } from '../src/experiments/config';
import { expandSweep, parseShard, shardCells } from '../src/experiments/sweep';

const base = {
  name: 'capacity-test',
  task: { N: 64, dIn: 16, dOut: 16, embedding: 'gaussian', frequency: { kind: 'power', powerExponent: 1.5 } },
  optimizers: [
    { name: 'gd', lr: 1 },
    { name: 'muon', lr: 'sqrt(d)', orth: 'exact', label: 'Muon exact' },
  ],
  training: { steps: 1, runSeeds: [0, 1] },
};

describe('experiment config', () => {
  test('defaults are filled in and optimizer configs are validated per optimizer', () => {
    const c = parseExperimentConfig(base);
    expect(c.training.mode).toBe('population');
    expect(c.metrics.every).toBe(1);
    expect(c.sweep).toEqual([]);
    expect(c.optimizers[1]).toMatchObject({ name: 'muon', label: 'Muon exact' });
  });
  test('every problem is listed by path with allowed values', () => {
    const bad = {
      ...base,
      name: 'Bad Name',
      task: { ...base.task, embedding: 'random' },
      optimizers: [{ name: 'adam', lr: 1, beta1: 1.5 }],
      training: { steps: -1, mode: 'minibatch' },
    };
    let message = '';
    try {
      parseExperimentConfig(bad);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^invalid experiment config/);
    expect(message).toMatch(/name: lowercase letters, digits and dashes/);
    expect(message).toMatch(/task\.embedding: .*\(allowed: identity, orthonormal, gaussian, coupled-rotation\)/);
    expect(message).toMatch(/optimizers\.0\.beta1/);
    expect(message).toMatch(/training\.steps/);
  });
  test('JSON Schema export names the top-level fields', () => {
    const schema = experimentJsonSchema() as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['task', 'optimizers', 'training', 'metrics', 'sweep']));
  });
});

describe('sweep expansion', () => {
  const config = parseExperimentConfig({
    ...base,
    sweep: [
      { path: 'task.dIn', values: [16, 32, 64], zip: 'd' },
      { path: 'task.dOut', values: [16, 32, 64], zip: 'd' },
      { path: 'task.frequency.powerExponent', values: [1.5, 2] },
    ],
  });
  test('zip groups advance together; groups form a product (3 × 2 cells)', () => {
    const cells = expandSweep(config);
    expect(
      cells.map((c) => [c.config.task.dIn, c.config.task.dOut, (c.config.task.frequency as { powerExponent: number }).powerExponent]),
    ).toEqual([
      [16, 16, 1.5],
      [16, 16, 2],
      [32, 32, 1.5],
      [32, 32, 2],
      [64, 64, 1.5],
      [64, 64, 2],
    ]);
    expect(cells[3].id).toBe('task.dIn=32,task.dOut=32,task.frequency.powerExponent=2');
    expect(cells.every((c) => c.config.sweep.length === 0)).toBe(true);
  });
  test('a cell made invalid by its axis values is reported with its id', () => {
    const bad = parseExperimentConfig({ ...base, sweep: [{ path: 'task.N', values: [64, 0] }] });
    expect(() => expandSweep(bad)).toThrow(/sweep cell task\.N=0: .*task\.N/s);
  });
  test('a path through a non-object is rejected', () => {
    const bad = parseExperimentConfig({ ...base, sweep: [{ path: 'task.N.x', values: [1] }] });
    expect(() => expandSweep(bad)).toThrow(/sweep\.0\.path: task\.N\.x: task\.N is a value, not an object/);
  });
});

describe('sharding', () => {
  // Muon's η as sqrt(d_out): "d" would be ambiguous once d_in ≠ d_out (expandSweep evaluates every cell's η).
  const optimizers = [base.optimizers[0], { ...base.optimizers[1], lr: 'sqrt(d_out)' }];
  const cells = expandSweep(parseExperimentConfig({ ...base, optimizers, sweep: [{ path: 'task.dIn', values: [8, 16, 32, 64, 128] }] }));
  test('shards partition the cells, deterministically, balancing cost', () => {
    const shards = [1, 2, 3].map((i) => shardCells(cells, i, 3));
    const all = shards
      .flat()
      .map((c) => c.index)
      .sort();
    expect(all).toEqual([0, 1, 2, 3, 4]);
    expect(shards.map((s) => s.map((c) => c.index))).toEqual([1, 2, 3].map((i) => shardCells(cells, i, 3).map((c) => c.index)));
    // The costliest cell (dIn = 128) gets a shard of its own.
    expect(shards.find((s) => s.some((c) => c.config.task.dIn === 128))).toHaveLength(1);
  });
  test('bad shard specs are rejected', () => {
    expect(parseShard('2/4')).toEqual({ shard: 2, count: 4 });
    expect(() => parseShard('2-4')).toThrow(/expected i\/n/);
    expect(() => shardCells(cells, 5, 4)).toThrow(/i must be in 1\.\.4/);
  });
});
