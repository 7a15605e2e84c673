/**
 * Training the transformer on the GPU (issue 12): one command buffer per step — the batch's forward
 * pass, the LM head, the hand-written backward pass, optional per-replica clipping by global norm,
 * one optimizer step per slot (Muon: one batched Newton–Schulz call over all same-shape matrices of
 * its group and every replica) and the run-parameter bookkeeping — with the learning rates of each
 * group's warm-up/decay schedule written before the submit. Metric steps also copy the head's
 * per-position outputs, the attention row maxima, the clip norms and (for isotropy) the chosen
 * matrices before and after the update into staging buffers, read after the submit.
 *
 * Records: one per replica at steps 0, every, 2·every, … (the loss of the batch at W_t, before
 * update t + 1) and at the last step (an evaluation pass on the next batch). Checkpoints
 * (src/model/checkpoint.ts) hold everything a step depends on, so a restored run continues bit for bit.
 */
import { CommandRecorder } from '../gpu/commands';
import type { Gpu } from '../gpu/device';
import { advanceRuns, createRunParams, RUN_PARAM_FIELDS, RUN_PARAMS_BYTES, type RunParamsBuffer } from '../gpu/runParams';
import type { Tensor } from '../gpu/tensor';
import { createOptimizer, type GpuOptimizer } from '../optim';
import { clipScale, gradScale, gradSumsq } from '../kernels/transformer/ops';
import { initParamsCpu, lossWeights } from '../cpu/transformerModel';
import { singularValues } from '../cpu/polar';
import { F32_EPSILON, isotropy, singularValueThreshold, type Isotropy } from '../metrics/isotropy';
import { configDims, groupOptimizer, parseTransformerConfig, type TransformerConfig, type TransformerConfigInput } from './config';
import { createTokenSource, type TokenBatch, type TokenSource } from './data';
import { globToRegExp } from './groups';
import { assignGroups } from './groups';
import { GpuTransformer } from './model';
import { transformerMatrices } from '../layout/transformerShape';
import { groupFactor, matrixRunParams } from './groupParams';
import { assertSameConfig, decodeCheckpoint, encodeCheckpoint } from './checkpoint';

export const TRANSFORMER_RECORD_SCHEMA = 'muonlab.transformer-metrics/1';

export interface TransformerRecord {
  schema: typeof TRANSFORMER_RECORD_SCHEMA;
  replica: number;
  seed: number;
  /** Updates done before the measurement (the loss is at W_step). */
  step: number;
  loss: number;
  /** Strict argmax accuracy over the targets. */
  accuracy: number;
  /** Accuracy at each position t = 0 … T−1 over the batch's rows. */
  accuracyByPosition: number[];
  /** Largest attention logit per layer. */
  maxLogit: number[];
  /** The replica's global gradient norm before clipping (with training.clipNorm). */
  gradNorm?: number;
  /** η of each group at this step. */
  lr: number[];
  /** Of the matrices chosen by metrics.isotropy: W at this step and its update W_{t+1} − W_t. */
  isotropy?: Record<string, { weights: Isotropy; update: Isotropy }>;
  elapsedMs: number;
  tokensPerSecond: number;
}

interface SlotOptimizer {
  optimizer: GpuOptimizer;
  params: RunParamsBuffer;
  /** Base learning rate of each entry (the schedule multiplies it). */
  baseLr: number[];
}

/**
 * A training run of a transformer config on one GPU.
 *
 * @example
 * const trainer = await TransformerTrainer.create(gpu, config);
 * await trainer.train({ onRecord: (r) => console.log(r.step, r.loss) });
 * trainer.destroy();
 */
