// The run-parameters contract: the struct in shaders/lib/run_params.wgsl, reflected for host packing.
import { describe, expect, test } from 'vitest';
import { packRunParams, RUN_PARAM_FIELDS, RUN_PARAMS_BYTES, unpackRunParams, defaultRunParams } from '../src/gpu/runParams';

describe('RunParams layout', () => {
  test('16 scalar fields of 4 bytes, packed in declaration order, 64 bytes per run', () => {
    // WGSL layout rules: f32/u32 have size 4 and alignment 4, so field k sits at byte 4k and the
    // struct (alignment 4) is 64 bytes — a multiple of 16, so runs stay vec4-aligned.
    expect(RUN_PARAM_FIELDS.map((f) => f.offset)).toEqual(Array.from({ length: 16 }, (_, k) => 4 * k));
    expect(RUN_PARAMS_BYTES).toBe(64);
    expect(RUN_PARAM_FIELDS.slice(0, 3).map((f) => f.name)).toEqual(['lr', 'lrBase', 'lrGrowth']);
    expect(RUN_PARAM_FIELDS.find((f) => f.name === 'diverged')?.type).toBe('u32');
  });

  test('pack → bytes at the reflected offsets → unpack round trip', () => {
    const data = packRunParams([
      { lr: 0.5, step: 7 },
      { lr: 0.25, diverged: 1, seed: 0xffffffff },
    ]);
    expect(data.byteLength).toBe(128);
    const view = new DataView(data);
    expect(view.getFloat32(0, true)).toBe(0.5); // run 0, lr
    expect(view.getFloat32(8, true)).toBe(1); // run 0, lrGrowth default
    expect(view.getUint32(40, true)).toBe(7); // run 0, step = field 10
    expect(view.getUint32(64 + 44, true)).toBe(1); // run 1, diverged = field 11
    const back = unpackRunParams(data, 2);
    expect(back[1]).toEqual({ ...defaultRunParams({ lr: 0.25, diverged: 1, seed: 0xffffffff }) });
  });

  test.each([
    ['unknown field', { learningRate: 0.1 }, /unknown run parameter "learningRate"/],
    ['non-finite f32', { lr: Number.NaN }, /lr must be finite/],
    ['negative u32', { step: -1 }, /step must be a u32/],
    ['fractional u32', { seed: 1.5 }, /seed must be a u32/],
  ])('rejects %s', (_name, run, message) => {
    expect(() => packRunParams([run as never])).toThrow(message);
  });
});
