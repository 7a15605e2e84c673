/**
 * A dispatch plan: the uniform buffers and bind groups of work that is recorded again and again (the
 * steps of a training run), made once and reused. Without one, CommandRecorder.dispatch creates a
 * uniform buffer per uniform struct and a bind group for every dispatch of every step; on a real
 * GPU at small sizes that CPU cost can exceed the kernels' own time.
 *
 * A recorder given a plan looks each dispatch up by its slot: the recorder's slot scope
 * (CommandRecorder.inSlotScope), the kernel, override constants and label, and how many dispatches
 * with that same key came before it in this recording — so the n-th `matmul:…` of a group's update
 * in step t and in step t + 1 share a slot, and work only some steps do (a metric step's evaluation)
 * is scoped apart so that it shifts no other dispatch's number. A slot keeps its bind group while every bound storage buffer is the same
 * GPUBuffer object as last time (a new buffer means a new bind group, never a stale one), and its
 * uniform buffers for good; uniform contents that changed since the slot's last use are written with
 * queue.writeBuffer. That write is ordered on the queue after every command buffer submitted before
 * it, and a slot is used once per recording: the previous step, already submitted, reads the old
 * contents, the step being recorded the new ones.
 *
 * Rules for users: record one recording at a time per plan, and submit (or drop) it before the next
 * one starts — the training scheduler does (src/train/trainCell.ts). destroy() frees the uniform
 * buffers, after the last submitted work that uses them (WebGPU keeps a destroyed buffer's memory
 * until the queue is done with it).
 */
import type { KernelInfo } from './reflect';

interface PlanSlot {
  /** The storage buffers bound last time, in binding order. */
  storage: GPUBuffer[];
  bindGroup: GPUBindGroup;
  /** Per uniform binding: its buffer and the bytes last written to it. */
  uniforms: Map<string, { buffer: GPUBuffer; bytes: Uint8Array }>;
}

/** What a plan did so far: its allocations and how often a dispatch found its slot ready. */
export interface DispatchPlanStats {
  /** Dispatches recorded through the plan. */
  dispatches: number;
  bindGroupsCreated: number;
  uniformBuffersCreated: number;
  /** queue.writeBuffer calls for uniform contents that changed since a slot's last use. */
  uniformWrites: number;
}

/**
 * One plan per loop of recordings that repeat (one per training cell).
 *
 * @example
 * const plan = new DispatchPlan('train cell 3');
 * for (let t = 0; t <= T; t++) {
 *   const rec = new CommandRecorder(gpu, undefined, `step ${t}`, plan);
 *   await recordStep(rec, context, { t, update: t < T }, transient);
 *   await rec.submit();
 * }
 * plan.stats; // { dispatches, bindGroupsCreated, uniformBuffersCreated, uniformWrites }
 * plan.destroy();
 */
export class DispatchPlan {
  private readonly slots = new Map<string, PlanSlot>();
  private readonly counts = { dispatches: 0, bindGroupsCreated: 0, uniformBuffersCreated: 0, uniformWrites: 0 };
  private destroyed = false;

  constructor(readonly label = 'dispatch plan') {}

  /** A copy of the counters. */
  get stats(): DispatchPlanStats {
    return { ...this.counts };
  }

  /**
   * The slot's bind group when it is ready for this dispatch: same storage buffers as last time
   * (`buffers`: storage buffers by binding name), uniform contents (`packed`: each struct's bytes)
   * brought up to date with queue.writeBuffer. Undefined when the slot is new or its buffers changed:
   * then create() makes the bind group (under the caller's error scope). CommandRecorder.dispatch
   * calls both after it checked the arguments.
   */
  reuse(
    device: GPUDevice,
    slotKey: string,
    info: KernelInfo,
    buffers: Readonly<Record<string, GPUBuffer>>,
    packed: readonly (readonly [string, ArrayBuffer])[],
  ): GPUBindGroup | undefined {
    if (this.destroyed) throw new Error(`${this.label}: used after destroy()`);
    this.counts.dispatches++;
    let slot = this.slots.get(slotKey);
    // The uniform structs are the shader's, so a slot's set only changes if its key was reused for
    // another kernel; then its buffers go (a slot is used once per recording: no pending use here).
    if (
      slot &&
      (slot.uniforms.size !== packed.length || packed.some(([name, data]) => slot!.uniforms.get(name)?.bytes.length !== data.byteLength))
    ) {
      for (const u of slot.uniforms.values()) u.buffer.destroy();
      this.slots.delete(slotKey);
      slot = undefined;
    }
    if (!slot) return undefined;
    for (const [name, data] of packed) {
      const u = slot.uniforms.get(name)!;
      const bytes = new Uint8Array(data);
      if (!sameBytes(u.bytes, bytes)) {
        device.queue.writeBuffer(u.buffer, 0, data);
        u.bytes = bytes;
        this.counts.uniformWrites++;
      }
    }
    const storage = storageBuffers(info, buffers);
    return slot.storage.length === storage.length && slot.storage.every((b, i) => b === storage[i]) ? slot.bindGroup : undefined;
  }

  /**
   * A new bind group for the slot (after reuse() found none ready): the slot's uniform buffers are
   * kept where it has them (their contents are current), new ones are made and filled otherwise.
   */
  create(
    device: GPUDevice,
    slotKey: string,
    info: KernelInfo,
    layout: GPUBindGroupLayout,
    buffers: Readonly<Record<string, GPUBuffer>>,
    packed: readonly (readonly [string, ArrayBuffer])[],
    label: string,
  ): GPUBindGroup {
    const uniforms = this.slots.get(slotKey)?.uniforms ?? new Map<string, { buffer: GPUBuffer; bytes: Uint8Array }>();
    for (const [name, data] of packed) {
      if (uniforms.has(name)) continue;
      const buffer = device.createBuffer({
        label: `${label}.${name} (${this.label})`,
        size: data.byteLength,
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      });
      device.queue.writeBuffer(buffer, 0, data);
      uniforms.set(name, { buffer, bytes: new Uint8Array(data) });
      this.counts.uniformBuffersCreated++;
    }
    const all: Record<string, GPUBuffer> = { ...buffers };
    for (const [name, u] of uniforms) all[name] = u.buffer;
    const bindGroup = device.createBindGroup({
      label: `${label} bind group (${this.label})`,
      layout,
      entries: info.bindings.map((b) => ({ binding: b.binding, resource: { buffer: all[b.name] } })),
    });
    this.counts.bindGroupsCreated++;
    this.slots.set(slotKey, { storage: storageBuffers(info, buffers), bindGroup, uniforms });
    return bindGroup;
  }

  /** Frees the uniform buffers; the plan cannot be used afterwards. */
  destroy(): void {
    this.destroyed = true;
    for (const slot of this.slots.values()) for (const u of slot.uniforms.values()) u.buffer.destroy();
    this.slots.clear();
  }
}

function storageBuffers(info: KernelInfo, buffers: Readonly<Record<string, GPUBuffer>>): GPUBuffer[] {
  return info.bindings.filter((b) => b.kind !== 'uniform').map((b) => buffers[b.name]);
}

function sameBytes(x: Uint8Array, y: Uint8Array): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
