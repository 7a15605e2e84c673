/**
 * Recording kernel dispatches into one command buffer. A training step is many kernels and one
 * submit; each kernel is a compute pass (so the profiler can time it), its bind group and uniform
 * buffer are created under a validation error scope, and a failure becomes an Error that names the
 * kernel instead of an uncaptured console message. With a DispatchPlan (src/gpu/dispatchPlan.ts)
 * the bind groups and uniform buffers of recurring work are made once and reused.
 */
import { assertDeviceAlive, type Gpu } from './device';
import { checkKernelArgs, packUniforms } from './reflect';
import { ambientProfiler, type TimestampProfiler, type PassTiming } from './profiler';
import { bindGroupLayoutFor, getPipeline, kernelInfo, pipelineKey, type KernelDefinition, type OverrideConstants } from './registry';
import type { DispatchPlan } from './dispatchPlan';

export interface KernelDispatch {
  kernel: KernelDefinition;
  constants?: OverrideConstants;
  /** Storage (and uniform) buffers by binding name. */
  buffers: Record<string, GPUBuffer>;
  /** Values of the uniform struct, by binding name then field name; buffers are made for them. */
  uniforms?: Record<string, Record<string, number>>;
  workgroups: [number, number, number];
  /** Name in the profile; defaults to the entry point. */
  label?: string;
}

export class CommandRecorder {
  readonly encoder: GPUCommandEncoder;
  private readonly transient: GPUBuffer[] = [];
  private readonly scopes: { kernel: string; error: Promise<GPUError | null> }[] = [];
  private submitted = false;
  /** Kernel names in dispatch order (what a step did). */
  readonly dispatched: string[] = [];
  /** Per plan slot (scope + pipeline + label): dispatches recorded so far, which numbers the next one. */
  private readonly slotCounts = new Map<string, number>();
  private slotScope = '';

  constructor(
    readonly gpu: Gpu,
    readonly profiler?: TimestampProfiler,
    label = 'muonlab commands',
    /** Reuse bind groups and uniform buffers across recordings (see DispatchPlan for the rules). */
    readonly plan?: DispatchPlan,
  ) {
    this.profiler = profiler ?? ambientProfiler(gpu); // profiling a whole preset (src/gpu/profiler.ts)
    this.encoder = gpu.device.createCommandEncoder({ label });
  }

  /** Records one dispatch. Checks buffers against the shader's bindings first (throws by name). */
  async dispatch(call: KernelDispatch): Promise<void> {
    if (this.submitted) throw new Error('CommandRecorder: already submitted');
    assertDeviceAlive(this.gpu, call.kernel.entryPoint);
    const info = kernelInfo(call.kernel);
    const { device } = this.gpu;
    const buffers: Record<string, GPUBuffer> = { ...call.buffers };
    // Everything is checked before any GPU object is made, so a rejected call leaks nothing.
    const packed = Object.entries(call.uniforms ?? {}).map(([name, values]) => [name, packUniforms(info, name, values)] as const);
    const fakeUniform = (data: ArrayBuffer) => ({ size: data.byteLength, usage: GPUBufferUsage.UNIFORM, label: 'uniforms' });
    checkKernelArgs(info, {
      ...Object.fromEntries(Object.entries(buffers).map(([k, b]) => [k, { buffer: b }])),
      ...Object.fromEntries(packed.map(([name, data]) => [name, { buffer: fakeUniform(data) }])),
    });
    for (const [axis, n] of call.workgroups.entries()) {
      const max = this.gpu.limits.maxComputeWorkgroupsPerDimension ?? 65535;
      if (n > max) throw new RangeError(`${info.name}: ${n} workgroups along ${'xyz'[axis]} exceed the device limit ${max}`);
    }
    const pipeline = await getPipeline(this.gpu, call.kernel, call.constants);
    const label = call.label ?? info.name;
    const layout = bindGroupLayoutFor(this.gpu, call.kernel);
    // A plan's ready slot needs no new GPU object, so no error scope of its own: errors of the pass
    // itself surface at submit.
    let scoped = false;
    let bindGroup: GPUBindGroup | undefined;
    if (this.plan) {
      const base = `${this.slotScope}|${pipelineKey(call.kernel, call.constants)}|${label}`;
      const n = this.slotCounts.get(base) ?? 0;
      this.slotCounts.set(base, n + 1);
      const slotKey = `${base}#${n}`;
      bindGroup = this.plan.reuse(device, slotKey, info, buffers, packed);
      if (!bindGroup) {
        device.pushErrorScope('validation');
        bindGroup = this.plan.create(device, slotKey, info, layout, buffers, packed, label);
        scoped = true;
      }
    } else {
      for (const [name, data] of packed) {
        const ubo = device.createBuffer({
          label: `${info.name}.${name}`,
          size: data.byteLength,
          usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
        });
        device.queue.writeBuffer(ubo, 0, data);
        this.transient.push(ubo);
        buffers[name] = ubo;
      }
      device.pushErrorScope('validation');
      scoped = true;
      bindGroup = device.createBindGroup({
        label: `${label} bind group`,
        layout,
        entries: info.bindings.map((b) => ({ binding: b.binding, resource: { buffer: buffers[b.name] } })),
      });
    }
    if (call.workgroups.every((n) => n > 0)) {
      const pass = this.encoder.beginComputePass({ label, timestampWrites: this.profiler?.timestampWrites(label, call) });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(...call.workgroups);
      pass.end();
      this.dispatched.push(label);
    }
    if (scoped) this.scopes.push({ kernel: label, error: device.popErrorScope() });
  }

