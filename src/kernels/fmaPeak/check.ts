/**
 * The `fma-peak` kernel family: its check (GPU chains against the Float64 twin, src/cpu/fmaPeak.ts)
 * and its bench rows (the FMA peak and the copy bandwidth of this adapter).
 */
import { runCommands } from '../../gpu/commands';
import type { Gpu } from '../../gpu/device';
import { createTensor, readTensor } from '../../gpu/tensor';
import { FMA_CHAINS, fmaChainStart, fmaPeakOutput } from '../../cpu/fmaPeak';
import type { CheckRow } from '../family';
import { recordFmaPeak } from './fmaPeak';

const U = 2 ** -24;

/**
 * Bound on |GPU − exact| of one invocation's output. Per trip y ← fl(fl(a·y) + b) (or one rounding
 * when fused): δ_k ≤ u·(|a·x_k| + |x_{k+1}|), and earlier errors are scaled by |a|, so
 * E_{k+1} = |a|·E_k·(1 + 2u) + u·(|a·x_k| + |x_{k+1}| + 2E_k). The 32-value sum adds 5 levels of
 * rounding: 5u·Σ|x_c| (1 + 6u slack). Starting values, a and b are exact in f32.
 */
export function fmaOutputErrorBound(index: number, iterations: number, a: number, b: number): number {
  let chainErrors = 0;
  let magnitude = 0;
  for (let c = 0; c < FMA_CHAINS; c++) {
    let x = fmaChainStart(index, c);
    let e = 0;
    for (let i = 0; i < iterations; i++) {
      const next = x * a + b;
      e = Math.abs(a) * e * (1 + 2 * U) + U * (Math.abs(a * x) + Math.abs(next) + 2 * e);
      x = next;
    }
    chainErrors += e;
    magnitude += Math.abs(x) + e;
  }
  return (chainErrors + 5 * U * magnitude) * (1 + 6 * U);
}

export const FMA_CHECK_CASES = [
  { caseId: 'trip count: a = b = 1, 1000 trips, 1024 invocations', invocations: 1024, iterations: 1000, a: 1, b: 1 },
  { caseId: 'no trips: 0 trips, 192 invocations', invocations: 192, iterations: 0, a: 0.5, b: 3 },
  { caseId: 'recurrence: a = 1 − 2⁻⁸, b = ½, 777 trips, 192 invocations', invocations: 192, iterations: 777, a: 0.99609375, b: 0.5 },
  { caseId: 'recurrence: a = −0.75, b = 1.25, 33 trips, 64 invocations', invocations: 64, iterations: 33, a: -0.75, b: 1.25 },
] as const;

/** Runs fma_peak once and returns each invocation's output. */
export async function runFmaPeak(gpu: Gpu, args: { invocations: number; iterations: number; a: number; b: number }): Promise<Float32Array> {
  const out = createTensor(gpu, { rows: args.invocations, cols: 1, label: 'fma peak check out' });
  try {
    await runCommands(gpu, async (rec) => {
      await recordFmaPeak(rec, { out, ...args });
    });
    return await readTensor(gpu, out);
  } finally {
    out.buffer.destroy();
  }
}

export async function checkFmaPeak(gpu: Gpu): Promise<CheckRow[]> {
  const rows: CheckRow[] = [];
  for (const c of FMA_CHECK_CASES) {
    try {
      const got = await runFmaPeak(gpu, c);
      let maxAbs = 0;
      let worst = 0;
      for (let i = 0; i < c.invocations; i++) {
        const err = Math.abs(got[i] - fmaPeakOutput(i, c.iterations, c.a, c.b));
        const allowed = fmaOutputErrorBound(i, c.iterations, c.a, c.b);
        maxAbs = Math.max(maxAbs, err);
        worst = Math.max(worst, allowed === 0 ? (err === 0 ? 0 : Infinity) : err / allowed);
        if (!Number.isFinite(got[i])) worst = Infinity;
      }
      rows.push({
        kernel: 'fma-peak',
        variant: 'fma-vec4x8',
        caseId: c.caseId,
        pass: worst <= 1,
        maxAbsError: maxAbs,
        worstRatio: Number.isFinite(worst) ? worst : null,
      });
    } catch (err) {
      rows.push({
        kernel: 'fma-peak',
        variant: 'fma-vec4x8',
        caseId: c.caseId,
        pass: false,
        maxAbsError: null,
        worstRatio: null,
        error: (err as Error).message,
      });
    }
  }
  return rows;
}
