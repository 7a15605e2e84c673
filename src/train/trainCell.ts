/**
 * The training scheduler: one sweep cell (an ExperimentConfig without sweep axes) — every optimizer
 * entry × runSeed — trained entirely on the GPU (docs/architecture.md §2).
 *
 * Runs are grouped by optimizer kernel (entries of the same optimizer and orth share one batch:
 * their learning rates and betas are per-run parameters); each group has one batched W
 * [R_g, dOut, dIn] from W_0 = 0, its gradient G, its run-parameters buffer and its optimizer. Step t
 * is one command buffer for all groups:
 *
 *   population: softmaxGrad(W_t, weights p) → outputs at W_t and G;  optimizer(G);  advanceRuns
 *   minibatch:  sampleMinibatch(step t) → softmaxGrad(W_t, draws) → G;  at metric steps also a
 *               population softmaxGrad(W_t) for the evaluation;  optimizer(G);  advanceRuns
 *
 * At metric steps (t % metrics.every = 0 and the last step) the per-item outputs and the run
 * parameters (copied before the update, so the flags describe W_t) are copied into one of two sets
 * of staging buffers in the same command buffer (src/train/readback.ts); the set is mapped while the
 * next steps are encoded and submitted, and consumed after the next metric step was submitted, so
 * the queue never waits for the host (`options.readback: 'synchronous'` consumes it at once: same
 * results). Submits do not wait for the GPU; at most MAX_STEPS_IN_FLIGHT steps are queued. A run
 * whose update is non-finite is frozen by the update kernels; one whose loss is non-finite by the
 * loss guard (src/train/freezeNonFinite.ts) in the same command buffer — no readback needed. A
 * diverged run gets one record with `diverged: true` and none after it; the others go on. A stop
 * rule decided at a metric step drops the readbacks of the steps already queued after it.
 */
import { CommandRecorder } from '../gpu/commands';
import type { Gpu } from '../gpu/device';
import { advanceRuns, createRunParams, RUN_PARAMS_BYTES, unpackRunParams, type RunParamsBuffer, type RunParamValues } from '../gpu/runParams';
import { BYTES_PER_ELEMENT, createTensor, uploadTensor, type Tensor } from '../gpu/tensor';
import { createSoftmaxGradWorkspace, itemOutputs, outputColumn, softmaxGrad, SOFTMAX_OUTPUT_COLUMNS, type SoftmaxGradResult } from '../kernels/softmaxGrad/softmaxGrad';
import { balanceGap, bucketStats, capacity, capacityPrefix } from '../metrics/recall';
import { F32_EPSILON, isotropy, singularValueThreshold, type Isotropy } from '../metrics/isotropy';
import { singularValues } from '../cpu/polar';
import { createOptimizer, parseOptimizerConfig, runParamsFor, writeListLearningRates, type GpuEmbeddings, type GpuOptimizer, type OptimizerConfig } from '../optim';
import { parseExperimentConfig, type ExperimentConfig, type ExperimentConfigInput } from '../experiments/config';
import { denseEmbedding } from '../task/embeddings';
import { createGpuTask, sampleMinibatch, type GpuTask } from '../task/taskGpu';
import type { GpuMuon } from '../optim/muon';
import { EXACT_MAX_STEPS, exactStopStep } from '../cpu/newtonSchulz';
import { freezeNonFiniteLoss } from './freezeNonFinite';
import { ReadbackRing, type StagingSet } from './readback';
import { etaMs, isMetricStep, itemBuckets, rankOf, rankOrder, stopDecision, weightedLoss, type RunSnapshot, type StopReason } from './rules';
import type { CellResult, DivergedReason, PerItemArrays, RunInfo, RunOutcome, TrainHooks, TrainMetricsRecord, TrainOptions } from './records';
import { startRunProfile } from '../gpu/runProfile';

const OUTPUT_COLUMNS = SOFTMAX_OUTPUT_COLUMNS.length;
const COL_LOSS = outputColumn('loss');