export class TransformerTrainer {
  /** Updates done (the index of the next batch). */
  step = 0;
  readonly config: TransformerConfig;
  readonly model: GpuTransformer;
  readonly source: TokenSource;
  readonly optimizers: SlotOptimizer[] = [];
  private readonly clip?: { sumsq: GPUBuffer; clip: GPUBuffer; entries: number };
  private readonly isotropyNames: string[];
  private elapsedMs = 0;
  /** Kernel labels of the last step's command buffer, in order (what one step dispatched). */
  lastDispatched: readonly string[] = [];
  private tokensDone = 0;

  private constructor(
    readonly gpu: Gpu,
    input: TransformerConfigInput | TransformerConfig,
  ) {
    const config = parseTransformerConfig(input);
    this.config = config;
    const dims = configDims(config);
    const R = config.training.seeds.length;
    const names = transformerMatrices(dims).map((m) => m.name);
    const assignment = assignGroups(names, config.optimizers);
    this.source = createTokenSource(config.data, dims);
    this.model = new GpuTransformer(
      gpu,
      { dims, replicas: R, rows: config.training.batchSize, seqLen: config.training.seqLen, readIn: this.source.readIn },
      assignment,
    );
    config.training.seeds.forEach((seed, r) => this.model.uploadParams(r, initParamsCpu(dims, seed)));
    for (const slot of this.model.slots) {
      const opt = groupOptimizer(config.optimizers[slot.group]);
      const entries = slot.names.flatMap(() => config.training.seeds.map((seed) => matrixRunParams(config, slot.group, slot, seed)));
      this.optimizers.push({
        optimizer: createOptimizer(gpu, opt, { batch: slot.names.length * R, rows: slot.rows, cols: slot.cols }),
        params: createRunParams(gpu, entries, `run params group ${slot.group} ${slot.rows}×${slot.cols}`),
        baseLr: entries.map((e) => e.lr),
      });
    }
    if (config.training.clipNorm !== undefined) {
      const entries = this.model.slots.reduce((n, s) => n + s.names.length * R, 0);
      const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
      this.clip = {
        entries,
        sumsq: gpu.device.createBuffer({ label: 'clip sumsq', size: entries * 4, usage: storage }),
        clip: gpu.device.createBuffer({ label: 'clip scale and norm', size: Math.max(16, 2 * R * 4), usage: storage }),
      };
    }
    const patterns = config.metrics.isotropy.map((p) => globToRegExp(p));
    this.isotropyNames = names.filter((n) => patterns.some((re) => re.test(n)));
  }

  /** Validates the config, builds the model and its optimizers (weights from the replicas' seeds). */
  static async create(gpu: Gpu, config: TransformerConfigInput | TransformerConfig): Promise<TransformerTrainer> {
    return new TransformerTrainer(gpu, config);
  }

  get replicas(): number {
    return this.config.training.seeds.length;
  }

  /** Bytes of every GPU buffer the run holds (model, optimizer state, run parameters, clip). */
  get bytes(): number {
    const opt = this.optimizers.reduce(
      (n, o) => n + Object.values(o.optimizer.state).reduce((m, t) => m + t.buffer.size, 0) + o.params.buffer.size,
      0,
    );
    return this.model.bytes + opt + (this.clip ? this.clip.sumsq.size + this.clip.clip.size : 0);
  }

  /** Writes the batch of step `t` (0-based) for every replica. */
  private writeBatch(t: number): void {
    const { batchSize: rows, seqLen: T } = this.config.training;
    this.writeBatches(Array.from({ length: this.replicas }, (_, r) => this.source.batch(t, r, rows, T)));
  }

