// The achievable-peak probes (shaders/fmaPeak/fma_peak.wgsl): the FMA kernel really runs its chains for the
// trip count its FLOP count claims, the copy probe copies every element, and the peak measurement
// reports finite positive figures.
//
// Trip count, exactly: with a = b = 1 each chain is x_n = x_0 + n, and every value is a multiple of
// 1/8 below 2^13, so the chains and their 32-term sum (< 2^18, 21 significant bits) are exact in f32.
// The expected sum is written out here from the shader's starting values x_0 = (i mod 16)/4 + c/8:
// Σ_c x_n = 8·(i mod 16) + 62 + 32n — no tolerance.
//
// Arithmetic, against the Float64 twin (src/cpu/fmaPeak.ts): per trip y ← fl(fl(a·y) + b) (one
// rounding if fused) adds at most u·(|a·x_k| + |x_{k+1}|) (u = 2⁻²⁴), and the error so far is
// scaled by |a|: E_{k+1} = |a|·E_k·(1 + 2u) + u·(|a·x_k| + |x_{k+1}| + 2E_k). The 32-term sum adds
// 5 levels of rounding, 5u·Σ|x_c|. Allowed |GPU − CPU| = (Σ_c E_c + 5u·Σ_c(|x_c| + E_c))·(1 + 6u),
// absolute, per invocation (a relative bound in disguise: every term is u × a magnitude).
import { describe, expect, test } from 'vitest';
import { SHADER_SOURCES } from '../src/gpu/shaderSources';

const fmaSource = SHADER_SOURCES['fmaPeak/fma_peak.wgsl'];
import { runCommands } from '../src/gpu/commands';
import { createTensor, readTensor, uploadTensor } from '../src/gpu/tensor';
import { fmaPeakOutput } from '../src/cpu/fmaPeak';
import { fmaPeakFlops, measureDevicePeak, recordCopyBandwidth, recordFmaPeak } from '../src/kernels/fmaPeak/fmaPeak';
import { gpuOrSkip, withErrorScopes } from './gpuFixture';
import type { Gpu } from '../src/gpu/device';

const U = 2 ** -24;

function allowedError(index: number, n: number, a: number, b: number): number {
  let chainErrors = 0;
  let magnitude = 0;
  for (let c = 0; c < 32; c++) {
    let x = (index % 16) / 4 + c / 8;
    let e = 0;
    for (let k = 0; k < n; k++) {
      const next = x * a + b;
      e = Math.abs(a) * e * (1 + 2 * U) + U * (Math.abs(a * x) + Math.abs(next) + 2 * e);
      x = next;
    }
    chainErrors += e;
    magnitude += Math.abs(x) + e;
  }
  return (chainErrors + 5 * U * magnitude) * (1 + 6 * U);
}

/** FLOPs per invocation per trip, counted from the shader text: vec4 fma calls in the loop × 4 lanes × 2. */
function flopsPerTripFromShader(): number {
  const body = fmaSource.slice(fmaSource.indexOf('for (var i = 0u; i < fmaParams.iterations'));
  const loop = body.slice(0, body.indexOf('}'));
  const calls = loop.match(/= fma\(x\d, a, b\)/g) ?? [];
  return calls.length * 4 * 2;
}

async function run(gpu: Gpu, invocations: number, iterations: number, a: number, b: number): Promise<{ out: Float32Array; flops: number }> {
  const out = createTensor(gpu, { rows: invocations, cols: 1, label: 'fma test out' });
  try {
    let flops = 0;
    await runCommands(gpu, async (rec) => {
      flops = await recordFmaPeak(rec, { out, invocations, iterations, a, b });
    });
    return { out: await readTensor(gpu, out), flops };
  } finally {
    out.buffer.destroy();
  }
}