interface RunGroup {
  key: string;
  config: OptimizerConfig;
  runs: RunInfo[];
  W: Tensor;
  G: Tensor;
  params: RunParamsBuffer;
  optimizer: GpuOptimizer;
  /** Minibatch mode: runSeeds [R_g,1,1], draws [R_g,B,1], the evaluation's gradient scratch. */
  seeds?: Tensor;
  items?: Tensor;
  labels?: Tensor;
  evalG?: Tensor;
}

/**
 * Encoding may run this many steps ahead of the GPU: enough to keep the queue fed while the host
 * encodes, few enough that progress, ETA and cancellation stay close to what the GPU has done.
 */
const MAX_STEPS_IN_FLIGHT = 3;

/** The GPU `exact` polar iteration's stop decisions from its copied step changes (as readExactReport). */
function exactReportFrom(data: ArrayBuffer, runs: number): { steps: number[]; stepChange: number[] } {
  const squared = new Float32Array(data);
  const deltas = Array.from({ length: runs }, (_, r) => Array.from(squared.subarray(r * EXACT_MAX_STEPS, (r + 1) * EXACT_MAX_STEPS), Math.sqrt));
  const steps = deltas.map((d) => exactStopStep(d));
  return { steps, stepChange: deltas.map((d, r) => d[steps[r] - 1]) };
}

/** The optimizer kernel a config needs: entries with equal keys can share one batch. */
function kernelKey(config: OptimizerConfig): string {
  switch (config.name) {
    case 'muon':
      return `muon:${JSON.stringify(config.orth)}`;
    case 'muon-reg':
      return `muon-reg:${config.maxIterations}`;
    default:
      return config.name;
  }
}

/**
 * Runs one cell: every optimizer × runSeed of `config`, T = training.steps steps, metrics at their
 * cadence. Returns the records, the final per-item arrays and why it stopped.
 *
 * @example
 * const result = await trainCell(gpu, parseExperimentConfig(json), {
 *   onProgress: (e) => console.log(e.step, '/', e.steps), onRecord: (r) => lines.push(JSON.stringify(r)) });
 */