  /**
   * Records `record` with its dispatches' plan slots named under `scope` (nested scopes join with
   * "/"). Work that a recording does only sometimes — the population evaluation of a metric step —
   * gets a scope of its own, so it neither shifts the numbering of the dispatches around it nor
   * takes their slots. Without a plan the scope changes nothing.
   *
   * @example
   * await rec.inSlotScope(`group ${gi} evaluation`, () => softmaxGrad(rec, args));
   */
  async inSlotScope<T>(scope: string, record: () => Promise<T>): Promise<T> {
    const outer = this.slotScope;
    this.slotScope = outer ? `${outer}/${scope}` : scope;
    try {
      return await record();
    } finally {
      this.slotScope = outer;
    }
  }

  /** Keeps a buffer alive until the work is submitted, then destroys it. */
  own(buffer: GPUBuffer): GPUBuffer {
    this.transient.push(buffer);
    return buffer;
  }

  /**
   * Submits everything recorded and checks the error scopes (a round trip to the GPU process, not
   * a wait for the GPU: validation and out-of-memory errors are known at encode/submit time), so a
   * bad call still throws with the kernel that caused it. It does not wait for the GPU to finish
   * unless `wait: true` (wall-clock timing, or work that must be complete before a host read that
   * does not map); mapping a buffer waits for the work before it anyway. With a profiler it waits
   * for the timestamps and returns the pass timings (empty without one). Transient buffers are
   * destroyed right after the submit: WebGPU keeps their memory until the submitted work is done.
   */
  async submit(options: { wait?: boolean } = {}): Promise<PassTiming[]> {
    if (this.submitted) throw new Error('CommandRecorder: already submitted');
    this.submitted = true;
    const { device } = this.gpu;
    const timing = this.profiler?.resolve(this.encoder);
    device.pushErrorScope('validation');
    device.pushErrorScope('out-of-memory');
    device.queue.submit([this.encoder.finish()]);
    for (const b of this.transient) b.destroy();
    const oom = await device.popErrorScope();
    const submitError = await device.popErrorScope();
    for (const scope of this.scopes) {
      const error = await scope.error;
      if (error) throw new Error(`${scope.kernel}: WebGPU validation error: ${error.message}`);
    }
    if (oom) throw new Error(`out of GPU memory running ${this.dispatched.join(', ')}: ${oom.message}`);
    if (submitError) throw new Error(`submit of ${this.dispatched.join(', ')} failed: ${submitError.message}`);
    if (options.wait) await device.queue.onSubmittedWorkDone();
    assertDeviceAlive(this.gpu, this.dispatched.join(', ') || 'submit');
    return timing ? await timing.read() : [];
  }
}

/**
 * Runs `record` in a fresh recorder, submits it and waits until the GPU is done: the one-shot form
 * of a kernel call (checks and tests; the scheduler submits without waiting).
 *
 * @example
 * await runCommands(gpu, (rec) => matmul(rec, { a, b, c }));
 */
export async function runCommands(
  gpu: Gpu,
  record: (rec: CommandRecorder) => Promise<void>,
  profiler?: TimestampProfiler,
): Promise<PassTiming[]> {
  const rec = new CommandRecorder(gpu, profiler);
  await record(rec);
  return rec.submit({ wait: true });
}
