/**
 * Shader reflection: what a WGSL entry point binds, derived from the source with wgsl_reflect, so
 * bind group layouts are explicit (no `layout: 'auto'`) and every call can be checked by name before
 * it reaches the GPU. Pure TypeScript: runs in Node tests without a device.
 */
import { WgslReflect, type VariableInfo } from 'wgsl_reflect';

export type BindingKind = 'uniform' | 'storage' | 'read-only-storage';

export interface UniformField {
  name: string;
  offset: number;
  type: 'u32' | 'i32' | 'f32';
}

export interface BindingInfo {
  name: string;
  group: number;
  binding: number;
  kind: BindingKind;
  /** Smallest legal size in bytes: the struct size, or one element of a runtime array. */
  minBytes: number;
  /** Scalar fields of a uniform struct, for packing by name. */
  fields?: UniformField[];
  /** Size of the uniform struct in bytes. */
  structBytes?: number;
}

export interface KernelInfo {
  /** The kernel's name in messages: the entry point. */
  name: string;
  entryPoint: string;
  bindings: BindingInfo[];
  /** Override constants the module declares (pipeline-cache key material). */
  overrides: string[];
  workgroupSize: [number, number, number] | null;
}

/** Numeric GPUBufferUsage / GPUShaderStage values, so this file works where those globals don't. */
export const BUFFER_USAGE = { UNIFORM: 0x40, STORAGE: 0x80 } as const;
const SHADER_STAGE_COMPUTE = 0x4;

/**
 * Reflects one compute entry point of a WGSL module.
 *
 * @example
 * const info = reflectKernel(matmulWgsl, 'matmul_register_blocked');
 * info.bindings.map((b) => b.name); // ['a', 'b', 'c', 'params']
 */
export function reflectKernel(source: string, entryPoint: string): KernelInfo {
  const reflect = new WgslReflect(source);
  const entry = reflect.entry.compute.find((e) => e.name === entryPoint);
  if (!entry) {
    const names = reflect.entry.compute.map((e) => e.name).join(', ') || '(none)';
    throw new Error(`entry point "${entryPoint}" not found; compute entry points: ${names}`);
  }
  const bindings = entry.resources
    .filter((v) => v.resourceType === 0 || v.resourceType === 1)
    .map(describeBinding)
    .sort((x, y) => x.group - y.group || x.binding - y.binding);
  if (bindings.some((b) => b.group !== 0)) {
    throw new Error(`${entryPoint}: muonlab kernels use bind group 0 only`);
  }
  return {
    name: entryPoint,
    entryPoint,
    bindings,
    overrides: reflect.overrides.map((o) => o.name),
    workgroupSize: entry.workgroupSize,
  };
}

function describeBinding(v: VariableInfo): BindingInfo {
  const isUniform = v.resourceType === 0;
  const kind: BindingKind = isUniform ? 'uniform' : v.access === 'read_write' ? 'storage' : 'read-only-storage';
  const minBytes = v.isArray ? (v.count > 0 ? v.size : v.stride) : v.size;
  const info: BindingInfo = { name: v.name, group: v.group, binding: v.binding, kind, minBytes };
  if (isUniform && v.members) {
    info.structBytes = v.size;
    info.fields = v.members.map((m) => {
      const type = m.type.name;
      if (type !== 'u32' && type !== 'i32' && type !== 'f32') {
        throw new Error(`uniform ${v.name}.${m.name}: only u32/i32/f32 fields are supported, got ${type}`);
      }
      return { name: m.name, offset: m.offset, type };
    });
  }
  return info;
}

/** The explicit bind group layout entries for a kernel (compute stage, buffer bindings). */
export function bindGroupLayoutEntries(info: KernelInfo): GPUBindGroupLayoutEntry[] {
  return info.bindings.map((b) => ({
    binding: b.binding,
    visibility: SHADER_STAGE_COMPUTE,
    buffer: { type: b.kind, minBindingSize: b.minBytes },
  }));
}

/** What a call binds to one name: a whole buffer, or a range of it. */
export interface BufferArg {
  buffer: { size: number; usage: number; label: string };
  offset?: number;
  size?: number;
}