export async function trainCell(gpu: Gpu, input: ExperimentConfig | ExperimentConfigInput, hooks: TrainHooks = {}, options: TrainOptions = {}): Promise<CellResult> {
  const config = parseExperimentConfig(input);
  if (config.sweep.length > 0) throw new RangeError(`trainCell: "${config.name}" has sweep axes; expand it into cells first (expandSweep)`);
  const cell = hooks.cell ?? config.name;
  const { N, dIn, dOut } = config.task;
  const T = config.training.steps;
  const minibatch = config.training.mode === 'minibatch';
  const B = config.training.batchSize ?? 0;
  const seeds = config.training.runSeeds;
  const dims = { d_in: dIn, d_out: dOut, N };

  if (options.task) {
    const c = options.task.config;
    if (c.N !== N || c.dIn !== dIn || c.dOut !== dOut || c.embedding !== config.task.embedding || c.taskSeed !== config.task.taskSeed) {
      throw new RangeError(`trainCell: options.task (N ${c.N}, ${c.dIn}→${c.dOut}, ${c.embedding}, taskSeed ${c.taskSeed}) is not the config's task`);
    }
  }
  // Everything parsed and resolved before any GPU object exists, so a bad config leaks nothing.
  const runs: RunInfo[] = [];
  const initial: Partial<RunParamValues>[] = [];
  config.optimizers.forEach((entry, k) => {
    const { label, ...raw } = entry as typeof entry & { label?: string };
    const cfg = parseOptimizerConfig(raw, `optimizers.${k}`);
    seeds.forEach((runSeed, s) => {
      const { params, schedule } = runParamsFor(cfg, { rows: dOut, cols: dIn, dims, steps: T, seed: runSeed });
      runs.push({ run: runs.length, optimizer: label ?? cfg.name, optimizerName: cfg.name, optimizerIndex: k, runSeed, seedIndex: s, config: cfg, schedule });
      initial.push(params);
    });
  });

  const ownsTask = !options.task;
  // Profiling (options.profile): timestamp queries around every pass; off, nothing is made.
  const profiling = options.profile ? startRunProfile(gpu, cell) : undefined;
  const task: GpuTask = options.task ?? (await createGpuTask(gpu, config.task));
  const groups: RunGroup[] = [];
  const extraTensors: Tensor[] = [];
  const rings: ReadbackRing[] = [];
  // The gradient's work buffers, created at the first step and reused by every later one.
  const gradWorkspace = createSoftmaxGradWorkspace(gpu);
  try {
    const p = task.frequencies;
    const order = rankOrder(p);
    const ranks = rankOf(order);
    const evalItems = Math.min(N, config.metrics.evalItems ?? N);
    const evalOrder = order.subarray(0, evalItems);
    const buckets = itemBuckets(config.task, ranks);
    const evalBuckets = Array.from(evalOrder, (i) => buckets[i]);

    let traEmbeddings: GpuEmbeddings | undefined;
    const embeddingsForTra = (): GpuEmbeddings => {
      if (traEmbeddings) return traEmbeddings;
      const emb = task.embeddings;
      if (emb.kind === 'dense') traEmbeddings = { input: emb.E, output: emb.Et };
      else {
        const up = (side: 'in' | 'out', d: number) => {
          const t = uploadTensor(gpu, { rows: N, cols: d, label: `tra-signgd ${side} embeddings (${emb.kind})` }, denseEmbedding(emb.kind, side, N, d, config.task.taskSeed));
          extraTensors.push(t);
          return t;
        };
        traEmbeddings = { input: up('in', dIn), output: up('out', dOut) };
      }
      return traEmbeddings;
    };

    const byKey = new Map<string, RunInfo[]>();
    for (const r of runs) {
      const key = kernelKey(r.config);
      byKey.set(key, [...(byKey.get(key) ?? []), r]);
    }
    for (const [key, members] of byKey) {
      const Rg = members.length;
      const shape = { batch: Rg, rows: dOut, cols: dIn };
      const group: Partial<RunGroup> & { key: string; runs: RunInfo[] } = { key, runs: members, config: members[0].config };
      groups.push(group as RunGroup);
      group.W = createTensor(gpu, { ...shape, label: `W (${key}, ${Rg} runs)` });
      group.G = createTensor(gpu, { ...shape, label: `G (${key})` });
      group.params = createRunParams(gpu, members.map((r) => initial[r.run]), `run params (${key})`);
      group.optimizer = createOptimizer(gpu, members[0].config, shape, members[0].config.name === 'tra-signgd' ? { embeddings: embeddingsForTra() } : {});
      if (minibatch) {
        group.seeds = uploadTensor(gpu, { batch: Rg, rows: 1, cols: 1, dtype: 'u32', label: `runSeeds (${key})` }, members.map((r) => r.runSeed));
        group.items = createTensor(gpu, { batch: Rg, rows: B, cols: 1, dtype: 'u32', label: `minibatch items (${key})` });
        group.labels = createTensor(gpu, { batch: Rg, rows: B, cols: 1, dtype: 'u32', label: `minibatch labels (${key})` });
        group.evalG = createTensor(gpu, { ...shape, label: `evaluation gradient (${key})` });
      }
    }

    const records: TrainMetricsRecord[] = [];
    const history: RunSnapshot[][] = runs.map(() => []);
    const outcome = runs.map(() => ({ diverged: false, divergedAtStep: null as number | null, divergedReason: null as DivergedReason | null, reported: false, crossing: {} as Record<string, number | null> }));
    for (const o of outcome) for (const tau of config.metrics.tau) o.crossing[String(tau)] = null;
    let finalPerItem: CellResult['finalPerItem'] = null;
    let stopped: StopReason = 'steps';
    let lastStep = 0;
    const started = performance.now();
    const gradOptions = { chunkSize: options.chunkSize, queryBlock: options.queryBlock, workspace: gradWorkspace };
    const isoOn = config.metrics.isotropy;

    const depth = options.readback === 'synchronous' ? 1 : 2;
    const ring = new ReadbackRing(gpu, depth, cell);
    rings.push(ring);
    /** Metric steps submitted and not consumed yet, oldest first (at most depth − 1 after each step). */
    const pending: { t: number; set: StagingSet; update: boolean }[] = [];
    /** Steps submitted whose progress event is not out yet (see flushProgress). */
    const progressQueue: number[] = [];
    /** onSubmittedWorkDone of the steps in flight: bounds how far encoding runs ahead of the GPU. */
    const inFlight: Promise<void>[] = [];
    let consumedUpTo = -1;

    // A step's progress goes out once no earlier metric step is still unread: such a readback may
    // stop the cell (target loss, capacity stall) at its own step, and later steps would not count.
    const flushProgress = () => {
      while (progressQueue.length > 0) {
        const s = progressQueue[0];
        if (s > consumedUpTo && pending.some((p) => p.t < s)) break;
        progressQueue.shift();
        const elapsedMs = performance.now() - started;
        hooks.onProgress?.({ cell, step: s, steps: T, elapsedMs, etaMs: etaMs(elapsedMs, s + 1, T + 1) });
      }
    };

    /** Turns the oldest pending readback into records; returns the stop rules' decision at its step. */
    const consumeOldest = async (): Promise<StopReason | null> => {
      const { t, set, update } = pending[0];
      await set.ready();
      pending.shift();
      try {
        const perItemNow: PerItemArrays[] = [];
        for (const [gi, g] of groups.entries()) {
          const outputs = new Float32Array(set.get(`outputs ${gi}`));
          const params = unpackRunParams(set.get(`params ${gi}`), g.runs.length);
          const mbOut = set.has(`minibatch ${gi}`) ? new Float32Array(set.get(`minibatch ${gi}`)) : undefined;
          const wBefore = set.has(`W ${gi}`) ? new Float32Array(set.get(`W ${gi}`)) : undefined;
          const wAfter = set.has(`W after ${gi}`) ? new Float32Array(set.get(`W after ${gi}`)) : undefined;
          const exact = update && set.has(`exact ${gi}`) ? exactReportFrom(set.get(`exact ${gi}`), g.runs.length) : undefined;
          for (const [k, run] of g.runs.entries()) {
            const { pCorrect, correct, loss: itemLoss } = itemOutputs(outputs, k, N);
            const arrays: PerItemArrays = { run: run.run, step: t, pCorrect, correct, loss: itemLoss };
            perItemNow.push(arrays);
            const o = outcome[run.run];
            const loss = weightedLoss(p, outputs, k * N * OUTPUT_COLUMNS, OUTPUT_COLUMNS, COL_LOSS);
            if (params[k].diverged && !o.diverged) {
              o.diverged = true;
              o.divergedAtStep = params[k].divergedAtStep;
              o.divergedReason = 'non-finite';
            }
            // The GPU's loss guard froze it in step t's command buffer (after the update), so the
            // flag shows in the next readback of the run parameters; the record says so now.
            if (!o.diverged && !Number.isFinite(loss)) {
              o.diverged = true;
              o.divergedAtStep = t;
              o.divergedReason = 'non-finite';
            }
            // A finite loss can still have blown up (GD at η = 1e30 reaches 1e27): past
            // lossMultiple × its step-0 loss the run counts as diverged. Decided on the recorded
            // loss, so pipelined and synchronous readback agree; the run is not frozen on the GPU
            // (its later records are simply not kept), which leaves the other runs untouched.
            const initialLoss = history[run.run][0]?.loss ?? loss;
            if (!o.diverged && initialLoss > 0 && loss > config.training.divergence.lossMultiple * initialLoss) {
              o.diverged = true;
              o.divergedAtStep = t;
              o.divergedReason = 'loss-growth';
            }
            history[run.run].push({ step: t, loss, capacity: 0, diverged: o.diverged });
            if (o.reported) continue;
            const pEval = Float32Array.from(evalOrder, (i) => pCorrect[i]);
            const cEval = Uint8Array.from(evalOrder, (i) => correct[i]);
            const gap = balanceGap(pEval);
            const cap = capacity(cEval);
            history[run.run][history[run.run].length - 1].capacity = cap;
            for (const tau of config.metrics.tau) {
              if (o.crossing[String(tau)] === null && gap.max >= 1 - tau) o.crossing[String(tau)] = t;
            }
            const record: TrainMetricsRecord = {
              run: run.run,
              optimizer: run.optimizer,
              optimizerName: run.optimizerName,
              runSeed: run.runSeed,
              step: t,
              lr: params[k].lr,
              loss,
              evalItems,
              capacity: cap,
              capacityPrefix: capacityPrefix(cEval),
              delta: gap.delta,
              maxPCorrect: gap.max,
              minPCorrect: gap.min,
              buckets: bucketStats(pEval, cEval, evalBuckets),
              diverged: o.diverged,
              divergedAtStep: o.divergedAtStep,
              divergedReason: o.divergedReason,
            };
            if (mbOut) {
              let s = 0;
              for (let b = 0; b < B; b++) s += mbOut[(k * B + b) * OUTPUT_COLUMNS + COL_LOSS];
              record.minibatchLoss = s / B;
            }
            if (wBefore) record.isotropy = runIsotropy(wBefore, wAfter, k, dOut, dIn);
            if (exact) record.orthExact = { steps: exact.steps[k], stepChange: exact.stepChange[k] };
            if (o.diverged) o.reported = true;
            records.push(record);
            hooks.onRecord?.(record);
            hooks.onPerItem?.(arrays);
          }
        }
        perItemNow.sort((a, b) => a.run - b.run);
        finalPerItem = { step: t, runs: perItemNow };
        lastStep = t;
        consumedUpTo = t;
        return stopDecision(history, config.training.stop);
      } finally {
        set.release();
      }
    };

    let stop: StopReason | null = null;
    for (let t = 0; t <= T && !stop; t++) {
      if (hooks.whilePaused) await hooks.whilePaused();
      if (hooks.signal?.aborted) {
        stopped = 'cancelled';
        break;
      }
      const metric = isMetricStep(t, config.metrics.every, T);
      const update = t < T;
      if (update) for (const g of groups) writeListLearningRates(gpu, g.params, g.runs.map((r) => r.schedule), t + 1);
      const rec = new CommandRecorder(gpu, profiling?.profiler, `train ${cell} step ${t}`);
      const transient: SoftmaxGradResult[] = [];
      const set = metric ? ring.acquire() : undefined;
      try {
        for (const [gi, g] of groups.entries()) {
          const Rg = g.runs.length;
          const common = { W: g.W, embeddings: task.embeddings, noise: config.task.noise, noiseTarget: config.task.noiseTarget, ...gradOptions };
          let evaluation: SoftmaxGradResult | undefined;
          if (!minibatch) {
            evaluation = await softmaxGrad(rec, { ...common, G: g.G, targets: { kind: 'population', weights: task.weights } });
            transient.push(evaluation);
          } else {
            if (update) {
              await sampleMinibatch(rec, { seeds: g.seeds!, thresholds: task.thresholds, thresholdCount: task.thresholdCount, N, noise: config.task.noise, step: t, items: g.items!, labels: g.labels! });
              const mb = await softmaxGrad(rec, { ...common, G: g.G, targets: { kind: 'minibatch', items: g.items!, labels: g.labels! } });
              transient.push(mb);
              if (set) set.copy(rec.encoder, `minibatch ${gi}`, mb.outputs.buffer, 0, Rg * B * OUTPUT_COLUMNS * BYTES_PER_ELEMENT);
            }
            if (metric) {
              evaluation = await softmaxGrad(rec, { ...common, G: g.evalG!, targets: { kind: 'population', weights: task.weights } });
              transient.push(evaluation);
            }
          }
          if (set) {
            set.copy(rec.encoder, `outputs ${gi}`, evaluation!.outputs.buffer, 0, Rg * N * OUTPUT_COLUMNS * BYTES_PER_ELEMENT);
            set.copy(rec.encoder, `params ${gi}`, g.params.buffer, 0, Rg * RUN_PARAMS_BYTES);
            if (isoOn) set.copy(rec.encoder, `W ${gi}`, g.W.buffer, 0, Rg * dOut * dIn * BYTES_PER_ELEMENT);
          }
          if (update) {
            await g.optimizer.step(rec, { w: g.W, g: g.G, params: g.params });
            await advanceRuns(rec, g.params);
            const exactDeltas = (g.optimizer as Partial<GpuMuon>).exactDeltas;
            if (set && exactDeltas) set.copy(rec.encoder, `exact ${gi}`, exactDeltas, 0, Rg * EXACT_MAX_STEPS * BYTES_PER_ELEMENT);
            if (set && isoOn) set.copy(rec.encoder, `W after ${gi}`, g.W.buffer, 0, Rg * dOut * dIn * BYTES_PER_ELEMENT);
          }
          // After the update, as the host-side freeze used to land: W_{t+1} is already taken, the
          // run is frozen from step t + 1 on.
          if (evaluation) {
            await freezeNonFiniteLoss(rec, { params: g.params, outputs: evaluation.outputs, weights: task.weights, items: N, columns: OUTPUT_COLUMNS, lossColumn: COL_LOSS, step: t });
          }
        }
        if (inFlight.length >= MAX_STEPS_IN_FLIGHT) await inFlight.shift();
        await rec.submit();
        inFlight.push(gpu.device.queue.onSubmittedWorkDone().catch(() => undefined));
      } finally {
        for (const r of transient) r.destroy();
      }
      if (set) {
        set.startMap();
        pending.push({ t, set, update });
      }
      progressQueue.push(t);
      flushProgress();
      while (pending.length > depth - 1 && !stop) stop = await consumeOldest();
      if (!stop) flushProgress();
    }
    // The end (or a cancel): read what is still pending, unless a stop rule already ended the cell
    // at an earlier step (then later steps' readbacks are dropped).
    while (pending.length > 0 && !stop) stop = await consumeOldest();
    if (stop) {
      stopped = stop;
      progressQueue.splice(0, progressQueue.length, ...progressQueue.filter((s) => s <= consumedUpTo));
      pending.length = 0;
    }
    flushProgress();
    const runsOut: RunOutcome[] = runs.map((r) => ({
      ...r,
      diverged: outcome[r.run].diverged,
      divergedAtStep: outcome[r.run].divergedAtStep,
      divergedReason: outcome[r.run].divergedReason,
      firstCrossing: outcome[r.run].crossing,
    }));
    return { cell, runs: runsOut, records, finalPerItem, steps: lastStep, stopped, elapsedMs: performance.now() - started, ...(profiling ? { profile: profiling.summarize() } : {}) };
  } finally {
    // Mappings still in flight (an error, or a stop rule that dropped later readbacks) settle first.
    for (const ring of rings) await ring.destroy();
    for (const g of groups) {
      g.optimizer?.destroy();
      for (const t of [g.W, g.G, g.seeds, g.items, g.labels, g.evalG]) t?.buffer.destroy();
      g.params?.buffer.destroy();
    }
    for (const t of extraTensors) t.buffer.destroy();
    gradWorkspace.dispose();
    if (ownsTask) task.destroy();
    profiling?.destroy();
  }
}

/** Isotropy of W_t and of the update W_t − W_{t+1} (∝ η·D; isotropy is scale-free) of run k. */
function runIsotropy(before: Float32Array, after: Float32Array | undefined, k: number, rows: number, cols: number): { w: Isotropy; update: Isotropy | null } {
  const n = rows * cols;
  const of = (x: ArrayLike<number>) => {
    const sigma = Array.from(singularValues(x, rows, cols));
    return isotropy(sigma, { threshold: singularValueThreshold(sigma, rows, cols, F32_EPSILON) });
  };
  const w = before.subarray(k * n, (k + 1) * n);
  let update: Isotropy | null = null;
  if (after) {
    const d = new Float64Array(n);
    for (let i = 0; i < n; i++) d[i] = w[i] - after[k * n + i];
    update = of(d);
  }
  return { w: of(w), update };
}
