/**
 * One transformer run as the automation API runs it (`muonlab run CONFIG.json` with a
 * `muonlab.transformer/1` config, and the page): build the trainer, restore a checkpoint when
 * resuming, train while streaming records and checkpoints, and summarise throughput and memory.
 */
import type { Gpu } from '../gpu/device';
import { activationCount, parameterCount, trainingFlops } from '../layout/transformerShape';
import type { TrainProgress } from '../train/records';
import { configDims, parseTransformerConfig, type TransformerConfigInput } from './config';
import { TransformerTrainer, type TransformerRecord } from './trainer';

export interface TransformerJobOptions {
  /** A checkpoint of this config, base64 (what `muonlabCheckpoint` delivered), to continue from. */
  resume?: string;
  /** Stop after this many updates (tests of a killed run); default training.steps. */
  until?: number;
}

export interface TransformerJobSummary {
  name: string;
  /** Updates done at the start (a resumed run) and at the end. */
  startStep: number;
  steps: number;
  replicas: number;
  finished: boolean;
  /** Wall time of the training steps this job ran (evaluation passes included). */
  elapsedMs: number;
  /** Tokens trained per second over all replicas. */
  tokensPerSecond: number;
  /** trainingFlops (6·N·tokens + attention) per second. */
  gflops: number;
  parameters: number;
  activations: number;
  /** Bytes of every GPU buffer the run held: parameters, gradients, optimizer state, activations, work. */
  gpuBytes: number;
  /** The last record of each replica. */
  final: TransformerRecord[];
}

export interface TransformerJobIo {
  record?: (r: TransformerRecord) => void;
  checkpoint?: (bytes: Uint8Array, step: number) => Promise<void>;
  progress?: (event: TrainProgress) => void;
}

function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * @example
 * const summary = await runTransformerJob(gpu, config, {}, { record: (r) => console.log(r.step, r.loss) });
 */
export async function runTransformerJob(
  gpu: Gpu,
  input: TransformerConfigInput,
  options: TransformerJobOptions,
  io: TransformerJobIo,
): Promise<TransformerJobSummary> {
  const config = parseTransformerConfig(input);
  const trainer = await TransformerTrainer.create(gpu, config);
  try {
    if (options.resume) trainer.restore(fromBase64(options.resume));
    const startStep = trainer.step;
    const started = performance.now();
    const final = new Map<number, TransformerRecord>();
    await trainer.train({
      until: options.until,
      onRecord: (r) => {
        final.set(r.replica, r);
        io.record?.(r);
      },
      onCheckpoint: io.checkpoint,
      onProgress: (step, steps) => {
        const elapsedMs = performance.now() - started;
        const done = step - startStep;
        io.progress?.({ cell: config.name, step, steps, elapsedMs, etaMs: done > 0 ? (elapsedMs / done) * (steps - step) : null });
      },
    });
    const dims = configDims(config);
    const batch = { rows: config.training.batchSize, seqLen: config.training.seqLen };
    const R = trainer.replicas;
    const elapsedMs = performance.now() - started;
    const updates = trainer.step - startStep;
    return {
      name: config.name,
      startStep,
      steps: trainer.step,
      replicas: R,
      finished: trainer.step === config.training.steps,
      elapsedMs,
      tokensPerSecond: (updates * R * batch.rows * batch.seqLen) / (elapsedMs / 1000),
      gflops: (updates * R * trainingFlops(dims, batch)) / (elapsedMs * 1e6),
      parameters: parameterCount(dims),
      activations: activationCount(dims, batch),
      gpuBytes: trainer.bytes,
      final: [...final.values()],
    };
  } finally {
    trainer.destroy();
  }
}