describe('fma peak kernel', () => {
  test('the shader loop body holds 8 vec4 FMAs (64 FLOPs per trip)', () => {
    expect(flopsPerTripFromShader()).toBe(64);
  });

  test('runs exactly the trip count it claims: a = b = 1 counts trips, FLOPs = trips × invocations × 64', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    for (const [invocations, n] of [
      [192, 1000],
      [64, 1],
      [128, 0],
      [1024, 257],
    ] as const) {
      const { out, flops } = await withErrorScopes(gpu, () => run(gpu, invocations, n, 1, 1));
      expect(flops).toBe(invocations * n * flopsPerTripFromShader());
      expect(fmaPeakFlops(invocations, n)).toBe(flops);
      const wrong: string[] = [];
      for (let i = 0; i < invocations; i++) {
        const want = 8 * (i % 16) + 62 + 32 * n;
        if (out[i] !== want) wrong.push(`#${i}: ${out[i]} ≠ ${want}`);
      }
      expect(wrong.slice(0, 5), `${invocations} invocations × ${n} trips`).toEqual([]);
    }
  });

  test('computes the FMA recurrence: GPU against the Float64 chain within the derived bound', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    for (const [invocations, n, a, b] of [
      [256, 777, 0.99609375, 0.5],
      [64, 33, -0.75, 1.25],
      [128, 100, 1.01, -0.25],
    ] as const) {
      const { out } = await withErrorScopes(gpu, () => run(gpu, invocations, n, a, b));
      let worst = 0;
      for (let i = 0; i < invocations; i++) {
        const err = Math.abs(out[i] - fmaPeakOutput(i, n, a, b));
        worst = Math.max(worst, err / allowedError(i, n, a, b));
      }
      expect(worst, `a = ${a}, b = ${b}, ${n} trips`).toBeLessThanOrEqual(1);
      // A wrong trip count would be caught: n ± 1 trips differ from n by far more than the bound.
      const off = Math.abs(fmaPeakOutput(0, n + 1, a, b) - fmaPeakOutput(0, n, a, b));
      expect(off).toBeGreaterThan(allowedError(0, n, a, b));
    }
  });

  test('the copy probe copies every vec4 (grid-stride loop: more vec4s than invocations, odd tail)', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const vec4s = 2 * 2048 * 64 + 7; // > 2048 workgroups × 64 invocations: each invocation loops
    const data = Float32Array.from({ length: vec4s * 4 + 4 }, (_, i) => i + 0.5);
    const src = uploadTensor(gpu, { rows: data.length, cols: 1, label: 'copy src' }, data);
    const dst = uploadTensor(gpu, { rows: data.length, cols: 1, label: 'copy dst' }, new Float32Array(data.length).fill(-1));
    try {
      let bytes = 0;
      await withErrorScopes(gpu, () =>
        runCommands(gpu, async (rec) => {
          bytes = await recordCopyBandwidth(rec, { src: src.buffer, dst: dst.buffer, vec4s });
        }),
      );
      expect(bytes).toBe(2 * 16 * vec4s);
      const got = await readTensor(gpu, dst);
      let wrong = 0;
      for (let i = 0; i < vec4s * 4; i++) if (got[i] !== data[i]) wrong++;
      expect(wrong).toBe(0);
      expect(Array.from(got.subarray(vec4s * 4))).toEqual([-1, -1, -1, -1]); // past count: untouched
    } finally {
      src.buffer.destroy();
      dst.buffer.destroy();
    }
  });

  test('bad arguments name the field', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    await expect(run(gpu, 100, 1, 1, 1)).rejects.toThrow(/invocations must be a positive multiple of 64/);
    await expect(run(gpu, 64, -1, 1, 1)).rejects.toThrow(/iterations must be an integer/);
  });

  test('measures a finite positive peak, its FLOPs = trips × invocations × 64', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const peak = await withErrorScopes(gpu, () => measureDevicePeak(gpu, { runs: 2, targetMs: 2 }));
    expect(peak.fma.flops).toBe(peak.fma.invocations * peak.fma.iterations * flopsPerTripFromShader());
    expect(Number.isFinite(peak.gflops) && peak.gflops > 0).toBe(true);
    // The peak is the fastest timed run (load only slows runs down), so at least the median rate.
    expect(peak.gflops).toBeCloseTo(peak.fma.flops / (peak.fma.minMs * 1e6), 9);
    expect(peak.fma.minMs).toBeLessThanOrEqual(peak.fma.medianMs);
    expect(peak.gbps !== null && Number.isFinite(peak.gbps) && peak.gbps > 0).toBe(true);
    expect(peak.copy!.bytes % 32).toBe(0);
  });
});
