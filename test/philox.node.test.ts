// Philox-4x32-10 on the CPU (src/cpu/philox.ts): the published known-answer vectors (Random123's
// kat_vectors for philox4x32_10), the 16-bit-half multiply against BigInt, the u32 → uniform maps
// (exact multiples of 2^-24, so f32-representable: the GPU can match them bit for bit), and the
// normal stream's moments. Moment tolerances are 5 standard errors of the sample statistic
// (mean: 1/√n; variance: √(2/n)), so a correct generator fails with probability < 1e-6.
import { describe, expect, test } from 'vitest';
import {
  boxMuller,
  mulhi32,
  philox4x32,
  philoxDraw,
  philoxNormal,
  philoxNormals,
  philoxU32,
  PHILOX_STREAMS,
  u32ToUniform,
  u32ToUniformOpen,
} from '../src/cpu/philox';

const hex = (xs: readonly number[]) => xs.map((x) => x.toString(16).padStart(8, '0')).join(' ');

describe('Philox-4x32-10 known answers', () => {
  const cases: [string, number[], number[], string][] = [
    ['zero', [0, 0, 0, 0], [0, 0], '6627e8d5 e169c58d bc57ac4c 9b00dbd8'],
    ['all ones', [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], '408f276d 41c83b0e a20bc7c6 6d5451fd'],
    ['pi digits', [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], 'd16cfe09 94fdcceb 5001e420 24126ea1'],
  ];
  for (const [name, counter, key, want] of cases) {
    test(name, () => expect(hex(philox4x32(counter, key))).toBe(want));
  }
});

test('mulhi32 equals the high word of the exact 64-bit product', () => {
  const values = [0, 1, 0xffff, 0x10000, 0xd2511f53, 0xcd9e8d57, 0xffffffff, 0x80000000, 0x12345678, 0x9abcdef0];
  for (const a of values) {
    for (const b of values) {
      expect(mulhi32(a, b), `${a}·${b}`).toBe(Number((BigInt(a) * BigInt(b)) >> 32n));
    }
  }
});

test('uniform maps: exact multiples of 2^-24, [0,1) and (0,1]', () => {
  expect(u32ToUniform(0)).toBe(0);
  expect(u32ToUniform(0xffffffff)).toBe(1 - 2 ** -24);
  expect(u32ToUniformOpen(0)).toBe(2 ** -24);
  expect(u32ToUniformOpen(0xffffffff)).toBe(1);
  for (const x of [1, 255, 256, 0x12345678, 0xdeadbeef]) {
    expect(Math.fround(u32ToUniform(x))).toBe(u32ToUniform(x));
    expect(u32ToUniform(x)).toBe(Math.floor(x / 256) / 2 ** 24);
  }
});

test('streams are keyed by (seed, stream) and counter (index, step)', () => {
  const a = philoxDraw(7, PHILOX_STREAMS.minibatch, 3, 2);
  expect(a).toEqual(philox4x32([3, 2, 0, 0], [7, PHILOX_STREAMS.minibatch]));
  expect(a).not.toEqual(philoxDraw(7, PHILOX_STREAMS.minibatch, 3, 1));
  expect(a).not.toEqual(philoxDraw(8, PHILOX_STREAMS.minibatch, 3, 2));
  expect(a).not.toEqual(philoxDraw(7, PHILOX_STREAMS.embeddingIn, 3, 2));
  // u32 element k is lane k%4 of draw k/4.
  const u = philoxU32(5, 1, 10);
  expect(u[9]).toBe(philoxDraw(5, 1, 2)[1]);
});

test('normal element k is lane k%4 of Box–Muller pairs of draw k/4', () => {
  const x = philoxDraw(11, 2, 5);
  const [a, b] = boxMuller(x[0], x[1]);
  const [c, d] = boxMuller(x[2], x[3]);
  expect([20, 21, 22, 23].map((k) => philoxNormal(11, 2, k))).toEqual([a, b, c, d]);
  expect(Array.from(philoxNormals(11, 2, 24).slice(20))).toEqual([a, b, c, d]);
  // Box–Muller by hand for one pair: u1 = (x0>>8 + 1)/2^24, θ = π(2u2 − 1).
  const u1 = (Math.floor(x[0] / 256) + 1) / 2 ** 24;
  const theta = Math.PI * ((2 * Math.floor(x[1] / 256)) / 2 ** 24 - 1);
  expect(a).toBeCloseTo(Math.sqrt(-2 * Math.log(u1)) * Math.cos(theta), 14);
});

test('normals have mean 0 and variance 1 (5 standard errors)', () => {
  const n = 200_000;
  const v = philoxNormals(2024, PHILOX_STREAMS.test, n);
  let s = 0;
  let s2 = 0;
  for (const x of v) {
    s += x;
    s2 += x * x;
  }
  const mean = s / n;
  const variance = s2 / n - mean * mean;
  expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(n));
  expect(Math.abs(variance - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
});
