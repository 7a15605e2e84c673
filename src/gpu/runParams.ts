/**
 * The run-parameters buffer: per-run scalars (learning rate, betas, ε, λ, step, diverged flag…) for
 * a batch of runs, one `RunParams` struct per run, defined once in shaders/lib/run_params.wgsl and
 * reflected here, so host packing and WGSL can never disagree on an offset.
 */
import { WgslReflect } from 'wgsl_reflect';
import type { CommandRecorder } from './commands';
import type { Gpu } from './device';
import { defineKernel } from './registry';
import { SHADER_SOURCES } from './shaderSources';
import type { RunParamName, RunParamValues } from '../layout/runParams';

export type { RunParamName, RunParamValues } from '../layout/runParams';

const runParamsSource = SHADER_SOURCES['lib/run_params.wgsl'];

export interface RunParamField {
  name: string;
  offset: number;
  type: 'f32' | 'u32';
}

const reflected = new WgslReflect(runParamsSource).structs.find((s) => s.name === 'RunParams');
if (!reflected) throw new Error('shaders/lib/run_params.wgsl must declare struct RunParams');

/** Fields of RunParams with their byte offsets, in declaration order. */
export const RUN_PARAM_FIELDS: readonly RunParamField[] = reflected.members.map((m) => {
  if (m.type.name !== 'f32' && m.type.name !== 'u32') throw new Error(`RunParams.${m.name}: only f32/u32 fields`);
  return { name: m.name, offset: m.offset, type: m.type.name };
});

/** Bytes per run (the struct's size, a multiple of 16). */
export const RUN_PARAMS_BYTES = reflected.size;

/** Defaults: constant schedule (growth 1), scale 1, nothing else set. */
export function defaultRunParams(overrides: Partial<RunParamValues> = {}): RunParamValues {
  const base = Object.fromEntries(RUN_PARAM_FIELDS.map((f) => [f.name, 0])) as RunParamValues;
  return { ...base, lrGrowth: 1, scale: 1, ...overrides };
}

/**
 * Packs one struct per run; throws on an unknown field or a value the field's type cannot hold.
 *
 * @example
 * const data = packRunParams([defaultRunParams({ lr: 0.1 }), defaultRunParams({ lr: 0.2 })]);
 */
export function packRunParams(runs: readonly Partial<RunParamValues>[]): ArrayBuffer {
  const data = new ArrayBuffer(Math.max(1, runs.length) * RUN_PARAMS_BYTES);
  const view = new DataView(data);
  const known = new Set(RUN_PARAM_FIELDS.map((f) => f.name));
  runs.forEach((run, r) => {
    for (const key of Object.keys(run)) {
      if (!known.has(key)) throw new Error(`run ${r}: unknown run parameter "${key}"; known: ${[...known].join(', ')}`);
    }
    const values = defaultRunParams(run);
    for (const f of RUN_PARAM_FIELDS) {
      const v = values[f.name as RunParamName];
      const at = r * RUN_PARAMS_BYTES + f.offset;
      if (f.type === 'f32') {
        if (!Number.isFinite(v)) throw new RangeError(`run ${r}: ${f.name} must be finite, got ${v}`);
        view.setFloat32(at, v, true);
      } else {
        if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`run ${r}: ${f.name} must be a u32, got ${v}`);
        view.setUint32(at, v, true);
      }
    }
  });
  return data;
}

/** Reads packed structs back into values (f32 fields come back rounded to f32). */
export function unpackRunParams(data: ArrayBuffer, count: number): RunParamValues[] {
  const view = new DataView(data);
  return Array.from({ length: count }, (_, r) => {
    const out = {} as RunParamValues;
    for (const f of RUN_PARAM_FIELDS) {
      const at = r * RUN_PARAMS_BYTES + f.offset;
      out[f.name as RunParamName] = f.type === 'f32' ? view.getFloat32(at, true) : view.getUint32(at, true);
    }
    return out;
  });
}

export interface RunParamsBuffer {
  buffer: GPUBuffer;
  count: number;
}

/** Creates and fills the storage buffer for a batch of runs. */
export function createRunParams(gpu: Gpu, runs: readonly Partial<RunParamValues>[], label = 'run params'): RunParamsBuffer {
  const data = packRunParams(runs);
  const buffer = gpu.device.createBuffer({
    label,
    size: data.byteLength,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
  });
  gpu.device.queue.writeBuffer(buffer, 0, data);
  return { buffer, count: runs.length };
}

/** Reads the structs back from the GPU. */
export async function readRunParams(gpu: Gpu, params: RunParamsBuffer): Promise<RunParamValues[]> {
  const staging = gpu.device.createBuffer({
    label: 'run params readback',
    size: params.buffer.size,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const encoder = gpu.device.createCommandEncoder({ label: 'run params readback' });
  encoder.copyBufferToBuffer(params.buffer, 0, staging, 0, params.buffer.size);
  gpu.device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const data = staging.getMappedRange().slice(0);
  staging.unmap();
  staging.destroy();
  return unpackRunParams(data, params.count);
}

const advanceRunsKernel = defineKernel({ shader: 'train/advance_runs.wgsl', entryPoint: 'advance_runs' });

/** End-of-step bookkeeping on the GPU: running runs advance `step` and their geometric η. */
export async function advanceRuns(rec: CommandRecorder, params: RunParamsBuffer): Promise<void> {
  await rec.dispatch({
    kernel: advanceRunsKernel,
    buffers: { runs: params.buffer },
    uniforms: { advance: { count: params.count } },
    workgroups: [Math.ceil(params.count / 64), 1, 1],
  });
}