  /** Writes one batch per replica into the model's input buffers. */
  private writeBatches(batches: readonly TokenBatch[]): void {
    const { batchSize: rows, seqLen: T } = this.config.training;
    const N = rows * T;
    const d = this.config.model.dModel;
    if (batches.length !== this.replicas)
      throw new RangeError(`batches: ${batches.length} given, one per replica (${this.replicas}) needed`);
    const inputs = new Uint32Array(this.replicas * N);
    const targets = new Uint32Array(this.replicas * N);
    const weights = new Float32Array(this.replicas * N);
    const readIn = this.model.readIn ? new Float32Array(this.replicas * N * d) : undefined;
    batches.forEach((b, r) => {
      if (b.inputs.length !== N)
        throw new RangeError(`batches.${r}: ${b.inputs.length} positions, the model takes batchSize × seqLen = ${N}`);
      inputs.set(b.inputs, r * N);
      targets.set(b.targets, r * N);
      weights.set(lossWeights(b.weights), r * N);
      if (readIn) {
        if (!b.readIn) throw new RangeError(`batches.${r}: the source reads in vectors but the batch has no readIn`);
        readIn.set(b.readIn, r * N * d);
      }
    });
    const q = this.gpu.device.queue;
    q.writeBuffer(this.model.inputs.buffer, 0, inputs);
    q.writeBuffer(this.model.targets.buffer, 0, targets);
    q.writeBuffer(this.model.weights.buffer, 0, weights);
    if (readIn) q.writeBuffer(this.model.readIn!.buffer, 0, readIn);
  }

  /**
   * The head's per-position outputs on given batches (one per replica each), at the current weights
   * and without an update: what evaluations beyond the loss need (FTA at answer positions, accuracy
   * per task). Returns, per batch and replica, the cross-entropy and the strict-argmax flag of every
   * position (whatever its weight).
   *
   * @example
   * const [[{ correct }]] = await trainer.evaluateBatches([[probeBatch]]); // one replica
   */
  async evaluateBatches(batches: readonly (readonly TokenBatch[])[]): Promise<{ nll: Float32Array; correct: Float32Array }[][]> {
    const N = this.model.tokens;
    const out: { nll: Float32Array; correct: Float32Array }[][] = [];
    for (const perReplica of batches) {
      this.writeBatches(perReplica);
      const rec = new CommandRecorder(this.gpu, undefined, 'transformer evaluation batch');
      await this.model.forward(rec, { gradients: false });
      const dst = this.staging(this.model.head.outputs.buffer.size, 'evaluation outputs');
      rec.encoder.copyBufferToBuffer(this.model.head.outputs.buffer, 0, dst, 0, dst.size);
      await rec.submit();
      await dst.mapAsync(GPUMapMode.READ);
      const data = new Float32Array(dst.getMappedRange().slice(0));
      dst.destroy();
      out.push(
        perReplica.map((_, r) => {
          const nll = new Float32Array(N);
          const correct = new Float32Array(N);
          for (let n = 0; n < N; n++) {
            nll[n] = data[(r * N + n) * 5 + 1];
            correct[n] = data[(r * N + n) * 5 + 4];
          }
          return { nll, correct };
        }),
      );
    }
    return out;
  }

  /** η of every entry for step t (1-based), written before the step's submit. */
  private writeLearningRates(t: number): number[] {
    const lrOffset = RUN_PARAM_FIELDS.find((f) => f.name === 'lr')!.offset;
    const factors = this.config.optimizers.map((_, g) => groupFactor(this.config, g, t));
    this.model.slots.forEach((slot, i) => {
      const o = this.optimizers[i];
      const data = new ArrayBuffer(o.params.buffer.size);
      // Only the lr field of each struct: step, diverged flags and the rest stay as the GPU left them.
      const view = new DataView(data);
      o.baseLr.forEach((lr, e) => {
        view.setFloat32(e * RUN_PARAMS_BYTES + lrOffset, lr * factors[slot.group], true);
        this.gpu.device.queue.writeBuffer(o.params.buffer, e * RUN_PARAMS_BYTES + lrOffset, data, e * RUN_PARAMS_BYTES + lrOffset, 4);
      });
    });
    return factors.map((f, g) => {
      const slot = this.model.slots.findIndex((s) => s.group === g);
      return slot < 0 ? 0 : this.optimizers[slot].baseLr[0] * f;
    });
  }

