/**
 * Philox-4x32-10 on the GPU: the WGSL library (shaders/lib/philox.wgsl) that shaders drawing random
 * numbers import (embeddings, sampling), and a fill kernel (shaders/philox/philox_fill.wgsl) that
 * writes a stream's u32, uniforms or normals — what the tests compare with the CPU twin
 * (src/cpu/philox.ts).
 */
import type { CommandRecorder } from '../../gpu/commands';
import type { Gpu } from '../../gpu/device';
import { defineKernel } from '../../gpu/registry';
import { BYTES_PER_ELEMENT, requiredElements, type Tensor } from '../../gpu/tensor';
export const PHILOX_FILL_KERNEL = defineKernel({ shader: 'philox/philox_fill.wgsl', entryPoint: 'philox_fill' });

/**
 * Workgroups for a 1-D job of `count` invocations of 64 lanes, folded onto y when x would exceed
 * the per-dimension limit (the shaders' `linear_invocation` unfolds it).
 */
export function linearWorkgroups(gpu: Gpu, count: number): [number, number, number] {
  const groups = Math.ceil(count / 64);
  const max = gpu.limits.maxComputeWorkgroupsPerDimension ?? 65535;
  if (groups <= max) return [groups, 1, 1];
  const y = Math.ceil(groups / max);
  return [max, y, 1];
}

export type PhiloxFillMode = 'u32' | 'uniform' | 'normal' | 'raw';
const MODES: Record<PhiloxFillMode, number> = { u32: 0, uniform: 1, normal: 2, raw: 3 };

export interface PhiloxFillArgs {
  /** u32 tensor receiving `count` values (f32 bit patterns for 'uniform' and 'normal'). */
  out: Tensor;
  count: number;
  seed: number;
  stream: number;
  mode: PhiloxFillMode;
  /** Multiplier of the normals (mode 'normal'); default 1. */
  scale?: number;
  /** Counter word 1 (minibatch step) for 'u32' / 'uniform'. */
  step?: number;
  /** Mode 'raw': counter (c0 + k/4, c1, c2, c3) under key (seed, stream). */
  counter?: [number, number, number, number];
}

/**
 * Records a fill of `out` with element k of a stream: raw u32, uniform [0,1) or normal values.
 *
 * @example
 * await runCommands(gpu, (rec) => philoxFill(rec, { out, count: 1024, seed: 7, stream: PHILOX_STREAMS.test, mode: 'normal' }));
 */
export async function philoxFill(rec: CommandRecorder, args: PhiloxFillArgs): Promise<void> {
  if (args.out.dtype !== 'u32') throw new TypeError(`philoxFill: out must be a u32 tensor, got ${args.out.dtype}`);
  if (!Number.isInteger(args.count) || args.count < 0)
    throw new RangeError(`philoxFill: count must be a non-negative integer, got ${args.count}`);
  const need = (args.out.offset + args.count) * BYTES_PER_ELEMENT;
  if (args.out.offset !== 0 || need > args.out.buffer.size || args.count > requiredElements(args.out)) {
    throw new RangeError(`philoxFill: out "${args.out.label}" must be an offset-0 tensor of at least ${args.count} elements`);
  }
  const c = args.counter ?? [0, 0, 0, 0];
  await rec.dispatch({
    kernel: PHILOX_FILL_KERNEL,
    label: `philox_fill:${args.mode}`,
    buffers: { philox_out: args.out.buffer },
    uniforms: {
      fill: {
        count: args.count,
        seed: args.seed >>> 0,
        stream: args.stream >>> 0,
        mode: MODES[args.mode],
        scale: args.scale ?? 1,
        step: (args.step ?? 0) >>> 0,
        c0: c[0] >>> 0,
        c1: c[1] >>> 0,
        c2: c[2] >>> 0,
        c3: c[3] >>> 0,
      },
    },
    workgroups: linearWorkgroups(rec.gpu, args.count),
  });
}
