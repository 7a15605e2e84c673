/**
 * Shared set-up of the browser test files: one device per file, acquired once. Without an adapter
 * the GPU tests skip with the reason — except with CI=true, where the sentinel test
 * (adapter.browser.test.ts) fails the run and the others fail too rather than pass by skipping.
 */
import { inject, type TestContext } from 'vitest';
import { requestGpu, type Gpu } from '../src/gpu/device';

let gpuPromise: Promise<Gpu> | undefined;

export function acquireGpu(): Promise<Gpu> {
  gpuPromise ??= requestGpu();
  return gpuPromise;
}

/** Returns the GPU, or skips the test with the reason (throws under CI). */
export async function gpuOrSkip(ctx: TestContext): Promise<Gpu | undefined> {
  try {
    return await acquireGpu();
  } catch (err) {
    if (inject('ci')) throw err;
    ctx.skip(`no WebGPU adapter: ${(err as Error).message}`);
    return undefined;
  }
}

/** Runs `fn` inside validation + out-of-memory error scopes; a captured error fails the test. */
export async function withErrorScopes<T>(gpu: Gpu, fn: () => Promise<T>): Promise<T> {
  gpu.device.pushErrorScope('validation');
  gpu.device.pushErrorScope('out-of-memory');
  let result: T;
  try {
    result = await fn();
  } finally {
    const oom = await gpu.device.popErrorScope();
    const validation = await gpu.device.popErrorScope();
    if (oom) throw new Error(`out-of-memory error: ${oom.message}`);
    if (validation) throw new Error(`validation error: ${validation.message}`);
  }
  return result;
}