  /**
   * One training step (update t + 1) as one command buffer; returns the replicas' records when
   * `measure` (the loss of this batch at W_t).
   */
  async runStep(measure: boolean): Promise<TransformerRecord[] | undefined> {
    const t = this.step;
    const started = performance.now();
    this.writeBatch(t);
    const lr = this.writeLearningRates(t + 1);
    const isoDue = measure && this.isotropyNames.length > 0 && t % (this.config.metrics.isotropyEvery ?? this.config.metrics.every) === 0;
    const rec = new CommandRecorder(this.gpu, undefined, `transformer step ${t + 1}`);
    await this.model.forward(rec, { gradients: true });
    if (this.clip) {
      let at = 0;
      for (const s of this.model.slots) {
        await gradSumsq(rec, { g: s.g, out: this.clip.sumsq, outOffset: at });
        at += s.g.batch;
      }
      await clipScale(rec, {
        sumsq: this.clip.sumsq,
        entries: this.clip.entries,
        replicas: this.replicas,
        clip: this.clip.clip,
        maxNorm: this.config.training.clipNorm!,
      });
      for (const s of this.model.slots) await gradScale(rec, { g: s.g, clip: this.clip.clip, replicas: this.replicas });
    }
    const staging = measure ? this.stageMetrics(rec) : undefined;
    const before = isoDue ? this.stageMatrices(rec) : undefined;
    for (const [i, s] of this.model.slots.entries())
      await this.optimizers[i].optimizer.step(rec, { w: s.w, g: s.g, params: this.optimizers[i].params });
    for (const o of this.optimizers) await advanceRuns(rec, o.params);
    const after = isoDue ? this.stageMatrices(rec) : undefined;
    this.lastDispatched = rec.dispatched;
    await rec.submit();
    this.step = t + 1;
    const records = staging ? await this.readMetrics(staging, t, lr, before && after ? { before, after } : undefined) : undefined;
    if (!records) await this.gpu.device.queue.onSubmittedWorkDone();
    this.elapsedMs += performance.now() - started;
    this.tokensDone += this.replicas * this.model.tokens;
    return records?.map((r) => ({ ...r, elapsedMs: this.elapsedMs, tokensPerSecond: this.tokensDone / (this.elapsedMs / 1000) }));
  }

  /** The loss at the current weights on the next batch, without an update (the last record). */
  async evaluate(): Promise<TransformerRecord[]> {
    this.writeBatch(this.step);
    const lr = this.config.optimizers.map((_, g) => {
      const slot = this.model.slots.findIndex((s) => s.group === g);
      return slot < 0 ? 0 : this.optimizers[slot].baseLr[0] * groupFactor(this.config, g, Math.max(1, this.step));
    });
    const rec = new CommandRecorder(this.gpu, undefined, 'transformer evaluation');
    await this.model.forward(rec, { gradients: false });
    const staging = this.stageMetrics(rec);
    await rec.submit();
    const records = await this.readMetrics(staging, this.step, lr);
    return records.map((r) => ({
      ...r,
      elapsedMs: this.elapsedMs,
      tokensPerSecond: this.tokensDone / Math.max(1e-9, this.elapsedMs / 1000),
    }));
  }

