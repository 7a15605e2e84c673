/**
 * The kernel registry: every WGSL entry point muonlab dispatches, reflected once into explicit bind
 * group layouts, with a per-device pipeline cache keyed by shader + override constants — never by
 * shape, which lives in uniforms, so one pipeline serves every size. A kernel names its file under
 * shaders/; the source is composed from its `//#import` lines (src/gpu/composeWgsl.ts) with a line
 * map, so a compile error names the file and line the author wrote.
 */
import { composeWgsl, locateLine, type ComposedWgsl } from './composeWgsl';
import type { Gpu } from './device';
import { bindGroupLayoutEntries, reflectKernel, type KernelInfo } from './reflect';
import { SHADER_SOURCES } from './shaderSources';

export type OverrideConstants = Record<string, number | boolean>;

export interface KernelDefinition {
  /** The WGSL file under shaders/, e.g. "optimizers/gd.wgsl". */
  shader: string;
  entryPoint: string;
  /**
   * Sources by path consulted before shaders/ (tests compose a shader of their own this way). A
   * kernel with its own sources is cached apart from the shared ones.
   */
  sources?: Readonly<Record<string, string>>;
}

const kernels = new Map<string, KernelDefinition>();
const infos = new WeakMap<KernelDefinition, KernelInfo>();
const composed = new Map<string, ComposedWgsl>();
const composedPrivate = new WeakMap<Readonly<Record<string, string>>, ComposedWgsl>();

const keyOf = (def: KernelDefinition): string => `${def.shader}:${def.entryPoint}`;

/**
 * Declares a kernel (one entry point of one shader file). Idempotent per (shader, entryPoint) for
 * kernels without private sources.
 *
 * @example
 * const gatherRows = defineKernel({ shader: 'gather/gather.wgsl', entryPoint: 'gather_rows' });
 */
export function defineKernel(def: KernelDefinition): KernelDefinition {
  if (def.sources) return def;
  const existing = kernels.get(keyOf(def));
  if (existing) return existing;
  kernels.set(keyOf(def), def);
  return def;
}

/** All kernels declared so far (the modules that were imported). */
export function listKernels(): KernelDefinition[] {
  return [...kernels.values()];
}

/**
 * The composed WGSL of a kernel's shader file, computed once.
 *
 * @example
 * kernelSource(defineKernel({ shader: 'optimizers/gd.wgsl', entryPoint: 'gd_update' })).files;
 * // ['lib/run_params.wgsl', 'lib/finite.wgsl', 'lib/update.wgsl', 'optimizers/gd.wgsl']
 */
export function kernelSource(def: KernelDefinition): ComposedWgsl {
  const own = def.sources;
  const cached = own ? composedPrivate.get(own) : composed.get(def.shader);
  if (cached && cached.path === def.shader) return cached;
  const result = composeWgsl(def.shader, (path) => own?.[path] ?? SHADER_SOURCES[path]);
  if (own) composedPrivate.set(own, result);
  else composed.set(def.shader, result);
  return result;
}

/** Reflection of a kernel, computed once. */
export function kernelInfo(def: KernelDefinition): KernelInfo {
  let info = infos.get(def);
  if (!info) {
    info = reflectKernel(kernelSource(def).code, def.entryPoint);
    infos.set(def, info);
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
  return `${def.shader}:${def.entryPoint}|${parts.join(',')}`;
}

export function bindGroupLayoutFor(gpu: Gpu, def: KernelDefinition): GPUBindGroupLayout {
  const cache = cacheFor(gpu.device);
  const key = keyOf(def);
  let layout = def.sources ? undefined : cache.layouts.get(key);
  if (!layout) {
    layout = gpu.device.createBindGroupLayout({
      label: `${def.entryPoint} bind group layout`,
      entries: bindGroupLayoutEntries(kernelInfo(def)),
    });
    if (!def.sources) cache.layouts.set(key, layout);
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
  const moduleKey = def.sources ? undefined : def.shader;
  let compiled = moduleKey === undefined ? undefined : cache.modules.get(moduleKey);
  if (!compiled) {
    const source = kernelSource(def);
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ label: `shaders/${def.shader}`, code: source.code });
    void device.popErrorScope(); // reported through `errors` below, not as an uncaptured error
    const errors = module.getCompilationInfo().then((info) =>
      info.messages
        .filter((m) => m.type === 'error')
        .map((m) => `${locateLine(source.lines, m.lineNum)}:${m.linePos} ${m.message}`)
        .join('\n'),
    );
    compiled = { module, errors };
    if (moduleKey !== undefined) cache.modules.set(moduleKey, compiled);
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
    throw new Error(`${def.entryPoint}: pipeline creation failed: ${(err as Error).message}`, { cause: err });
  } finally {
    const scoped = await device.popErrorScope();
    if (scoped) console.error(`${def.entryPoint}: ${scoped.message}`);
  }
}
