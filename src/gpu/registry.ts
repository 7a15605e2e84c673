/**
 * The kernel registry: every WGSL entry point muonlab dispatches, reflected once into explicit bind
 * group layouts, with a per-device pipeline cache keyed by shader + override constants — never by
 * shape, which lives in uniforms, so one pipeline serves every size.
 */
import type { Gpu } from './device';
import { bindGroupLayoutEntries, reflectKernel, type KernelInfo } from './reflect';

export type OverrideConstants = Record<string, number | boolean>;

export interface KernelDefinition {
  /** Shader module name (file stem in shaders/), e.g. "matmul". */
  module: string;
  entryPoint: string;
  source: string;
}

const kernels = new Map<string, KernelDefinition>();
const infos = new Map<string, KernelInfo>();

/**
 * Declares a kernel (one entry point of one shader file). Idempotent per (module, entryPoint).
 *
 * @example
 * import source from '../../shaders/gather.wgsl?raw';
 * const gatherRows = defineKernel({ module: 'gather', entryPoint: 'gather_rows', source });
 */
export function defineKernel(def: KernelDefinition): KernelDefinition {
  const key = `${def.module}:${def.entryPoint}`;
  const existing = kernels.get(key);
  if (existing) return existing;
  kernels.set(key, def);
  return def;
}

/** All kernels declared so far (the modules that were imported). */
export function listKernels(): KernelDefinition[] {
  return [...kernels.values()];
}

/** Reflection of a kernel, computed once. */
export function kernelInfo(def: KernelDefinition): KernelInfo {
  const key = `${def.module}:${def.entryPoint}`;
  let info = infos.get(key);
  if (!info) {
    info = reflectKernel(def.source, def.entryPoint);
    infos.set(key, info);
  }
  return info;
}

interface CompiledModule {
  module: GPUShaderModule;
  /** The compiler's error messages, asked for once: Chromium may never settle a second request. */
  errors: Promise<string>;
}

interface DeviceKernelCache {
  modules: Map<string, CompiledModule>;
  layouts: Map<string, GPUBindGroupLayout>;
  pipelines: Map<string, Promise<GPUComputePipeline>>;
}

const perDevice = new WeakMap<GPUDevice, DeviceKernelCache>();

function cacheFor(device: GPUDevice): DeviceKernelCache {
  let cache = perDevice.get(device);
  if (!cache) {
    cache = { modules: new Map(), layouts: new Map(), pipelines: new Map() };
    perDevice.set(device, cache);
  }
  return cache;
}

/** Key of a pipeline: kernel + sorted override constants. Shapes never enter it. */
export function pipelineKey(def: KernelDefinition, constants: OverrideConstants = {}): string {
  const parts = Object.keys(constants)
    .sort()
    .map((k) => `${k}=${Number(constants[k])}`);
  return `${def.module}:${def.entryPoint}|${parts.join(',')}`;
}

export function bindGroupLayoutFor(gpu: Gpu, def: KernelDefinition): GPUBindGroupLayout {
  const cache = cacheFor(gpu.device);
  const key = `${def.module}:${def.entryPoint}`;
  let layout = cache.layouts.get(key);
  if (!layout) {
    layout = gpu.device.createBindGroupLayout({
      label: `${def.entryPoint} bind group layout`,
      entries: bindGroupLayoutEntries(kernelInfo(def)),
    });
    cache.layouts.set(key, layout);
  }
  return layout;
}

/**
 * The compute pipeline for a kernel and override constants, compiled once per device. A WGSL
 * compile or validation error becomes an Error naming the kernel with the compiler's messages.
 */
export function getPipeline(gpu: Gpu, def: KernelDefinition, constants: OverrideConstants = {}): Promise<GPUComputePipeline> {
  const cache = cacheFor(gpu.device);
  const key = pipelineKey(def, constants);
  let pipeline = cache.pipelines.get(key);
  if (!pipeline) {
    pipeline = compilePipeline(gpu, def, constants, cache);
    cache.pipelines.set(key, pipeline);
    pipeline.catch(() => cache.pipelines.delete(key));
  }
  return pipeline;
}

async function compilePipeline(
  gpu: Gpu,
  def: KernelDefinition,
  constants: OverrideConstants,
  cache: DeviceKernelCache,
): Promise<GPUComputePipeline> {
  const info = kernelInfo(def);
  for (const name of Object.keys(constants)) {
    if (!info.overrides.includes(name)) {
      throw new Error(`${def.entryPoint}: unknown override constant "${name}"; the shader declares ${info.overrides.join(', ') || 'none'}`);
    }
  }
  const device = gpu.device;
  let compiled = cache.modules.get(def.module);
  if (!compiled) {
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ label: `shaders/${def.module}.wgsl`, code: def.source });
    void device.popErrorScope(); // reported through `errors` below, not as an uncaptured error
    const errors = module.getCompilationInfo().then((info) =>
      info.messages
        .filter((m) => m.type === 'error')
        .map((m) => `shaders/${def.module}.wgsl:${m.lineNum}:${m.linePos} ${m.message}`)
        .join('\n'),
    );
    compiled = { module, errors };
    cache.modules.set(def.module, compiled);
  }
  const compileErrors = await compiled.errors;
  if (compileErrors) throw new Error(`${def.entryPoint}: shader does not compile:\n${compileErrors}`);
  const module = compiled.module;
  device.pushErrorScope('validation');
  const layout = device.createPipelineLayout({
    label: `${def.entryPoint} pipeline layout`,
    bindGroupLayouts: [bindGroupLayoutFor(gpu, def)],
  });
  const constantValues: Record<string, number> = {};
  for (const [k, v] of Object.entries(constants)) constantValues[k] = Number(v);
  try {
    return await device.createComputePipelineAsync({
      label: pipelineKey(def, constants),
      layout,
      compute: { module, entryPoint: def.entryPoint, constants: constantValues },
    });
  } catch (err) {
    throw new Error(`${def.entryPoint}: pipeline creation failed: ${(err as Error).message}`);
  } finally {
    const scoped = await device.popErrorScope();
    if (scoped) console.error(`${def.entryPoint}: ${scoped.message}`);
  }
}
