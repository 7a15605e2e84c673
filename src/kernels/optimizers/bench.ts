/**
 * `muonlab bench optimizers`: one step of each optimizer for R = 4 runs of 64×64 (muon with ns5 and
 * polar-express, muon-reg capped at 30 iterations, tra-signgd with N = 64 orthonormal items): median
 * total timestamp time of the step's passes after a warm-up. Small on purpose (a CPU adapter).
 */
import type { Gpu } from '../../gpu/device';
import { createRunParams, defaultRunParams } from '../../gpu/runParams';
import { measureKernel } from '../../gpu/timing';
import { uploadTensor } from '../../gpu/tensor';
import { randomF32 } from '../../cpu/random';
import type { BenchOptions, BenchRow } from '../family';
import { conditionedMatrix } from '../newtonSchulz/check';
import { parseOptimizerConfig, type OptimizerConfigInput } from '../../optim/config';
import { runParamsFor } from '../../optim/common';
import { createOptimizer } from '../../optim/index';

const CONFIGS: OptimizerConfigInput[] = [
  { name: 'gd', lr: 0.1, momentum: 0.9 },
  { name: 'signgd', lr: 0.01 },
  { name: 'adam', lr: 1e-3 },
  { name: 'muon', lr: 0.02, orth: 'ns5' },
  { name: 'muon', lr: 0.02, orth: 'polar-express' },
  { name: 'muon-reg', lr: 0.02, lambda: 0.01, maxIterations: 30 },
  { name: 'tra-signgd', lr: 0.01 },
];

/** Runs and matrix side of the bench step. */
export const OPTIM_BENCH_SHAPE = { runs: 4, d: 64 } as const;

export async function benchOptimizers(gpu: Gpu, options: BenchOptions = {}): Promise<BenchRow[]> {
  const [R, d] = [OPTIM_BENCH_SHAPE.runs, OPTIM_BENCH_SHAPE.d];
  const shape = { batch: R, rows: d, cols: d };
  const rows: BenchRow[] = [];
  for (const input of CONFIGS) {
    const config = parseOptimizerConfig(input);
    const label = config.name === 'muon' ? `muon ${String(config.orth)}` : config.name;
    if (options.variants && !options.variants.includes(label)) continue;
    const params = createRunParams(
      gpu,
      Array.from({ length: R }, () => defaultRunParams(runParamsFor(config, shape).params)),
    );
    const w = uploadTensor(gpu, { ...shape, label: 'W' }, randomF32(R * d * d, 1));
    const g = uploadTensor(gpu, { ...shape, label: 'G' }, randomF32(R * d * d, 2));
    const emb = uploadTensor(gpu, { rows: d, cols: d, label: 'E' }, conditionedMatrix(d, d, 1, 3));
    const opt = createOptimizer(gpu, config, shape, { embeddings: { input: emb, output: emb } });
    try {
      options.onProgress?.(`optimizers ${label}`);
      const t = await measureKernel(gpu, (rec) => opt.step(rec, { w, g, params }), { runs: options.runs ?? 5 });
      rows.push({
        kernel: 'optimizers',
        variant: label,
        shape: `${R} x ${d}x${d}`,
        runs: t.samplesMs.length,
        medianMs: t.medianMs,
        minMs: t.minMs,
        firstRunMs: t.firstRunMs,
        flops: 0,
        gflops: 0,
        timing: t.timing,
        note: 'one optimizer step, all passes (FLOPs not counted: mixed kernels)',
      });
    } finally {
      opt.destroy();
      for (const b of [params.buffer, w.buffer, g.buffer, emb.buffer]) b.destroy();
    }
  }
  return rows;
}
