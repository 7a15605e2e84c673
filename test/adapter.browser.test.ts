// Sentinel: proves the browser project really ran on a WebGPU adapter. With CI=true a missing
// adapter fails here (a skipped GPU suite must never look like a pass).
import { expect, inject, test } from 'vitest';
import { acquireGpu } from './gpuFixture';

test('a WebGPU adapter is available (required when CI=true)', async (ctx) => {
  let description: string;
  try {
    const gpu = await acquireGpu();
    const info = gpu.adapterInfo;
    description = `${info.vendor} / ${info.architecture}${info.isFallbackAdapter ? ' (fallback adapter)' : ''}; features: ${gpu.features.join(', ')}`;
    expect(gpu.device).toBeTruthy();
    expect(gpu.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 1024 * 1024);
  } catch (err) {
    if (inject('ci')) throw new Error(`CI=true requires a WebGPU adapter: ${(err as Error).message}`, { cause: err });
    ctx.skip(`no WebGPU adapter: ${(err as Error).message}`);
    return;
  }
  ctx.annotate(`adapter: ${description}`);
  console.log(`[adapter] ${description}`);
});