  private staging(bytes: number, label: string): GPUBuffer {
    // The usage flags are read here, not at module scope: Node imports this module (muonlab report
    // loads every preset) where no WebGPU globals exist.
    return this.gpu.device.createBuffer({ label, size: Math.max(16, bytes), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  private stageMetrics(rec: CommandRecorder): { outputs: GPUBuffer; rowMax: GPUBuffer[]; clip?: GPUBuffer } {
    const copy = (src: GPUBuffer, label: string) => {
      const dst = this.staging(src.size, label);
      rec.encoder.copyBufferToBuffer(src, 0, dst, 0, src.size);
      return dst;
    };
    return {
      outputs: copy(this.model.head.outputs.buffer, 'metrics outputs'),
      rowMax: this.model.rowMaxBuffers.map((t, l) => copy(t.buffer, `metrics max logit ${l}`)),
      clip: this.clip ? copy(this.clip.clip, 'metrics clip') : undefined,
    };
  }

  private stageMatrices(rec: CommandRecorder): Map<string, GPUBuffer> {
    const out = new Map<string, GPUBuffer>();
    for (const name of this.isotropyNames) {
      const v = this.model.view(name);
      const per = v.rows * v.cols * 4;
      const dst = this.staging(per * this.replicas, `isotropy ${name}`);
      for (let r = 0; r < this.replicas; r++)
        rec.encoder.copyBufferToBuffer(v.buffer, (v.offset + r * v.batchStride) * 4, dst, r * per, per);
      out.set(name, dst);
    }
    return out;
  }

  private async readMetrics(
    s: { outputs: GPUBuffer; rowMax: GPUBuffer[]; clip?: GPUBuffer },
    step: number,
    lr: number[],
    iso?: { before: Map<string, GPUBuffer>; after: Map<string, GPUBuffer> },
  ): Promise<TransformerRecord[]> {
    const read = async (b: GPUBuffer) => {
      await b.mapAsync(GPUMapMode.READ);
      const data = new Float32Array(b.getMappedRange().slice(0));
      b.destroy();
      return data;
    };
    const outputs = await read(s.outputs);
    const rowMax = await Promise.all(s.rowMax.map(read));
    const clip = s.clip ? await read(s.clip) : undefined;
    const isoData = iso
      ? await Promise.all(
          this.isotropyNames.map(async (n) => ({ name: n, before: await read(iso.before.get(n)!), after: await read(iso.after.get(n)!) })),
        )
      : undefined;
    const { batchSize: rows, seqLen: T } = this.config.training;
    const N = rows * T;
    return this.config.training.seeds.map((seed, r) => {
      const weights = lossWeights(this.source.batch(step, r, rows, T).weights);
      let loss = 0;
      let correct = 0;
      let counted = 0;
      const byPos = new Float64Array(T);
      const countPos = new Float64Array(T);
      for (let n = 0; n < N; n++) {
        const o = (r * N + n) * 5;
        loss += weights[n] * outputs[o + 1];
        if (weights[n] > 0) {
          correct += outputs[o + 4];
          counted++;
          byPos[n % T] += outputs[o + 4];
          countPos[n % T]++;
        }
      }
      const per = rowMax[0] ? rowMax[0].length / this.replicas : 0;
      const record: TransformerRecord = {
        schema: TRANSFORMER_RECORD_SCHEMA,
        replica: r,
        seed,
        step,
        loss,
        accuracy: counted ? correct / counted : 0,
        accuracyByPosition: Array.from(byPos, (c, t) => (countPos[t] ? c / countPos[t] : 0)),
        maxLogit: rowMax.map((m) => m.subarray(r * per, (r + 1) * per).reduce((a, b) => Math.max(a, b), -Infinity)),
        lr,
        elapsedMs: 0,
        tokensPerSecond: 0,
      };
      if (clip) record.gradNorm = clip[this.replicas + r];
      if (isoData) {
        record.isotropy = {};
        for (const { name, before, after } of isoData) {
          const m = this.model.matrices.find((x) => x.name === name)!;
          const size = m.rows * m.cols;
          const w = before.subarray(r * size, (r + 1) * size);
          const dw = Float64Array.from(after.subarray(r * size, (r + 1) * size), (v, i) => v - w[i]);
          const spectrum = (x: ArrayLike<number>) => {
            const sigma = Array.from(singularValues(x, m.rows, m.cols));
            return isotropy(sigma, { threshold: singularValueThreshold(sigma, m.rows, m.cols, F32_EPSILON) });
          };
          record.isotropy[name] = { weights: spectrum(w), update: spectrum(dw) };
        }
      }
      return record;
    });
  }

  /**
   * Trains until `training.steps` (or `options.until`), reporting records and checkpoints as they
   * are produced; ends with the evaluation record when the last step is reached.
   */
  async train(
    options: {
      until?: number;
      onRecord?: (r: TransformerRecord) => void;
      onCheckpoint?: (bytes: Uint8Array, step: number) => void | Promise<void>;
      onProgress?: (step: number, steps: number) => void;
    } = {},
  ): Promise<void> {
    const steps = this.config.training.steps;
    const until = Math.min(steps, options.until ?? steps);
    const every = this.config.metrics.every;
    const k = this.config.checkpoint.every;
    while (this.step < until) {
      const records = await this.runStep(this.step % every === 0);
      for (const r of records ?? []) options.onRecord?.(r);
      options.onProgress?.(this.step, steps);
      if (k > 0 && (this.step % k === 0 || this.step === steps) && options.onCheckpoint)
        await options.onCheckpoint(await this.checkpoint(), this.step);
    }
    if (this.step === steps) for (const r of await this.evaluate()) options.onRecord?.(r);
  }

  private async readBuffer(buffer: GPUBuffer, offset = 0, size = buffer.size): Promise<Uint8Array> {
    const dst = this.staging(size, 'checkpoint readback');
    const enc = this.gpu.device.createCommandEncoder({ label: 'checkpoint readback' });
    enc.copyBufferToBuffer(buffer, offset, dst, 0, size);
    this.gpu.device.queue.submit([enc.finish()]);
    await dst.mapAsync(GPUMapMode.READ);
    const out = new Uint8Array(dst.getMappedRange().slice(0, size));
    dst.destroy();
    return out;
  }

  private checkpointTensors(): [string, GPUBuffer, number, number][] {
    const out: [string, GPUBuffer, number, number][] = [];
    this.model.slots.forEach((s, i) => {
      out.push([`slot${i}.w`, s.w.buffer, 0, s.w.batch * s.rows * s.cols * 4]);
      const o = this.optimizers[i];
      for (const [name, t] of Object.entries(o.optimizer.state)) out.push([`slot${i}.${name}`, t.buffer, 0, tensorBytes(t)]);
      out.push([`slot${i}.runParams`, o.params.buffer, 0, o.params.buffer.size]);
    });
    return out;
  }

  /** Everything a step depends on, as one versioned file. */
  async checkpoint(): Promise<Uint8Array> {
    const tensors = new Map<string, Uint8Array>();
    for (const [name, buffer, offset, size] of this.checkpointTensors()) tensors.set(name, await this.readBuffer(buffer, offset, size));
    return encodeCheckpoint({ step: this.step, config: this.config, dataState: this.source.state?.(), tensors });
  }

  /** Restores a checkpoint of this config (refused, naming the first difference, for another). */
  restore(bytes: Uint8Array): void {
    const c = decodeCheckpoint(bytes);
    assertSameConfig(c, this.config);
    for (const [name, buffer, offset, size] of this.checkpointTensors()) {
      const data = c.tensors.get(name);
      if (!data) throw new RangeError(`checkpoint: tensor ${name} is missing`);
      if (data.byteLength !== size) throw new RangeError(`checkpoint: tensor ${name} has ${data.byteLength} bytes, this run needs ${size}`);
      this.gpu.device.queue.writeBuffer(buffer, offset, data.buffer, data.byteOffset, size);
    }
    if (c.header.dataState !== undefined) this.source.restore?.(c.header.dataState);
    this.step = c.header.step;
  }

  destroy(): void {
    this.model.destroy();
    for (const o of this.optimizers) {
      o.optimizer.destroy();
      o.params.buffer.destroy();
    }
    this.clip?.sumsq.destroy();
    this.clip?.clip.destroy();
  }
}

function tensorBytes(t: Tensor): number {
  return t.batch * t.rows * t.cols * 4;
}
