// Philox-4x32-10 on the GPU (shaders/lib/philox.wgsl) against the TypeScript twin (src/cpu/philox.ts):
// the published known-answer vectors, u32 streams and u32 → f32 uniforms bit-identical (docs/math.md §6),
// and normals within what WGSL's accuracy allows.
//
// Normal tolerance, per element, from the WGSL spec's accuracy table (f32): log has absolute error
// ≤ 2^-21 for x in [0.5, 2] and 3 ULP elsewhere; sqrt is inherited from 1/inverseSqrt (2 ULP + a
// 2.5-ULP division ≈ 5 ULP); cos/sin have absolute error ≤ 2^-11 on [−π, π]; ×, −, + are correctly
// rounded. With L = −2·log u1 (u1 exact in f32): |ΔL| ≤ 2·max(3·ulp(|log u1|), 2^-21) + ulp(L);
// r = √L: |Δr| ≤ √|ΔL| (√ is ½-Hölder) + 5·ulp(r); θ = π·v: |Δθ| ≤ |π − fl(π)| + ulp(θ);
// n = r·cos θ: |Δn| ≤ |Δr| + r·(2^-11 + |Δθ|) + ulp(n). Worst case (r ≈ 5.8) ≈ 4e-3 — loose next to a
// wrong lane or pair (errors O(1)), which is what this guards.
import { describe, expect, test } from 'vitest';
import { runCommands } from '../src/gpu/commands';
import { createTensor, readTensor } from '../src/gpu/tensor';
import { philox4x32, philoxDraw, philoxNormal, philoxU32, PHILOX_STREAMS, u32ToUniform, u32ToUniformOpen } from '../src/cpu/philox';
import { philoxFill, type PhiloxFillArgs } from '../src/kernels/philox/philox';
import { gpuOrSkip, withErrorScopes } from './gpuFixture';
import type { Gpu } from '../src/gpu/device';

async function fill(gpu: Gpu, args: Omit<PhiloxFillArgs, 'out'>): Promise<Uint32Array> {
  const out = createTensor(gpu, { rows: Math.max(1, args.count), cols: 1, dtype: 'u32', label: 'philox out' });
  try {
    await runCommands(gpu, (rec) => philoxFill(rec, { ...args, out }));
    return await readTensor(gpu, out);
  } finally {
    out.buffer.destroy();
  }
}

const ulp = (x: number) => (x === 0 ? 2 ** -149 : 2 ** (Math.floor(Math.log2(Math.abs(x))) - 23));

/** The per-element bound derived at the top of this file. */
function normalTolerance(seed: number, stream: number, k: number): number {
  const x = philoxDraw(seed, stream, Math.floor(k / 4));
  const lane = k % 4;
  const x0 = lane < 2 ? x[0] : x[2];
  const x1 = lane < 2 ? x[1] : x[3];
  const u1 = u32ToUniformOpen(x0);
  const logU = Math.log(u1);
  const L = -2 * logU;
  const dL = 2 * Math.max(3 * ulp(logU), 2 ** -21) + ulp(L);
  const r = Math.sqrt(L);
  const dr = Math.sqrt(dL) + 5 * ulp(r);
  const theta = Math.PI * (2 * u32ToUniform(x1) - 1);
  const dTheta = Math.abs(Math.PI - Math.fround(Math.PI)) + ulp(theta);
  return dr + r * (2 ** -11 + dTheta) + ulp(r);
}

describe('philox on the GPU', () => {
  const kats: [string, [number, number, number, number], [number, number]][] = [
    ['zero', [0, 0, 0, 0], [0, 0]],
    ['all ones', [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff]],
    ['pi digits', [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0]],
  ];
  const published: Record<string, number[]> = {
    zero: [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8],
    'all ones': [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
    'pi digits': [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
  };
  for (const [name, counter, key] of kats) {
    test(`known answer: ${name}`, async (ctx) => {
      const gpu = await gpuOrSkip(ctx);
      if (!gpu) return;
      const got = await withErrorScopes(gpu, () => fill(gpu, { count: 4, seed: key[0], stream: key[1], mode: 'raw', counter }));
      expect(Array.from(got)).toEqual(published[name]);
    });
  }

  test('raw counters beyond the first draw: element k = lane k%4 of counter (c0 + k/4, …)', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const counter: [number, number, number, number] = [0xfffffffe, 5, 6, 7];
    const got = await withErrorScopes(gpu, () => fill(gpu, { count: 12, seed: 9, stream: 10, mode: 'raw', counter }));
    const want: number[] = [];
    // c0 wraps modulo 2^32 on both sides.
    for (let g = 0; g < 3; g++) want.push(...philox4x32([(counter[0] + g) >>> 0, 5, 6, 7], [9, 10]));
    expect(Array.from(got)).toEqual(want);
  });

  for (const count of [1, 7, 4096, 70_001]) {
    test(`u32 stream bit-identical, count ${count}`, async (ctx) => {
      const gpu = await gpuOrSkip(ctx);
      if (!gpu) return;
      const got = await withErrorScopes(gpu, () => fill(gpu, { count, seed: 123456789, stream: PHILOX_STREAMS.test, mode: 'u32' }));
      const want = philoxU32(123456789, PHILOX_STREAMS.test, count);
      let mismatches = 0;
      for (let i = 0; i < count; i++) if (got[i] !== want[i]) mismatches++;
      expect(mismatches).toBe(0);
    });
  }

  test('u32 stream with a step counter word (minibatch steps) bit-identical', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const got = await withErrorScopes(gpu, () => fill(gpu, { count: 64, seed: 5, stream: PHILOX_STREAMS.minibatch, mode: 'u32', step: 3 }));
    for (let k = 0; k < 64; k++) expect(got[k]).toBe(philoxDraw(5, PHILOX_STREAMS.minibatch, k >> 2, 3)[k & 3]);
  });

  test('uniforms bit-identical (f32 bits)', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const count = 5000;
    const got = new Float32Array((await withErrorScopes(gpu, () => fill(gpu, { count, seed: 77, stream: 3, mode: 'uniform' }))).buffer);
    const raw = philoxU32(77, 3, count);
    let mismatches = 0;
    for (let i = 0; i < count; i++) if (got[i] !== u32ToUniform(raw[i])) mismatches++;
    expect(mismatches).toBe(0);
  });

  test('normals within the WGSL-accuracy bound', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const count = 20_000;
    const seed = 31337;
    const stream = PHILOX_STREAMS.embeddingIn;
    const got = new Float32Array((await withErrorScopes(gpu, () => fill(gpu, { count, seed, stream, mode: 'normal' }))).buffer);
    let worst = 0;
    let worstAt = -1;
    for (let k = 0; k < count; k++) {
      const ratio = Math.abs(got[k] - philoxNormal(seed, stream, k)) / normalTolerance(seed, stream, k);
      if (!(ratio <= worst)) {
        worst = ratio;
        worstAt = k;
      }
    }
    expect(worst, `element ${worstAt}: got ${got[worstAt]}, want ${philoxNormal(seed, stream, worstAt)}`).toBeLessThanOrEqual(1);
  });
});
