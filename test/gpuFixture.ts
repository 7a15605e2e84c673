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
  } catch (err) {
    await gpu.device.popErrorScope();
    await gpu.device.popErrorScope();
    throw err;
  }
  const oom = await gpu.device.popErrorScope();
  const validation = await gpu.device.popErrorScope();
  if (oom) throw new Error(`out-of-memory error: ${oom.message}`);
  if (validation) throw new Error(`validation error: ${validation.message}`);
  return result;
}

/**
 * A view of `gpu` whose device records every buffer it creates: `live` holds those not destroyed yet,
 * `created` their labels, `mapReadCreated()` how many had MAP_READ usage. Other device methods are
 * bound to the real device.
 */
export function trackBuffers(gpu: Gpu): { gpu: Gpu; live: Set<GPUBuffer>; created: string[]; mapReadCreated: () => number } {
  const live = new Set<GPUBuffer>();
  const created: string[] = [];
  let mapRead = 0;
  const device = new Proxy(gpu.device, {
    get(target, prop) {
      if (prop === 'createBuffer') {
        return (descriptor: GPUBufferDescriptor) => {
          const buffer = target.createBuffer(descriptor);
          live.add(buffer);
          created.push(descriptor.label ?? '');
          if (descriptor.usage & GPUBufferUsage.MAP_READ) mapRead++;
          const destroy = buffer.destroy.bind(buffer);
          buffer.destroy = () => {
            live.delete(buffer);
            destroy();
          };
          return buffer;
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { gpu: { ...gpu, device } as Gpu, live, created, mapReadCreated: () => mapRead };
}