/**
 * Checks a call's buffers against the reflected bindings; throws an Error that names the kernel and
 * the binding. Catches what WebGPU would report later and vaguer: a missing or unknown name, a buffer
 * without STORAGE/UNIFORM usage, a range smaller than the binding needs, and a buffer bound twice
 * where one binding writes it (writable aliasing).
 */
export function checkKernelArgs(info: KernelInfo, args: Record<string, BufferArg>): void {
  const declared = info.bindings.map((b) => b.name);
  for (const name of Object.keys(args)) {
    if (!declared.includes(name)) {
      throw new Error(`${info.name}: got buffer for "${name}", which the shader does not bind; it binds ${declared.join(', ')}`);
    }
  }
  for (const b of info.bindings) {
    const arg = args[b.name];
    const where = `${info.name}: binding "${b.name}" (@binding(${b.binding}), ${b.kind})`;
    if (!arg) throw new Error(`${where} was not given a buffer`);
    const needUsage = b.kind === 'uniform' ? BUFFER_USAGE.UNIFORM : BUFFER_USAGE.STORAGE;
    if ((arg.buffer.usage & needUsage) === 0) {
      throw new Error(`${where}: buffer "${arg.buffer.label}" lacks ${b.kind === 'uniform' ? 'UNIFORM' : 'STORAGE'} usage`);
    }
    const offset = arg.offset ?? 0;
    const size = arg.size ?? arg.buffer.size - offset;
    if (offset + size > arg.buffer.size) {
      throw new Error(
        `${where}: range [${offset}, ${offset + size}) is past the end of buffer "${arg.buffer.label}" (${arg.buffer.size} bytes)`,
      );
    }
    if (size < b.minBytes) {
      throw new Error(`${where}: needs at least ${b.minBytes} bytes, buffer "${arg.buffer.label}" gives ${size}`);
    }
  }
  for (const w of info.bindings.filter((b) => b.kind === 'storage')) {
    for (const other of info.bindings) {
      if (other === w) continue;
      if (args[other.name].buffer === args[w.name].buffer && rangesOverlap(args[w.name], args[other.name])) {
        throw new Error(
          `${info.name}: buffer "${args[w.name].buffer.label}" is bound to "${w.name}" (written) and to "${other.name}"; ` +
            'a written binding may not alias another one — pass a separate buffer',
        );
      }
    }
  }
}

function rangesOverlap(x: BufferArg, y: BufferArg): boolean {
  const x0 = x.offset ?? 0;
  const x1 = x0 + (x.size ?? x.buffer.size - x0);
  const y0 = y.offset ?? 0;
  const y1 = y0 + (y.size ?? y.buffer.size - y0);
  return x0 < y1 && y0 < x1;
}

/**
 * Packs a uniform struct by field name using the reflected offsets; every field must be given and
 * no unknown field is accepted, so a renamed shader field fails loudly instead of reading zero.
 */
export function packUniforms(info: KernelInfo, bindingName: string, values: Record<string, number>): ArrayBuffer {
  const b = info.bindings.find((x) => x.name === bindingName);
  if (!b?.fields || b.structBytes === undefined) {
    throw new Error(`${info.name}: "${bindingName}" is not a uniform struct binding`);
  }
  const data = new ArrayBuffer(Math.max(16, Math.ceil(b.structBytes / 16) * 16));
  const view = new DataView(data);
  const known = new Set(b.fields.map((f) => f.name));
  for (const name of Object.keys(values)) {
    if (!known.has(name)) throw new Error(`${info.name}: uniform ${bindingName} has no field "${name}"; fields: ${[...known].join(', ')}`);
  }
  for (const f of b.fields) {
    const v = values[f.name];
    if (v === undefined) throw new Error(`${info.name}: uniform field ${bindingName}.${f.name} was not given`);
    if (f.type === 'f32') view.setFloat32(f.offset, v, true);
    else if (f.type === 'u32') {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
        throw new RangeError(`${info.name}: ${bindingName}.${f.name} = ${v} is not a u32`);
      view.setUint32(f.offset, v, true);
    } else {
      if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff)
        throw new RangeError(`${info.name}: ${bindingName}.${f.name} = ${v} is not an i32`);
      view.setInt32(f.offset, v, true);
    }
  }
  return data;
}
