/**
 * The validate step of the softmax cross-entropy gradient (`muonlab check softmax-grad`, and
 * test/softmaxGrad.browser.test.ts): addressable cases over embedding kinds, sizes, noise,
 * noise targets, population/minibatch, runs, forced chunking and extreme logits; each run on the GPU
 * and against the Float64 twin (src/cpu/softmaxGrad.ts) on the same f32 inputs (embeddings read back
 * from the GPU, docs/math.md §6), with per-element tolerances derived in `softmaxGradTolerances`.
 */
import { runCommands } from '../../gpu/commands';
import type { Gpu } from '../../gpu/device';
import { createTensor, readTensor, uploadTensor, writeTensor, type Tensor } from '../../gpu/tensor';
import { compareToReference, F32_UNIT_ROUNDOFF, type Comparison } from '../../cpu/compare';
import { seededUniform } from '../../cpu/random';
import { softmaxGradCpu, type SoftmaxGradCpuResult } from '../../cpu/softmaxGrad';
import { blockDiagonalItemMajor } from '../../task/embeddings';
import type { FrequencyConfig, EmbeddingKind } from '../../task/task';
import { createGpuTask, sampleMinibatch, type TaskEmbeddings } from '../../task/taskGpu';
import { finiteOrNull } from '../../experiments/results';
import type { CheckRow } from '../family';
import { softmaxGrad, type SoftmaxGradResult } from './softmaxGrad';

/** Logit patterns built with dense identity embeddings (z_ij = W_ji exactly). */
export type LogitPattern = 'extreme-200' | 'all-below-120' | 'all-equal-large' | 'tiny-loss-margin-25';

export interface SoftmaxGradCase {
  embedding: EmbeddingKind | 'dense-identity';
  N: number;
  dIn: number;
  dOut: number;
  runs: number;
  /** Minibatch size; absent = population gradient. */
  batch?: number;
  noise: number;
  noiseTarget: 'sampled' | 'expected';
  frequency?: FrequencyConfig;
  chunkSize?: number;
  queryBlock?: number;
  /** Uniform W entries in [−wScale, wScale] (default 3). */
  wScale?: number;
  pattern?: LogitPattern;
  seed?: number;
  /** Cap on one binding's bytes: forces the staged path (run groups, query blocks, copied chunks). */
  maxBindingBytes?: number;
  /** Ask the structural paths for o too (dense paths always give it). */
  computeO?: boolean;
  /** W and G as views: offset 5 and 7 elements into larger buffers, run strides padded by 3. */
  view?: boolean;
}

export function softmaxGradCaseId(c: SoftmaxGradCase): string {
  let id = `${c.embedding},N=${c.N},dIn=${c.dIn},dOut=${c.dOut},R=${c.runs},${c.batch ? `minibatch B=${c.batch}` : 'population'}`;
  id += `,noise=${c.noise}`;
  if (c.batch) id += `,${c.noiseTarget}`;
  if (c.frequency && c.frequency.kind !== 'uniform') id += `,${c.frequency.kind}`;
  if (c.chunkSize) id += `,chunk=${c.chunkSize}`;
  if (c.queryBlock) id += `,block=${c.queryBlock}`;
  if (c.pattern) id += `,${c.pattern}`;
  if (c.maxBindingBytes) id += `,binding≤${c.maxBindingBytes}`;
  if (c.computeO) id += ',o';
  if (c.view) id += ',view';
  return id;
}

const power = { kind: 'power', powerExponent: 1.2 } as const;

/**
 * The staged path (a binding cap far below the operands): every case has an unstaged twin (the same
 * case without `maxBindingBytes`) that the tests compare it with.
 */
export const STAGED_CASES: readonly SoftmaxGradCase[] = [
  // E, Ẽ, H, o beyond 16 KiB: chunks capped at 61 rows of E (67 floats), 5 query blocks of 61 × 5 chunks.
  {
    embedding: 'gaussian',
    N: 257,
    dIn: 67,
    dOut: 32,
    runs: 1,
    noise: 0,
    noiseTarget: 'expected',
    frequency: power,
    maxBindingBytes: 16384,
  },
  // Runs in groups of 2 (W is 3 × 384 bytes), blocks of 2 queries, E rows gathered chunk by chunk, sampled labels.
  {
    embedding: 'gaussian',
    N: 257,
    dIn: 32,
    dOut: 3,
    runs: 3,
    batch: 40,
    noise: 0.2,
    noiseTarget: 'sampled',
    chunkSize: 64,
    maxBindingBytes: 1024,
  },
  // One run per group, ē accumulated chunk by chunk, expected targets, W and G views.
  {
    embedding: 'gaussian',
    N: 97,
    dIn: 13,
    dOut: 21,
    runs: 3,
    batch: 64,
    noise: 0.3,
    noiseTarget: 'expected',
    frequency: power,
    chunkSize: 40,
    maxBindingBytes: 2048,
    view: true,
  },
  // Population with noise, W staged one run at a time.
  {
    embedding: 'orthonormal',
    N: 50,
    dIn: 64,
    dOut: 50,
    runs: 3,
    noise: 0.3,
    noiseTarget: 'expected',
    frequency: { kind: 'hierarchical', groups: 5, groupExponent: 1 },
    maxBindingBytes: 16384,
  },
  // Structural paths in run groups of 2 (one 48×48 matrix is 9216 bytes).
  {
    embedding: 'identity',
    N: 48,
    dIn: 48,
    dOut: 48,
    runs: 3,
    batch: 64,
    noise: 0.3,
    noiseTarget: 'sampled',
    frequency: power,
    maxBindingBytes: 18432,
    computeO: true,
  },
  {
    embedding: 'coupled-rotation',
    N: 48,
    dIn: 48,
    dOut: 48,
    runs: 3,
    noise: 0.3,
    noiseTarget: 'expected',
    frequency: power,
    maxBindingBytes: 18432,
    computeO: true,
    view: true,
  },
];

/** The suite. `quick` keeps one case per path (dense, identity, coupled, chunked, minibatch, staged). */
export function softmaxGradCases(scope: 'full' | 'quick' = 'full'): SoftmaxGradCase[] {
  const pop = { runs: 1, noise: 0, noiseTarget: 'expected' as const };
  const quick: SoftmaxGradCase[] = [
    { embedding: 'gaussian', N: 257, dIn: 3, dOut: 32, ...pop, frequency: power },
    { embedding: 'identity', N: 64, dIn: 64, dOut: 64, ...pop, frequency: power },
    { embedding: 'coupled-rotation', N: 3, dIn: 3, dOut: 3, ...pop },
    { embedding: 'gaussian', N: 257, dIn: 32, dOut: 3, runs: 3, batch: 40, noise: 0.2, noiseTarget: 'sampled', chunkSize: 64 },
    // The staged path (binding cap) on a dense minibatch and a structural run group.
    STAGED_CASES[2],
    STAGED_CASES[5],
  ];
  if (scope === 'quick') return quick;
  const cases: SoftmaxGradCase[] = [
    // gaussian: N ∈ {1, 2, 257, 1031}, d ∈ {1, 3, 32, 67}, dIn ≠ dOut.
    { embedding: 'gaussian', N: 1, dIn: 1, dOut: 3, ...pop },
    { embedding: 'gaussian', N: 2, dIn: 3, dOut: 1, ...pop },
    { embedding: 'gaussian', N: 257, dIn: 1, dOut: 32, ...pop, frequency: power },
    { embedding: 'gaussian', N: 257, dIn: 67, dOut: 3, ...pop },
    { embedding: 'gaussian', N: 257, dIn: 32, dOut: 67, ...pop, frequency: power },
    { embedding: 'gaussian', N: 1031, dIn: 67, dOut: 32, ...pop, frequency: power },
    // The same N = 1031 case forced into 9 chunks of 128 (compared with one chunk in the test).
    { embedding: 'gaussian', N: 1031, dIn: 67, dOut: 32, ...pop, frequency: power, chunkSize: 128, queryBlock: 300 },
    // orthonormal: d ≥ N.
    { embedding: 'orthonormal', N: 50, dIn: 64, dOut: 64, ...pop, frequency: power },
    {
      embedding: 'orthonormal',
      N: 50,
      dIn: 64,
      dOut: 50,
      runs: 3,
      noise: 0.3,
      noiseTarget: 'expected',
      frequency: { kind: 'hierarchical', groups: 5, groupExponent: 1 },
    },
    // identity: N ∈ {3, 64, 300}.
    { embedding: 'identity', N: 3, dIn: 3, dOut: 3, ...pop },
    { embedding: 'identity', N: 64, dIn: 64, dOut: 64, ...pop, frequency: power },
    { embedding: 'identity', N: 300, dIn: 300, dOut: 300, ...pop, frequency: { kind: 'two-class', headCount: 60, headMass: 0.8 } },
    // coupled-rotation: N = d ∈ {3, 300}.
    { embedding: 'coupled-rotation', N: 3, dIn: 3, dOut: 3, ...pop },
    { embedding: 'coupled-rotation', N: 300, dIn: 300, dOut: 300, ...pop, frequency: { kind: 'two-class', headCount: 60, headMass: 0.8 } },
    // extreme logits (dense path, E = Ẽ = I so the logits are W's entries exactly).
    { embedding: 'dense-identity', N: 64, dIn: 64, dOut: 64, ...pop, pattern: 'extreme-200', chunkSize: 16 },
    { embedding: 'dense-identity', N: 64, dIn: 64, dOut: 64, ...pop, pattern: 'all-below-120' },
    { embedding: 'dense-identity', N: 64, dIn: 64, dOut: 64, ...pop, pattern: 'all-equal-large' },
    { embedding: 'dense-identity', N: 64, dIn: 64, dOut: 64, ...pop, pattern: 'tiny-loss-margin-25' },
    { embedding: 'identity', N: 64, dIn: 64, dOut: 64, ...pop, pattern: 'extreme-200' },
    { embedding: 'identity', N: 64, dIn: 64, dOut: 64, ...pop, pattern: 'tiny-loss-margin-25' },
    // o on the structural paths (identity: the softmax itself; coupled-rotation: rotated once more).
    { embedding: 'identity', N: 64, dIn: 64, dOut: 64, ...pop, frequency: power, computeO: true },
    {
      embedding: 'coupled-rotation',
      N: 48,
      dIn: 48,
      dOut: 48,
      runs: 3,
      noise: 0.3,
      noiseTarget: 'expected',
      frequency: power,
      computeO: true,
    },
    // W and G as views (offsets, padded run strides).
    {
      embedding: 'gaussian',
      N: 97,
      dIn: 13,
      dOut: 21,
      runs: 3,
      batch: 64,
      noise: 0.3,
      noiseTarget: 'sampled',
      frequency: power,
      chunkSize: 40,
      view: true,
    },
    {
      embedding: 'identity',
      N: 48,
      dIn: 48,
      dOut: 48,
      runs: 3,
      batch: 64,
      noise: 0.3,
      noiseTarget: 'sampled',
      frequency: power,
      view: true,
    },
    { embedding: 'coupled-rotation', N: 48, dIn: 48, dOut: 48, runs: 3, noise: 0.3, noiseTarget: 'expected', frequency: power, view: true },
    ...STAGED_CASES,
  ];
  // noise on/off × noiseTarget × population/minibatch × R ∈ {1, 3}, on a small gaussian task and on
  // the identity path (every combination valid: population ignores noiseTarget, so it appears once).
  for (const embedding of ['gaussian', 'identity'] as const) {
    const size = embedding === 'gaussian' ? { N: 97, dIn: 13, dOut: 21 } : { N: 48, dIn: 48, dOut: 48 };
    for (const runs of [1, 3]) {
      for (const noise of [0, 0.3]) {
        cases.push({ embedding, ...size, runs, noise, noiseTarget: 'expected', frequency: power, chunkSize: 40 });
        for (const noiseTarget of ['sampled', 'expected'] as const) {
          cases.push({ embedding, ...size, runs, batch: 64, noise, noiseTarget, frequency: power, chunkSize: 40 });
        }
      }
    }
  }
  return cases;
}

/** Everything a case produced on both sides. */
export interface SoftmaxGradCaseResult {
  c: SoftmaxGradCase;
  ref: SoftmaxGradCpuResult;
  /** GPU outputs, columns split out: [R·Q] each. */
  got: {
    lse: Float32Array;
    loss: Float32Array;
    zTrue: Float32Array;
    pTrue: Float32Array;
    correct: Float32Array;
    G: Float32Array;
    o?: Float32Array;
  };
  /** |ẽ_jk| max over j per k, |e| table (item-major, Float64), for tolerances. */
  absEtMax: Float64Array;
  absE: Float64Array;
  chunks: number;
  memory: SoftmaxGradResult['memory'];
  staged: boolean;
  runGroups: number;
  blocks: number;
  /** Elements of G's buffer outside its view that changed (view cases; must be 0). */
  viewPaddingChanged: number;
}

/** What the padding around view cases' W and G holds. */
const VIEW_SENTINEL = 7.25;

function patternW(pattern: LogitPattern, N: number, next: () => number): Float32Array {
  // W[j, i] = z_ij (dOut × dIn = N × N).
  const w = new Float32Array(N * N);
  for (let j = 0; j < N; j++) {
    for (let i = 0; i < N; i++) {
      let z: number;
      switch (pattern) {
        case 'extreme-200':
          z = next() < 0.5 ? -200 + 10 * next() : 200 - 10 * next();
          break;
        case 'all-below-120':
          z = -120 - 40 * next();
          break;
        case 'all-equal-large':
          z = 5000;
          break;
        case 'tiny-loss-margin-25':
          z = i === j ? 25 : 0;
          break;
      }
      w[j * N + i] = z;
    }
  }
  return w;
}

/**
 * Runs one case: builds the task on the GPU (embeddings from taskSeed; for minibatch cases draws
 * sampled on the GPU), computes the gradient, reads everything back, and runs the CPU twin on the
 * same f32 values.
 */
export async function runSoftmaxGradCase(gpu: Gpu, c: SoftmaxGradCase): Promise<SoftmaxGradCaseResult> {
  const seed = c.seed ?? 11;
  const next = seededUniform(seed);
  const R = c.runs;
  const { N, dIn, dOut } = c;
  const created: Tensor[] = [];
  const keep = <T extends Tensor>(t: T): T => (created.push(t), t);
  const task = await createGpuTask(gpu, {
    N,
    dIn,
    dOut,
    embedding: c.embedding === 'dense-identity' ? 'identity' : c.embedding,
    frequency: c.frequency ?? { kind: 'uniform' },
    noise: c.noise,
    noiseTarget: c.noiseTarget,
    taskSeed: seed,
  });
  let result: SoftmaxGradResult | undefined;
  try {
    let embeddings: TaskEmbeddings = task.embeddings;
    let E: Float64Array;
    let Et: Float64Array;
    if (c.embedding === 'dense-identity') {
      const I = new Float32Array(N * N);
      for (let i = 0; i < N; i++) I[i * N + i] = 1;
      embeddings = {
        kind: 'dense',
        N,
        dIn,
        dOut,
        E: keep(uploadTensor(gpu, { rows: N, cols: N, label: 'E = I (dense)' }, I)),
        Et: keep(uploadTensor(gpu, { rows: N, cols: N, label: 'Ẽ = I (dense)' }, I)),
      };
      E = Float64Array.from(I);
      Et = Float64Array.from(I);
    } else if (embeddings.kind === 'dense') {
      E = Float64Array.from(await readTensor(gpu, embeddings.E));
      Et = Float64Array.from(await readTensor(gpu, embeddings.Et));
    } else if (embeddings.kind === 'identity') {
      E = new Float64Array(N * N);
      for (let i = 0; i < N; i++) E[i * N + i] = 1;
      Et = E;
    } else {
      // The GPU uses the f32-rounded rotation blocks (uniform fields are f32).
      E = blockDiagonalItemMajor(N, embeddings.blockIn.map(Math.fround));
      Et = blockDiagonalItemMajor(N, embeddings.blockOut.map(Math.fround));
    }
    const wScale = c.wScale ?? 3;
    const wHost = new Float32Array(R * dOut * dIn);
    if (c.pattern) {
      for (let r = 0; r < R; r++) wHost.set(patternW(c.pattern, N, next), r * N * N);
    } else {
      for (let i = 0; i < wHost.length; i++) wHost[i] = wScale * (2 * next() - 1);
    }
    let W: Tensor<'f32'>;
    let G: Tensor<'f32'>;
    if (c.view) {
      // Views into larger buffers: W at offset 5, G at offset 7, run strides padded by 3 elements.
      const stride = dOut * dIn + 3;
      const padded = (label: string, offset: number) => {
        const t = keep(createTensor(gpu, { rows: 1, cols: offset + R * stride, label }));
        writeTensor(gpu, t, new Float32Array(offset + R * stride).fill(VIEW_SENTINEL));
        return { ...t, batch: R, rows: dOut, cols: dIn, offset, batchStride: R > 1 ? stride : 0 };
      };
      W = padded('W (view)', 5);
      G = padded('G (view)', 7);
      writeTensor(gpu, W, wHost);
    } else {
      W = keep(uploadTensor(gpu, { batch: R, rows: dOut, cols: dIn, label: 'W' }, wHost));
      G = keep(createTensor(gpu, { batch: R, rows: dOut, cols: dIn, label: 'G' }));
    }
    let targets: Parameters<typeof softmaxGrad>[1]['targets'];
    let cpuTargets: Parameters<typeof softmaxGradCpu>[0]['targets'];
    const weights32 = Float32Array.from(task.frequencies);
    if (c.batch) {
      const items = keep(createTensor(gpu, { batch: R, rows: c.batch, cols: 1, dtype: 'u32', label: 'items' }));
      const labels = keep(createTensor(gpu, { batch: R, rows: c.batch, cols: 1, dtype: 'u32', label: 'labels' }));
      const seeds = keep(
        uploadTensor(
          gpu,
          { batch: R, rows: 1, cols: 1, dtype: 'u32', label: 'run seeds' },
          Array.from({ length: R }, (_, r) => 500 + r),
        ),
      );
      await runCommands(gpu, (rec) =>
        sampleMinibatch(rec, {
          seeds,
          thresholds: task.thresholds,
          thresholdCount: task.thresholdCount,
          N,
          noise: c.noise,
          step: 0,
          items,
          labels,
        }),
      );
      targets = { kind: 'minibatch', items, labels };
      cpuTargets = {
        kind: 'minibatch',
        batchSize: c.batch,
        items: await readTensor(gpu, items),
        labels: await readTensor(gpu, labels),
      };
    } else {
      targets = { kind: 'population', weights: task.weights };
      cpuTargets = { kind: 'population', weights: weights32 };
    }
    await runCommands(gpu, async (rec) => {
      result = await softmaxGrad(rec, {
        W,
        G,
        embeddings,
        targets,
        noise: c.noise,
        noiseTarget: c.noiseTarget,
        chunkSize: c.chunkSize,
        queryBlock: c.queryBlock,
        maxBindingBytes: c.maxBindingBytes,
        computeO: c.computeO,
      });
    });
    const outputs = await readTensor(gpu, result!.outputs);
    let o = result!.o ? await readTensor(gpu, result!.o) : undefined;
    if (o && embeddings.kind !== 'dense' && cpuTargets.kind === 'minibatch') {
      // The structural o is per item ([R, N, N]); a draw's o is its item's row.
      const B = cpuTargets.batchSize;
      const rows = new Float32Array(R * B * dOut);
      for (let r = 0; r < R; r++) {
        for (let b = 0; b < B; b++)
          rows.set(
            o.subarray((r * N + cpuTargets.items[r * B + b]) * dOut, (r * N + cpuTargets.items[r * B + b] + 1) * dOut),
            (r * B + b) * dOut,
          );
      }
      o = rows;
    }
    const Q = result!.queries;
    const column = (k: number) => Float32Array.from({ length: R * Q }, (_, i) => outputs[i * 5 + k]);
    const got = {
      lse: column(0),
      loss: column(1),
      zTrue: column(2),
      pTrue: column(3),
      correct: column(4),
      G: await readTensor(gpu, G),
      o,
    };
    // Elements of G's buffer outside the view must be untouched.
    let viewPaddingChanged = 0;
    if (c.view) {
      const all = await readTensor(gpu, { ...G, batch: 1, rows: 1, cols: G.buffer.size / 4, offset: 0, batchStride: 0 });
      const inside = new Uint8Array(all.length);
      for (let r = 0; r < R; r++) inside.fill(1, G.offset + r * G.batchStride, G.offset + r * G.batchStride + dOut * dIn);
      for (let i = 0; i < all.length; i++) if (!inside[i] && all[i] !== VIEW_SENTINEL) viewPaddingChanged++;
    }
    const ref = softmaxGradCpu({ runs: R, N, dIn, dOut, W: wHost, E, Et, targets: cpuTargets, noise: c.noise, noiseTarget: c.noiseTarget });
    const absEtMax = new Float64Array(dOut);
    for (let j = 0; j < N; j++) for (let k = 0; k < dOut; k++) absEtMax[k] = Math.max(absEtMax[k], Math.abs(Et[j * dOut + k]));
    return {
      c,
      ref,
      got,
      absEtMax,
      absE: E.map(Math.abs),
      chunks: result!.chunks,
      memory: result!.memory,
      staged: result!.staged,
      runGroups: result!.runGroups,
      blocks: result!.blocks,
      viewPaddingChanged,
    };
  } finally {
    result?.destroy();
    for (const t of created) t.buffer.destroy();
    task.destroy();
  }
}

const u = F32_UNIT_ROUNDOFF;
const gamma = (n: number) => (n * u) / (1 - n * u);

export interface SoftmaxGradTolerances {
  lse: Float64Array;
  loss: Float64Array;
  zTrue: Float64Array;
  pTrue: Float64Array;
  o: Float64Array;
  G: Float64Array;
  /** Queries whose recovery margin is within the logit error: their flag is not compared. */
  ambiguous: Uint8Array;
}

/**
 * Absolute tolerances per element (first-order error analysis; u = 2^-24, γ_n = n·u/(1 − n·u)):
 *
 * - logits: δz_q = γ_{dIn+dOut+1}·max_j |ẽ_j|ᵀ|W||e_q| (two f32 dot products, h stored in f32);
 *   identity: 0 (the logits are W's entries); coupled-rotation: γ_8·(same magnitude) (9-term sums).
 * - each e_j = exp(z_j − m): relative ≤ ρ_e = 2δz + (3 + 3X)u, X = max exp argument (WGSL exp is
 *   3 + 2|x| ULP, plus the rounding of z − m);
 * - s = Σ e_j: ρ_s = ρ_e + γ_N + chunks·(4 + 2X)u (each chunk's rescale e^{m_old − m_new});
 * - lse = m + log s: δz + ρ_s + 2^-21 (WGSL log near 1) + 3u·log N + 2u·|lse|;
 * - −log p̂_y = log1p(S), S = Σ_{j≠y} e^{z_j − z_y}: ΔS/S ≤ ρ_s + (3 + 2·gap)u + 2δz, so
 *   Δ ≤ S/(1+S)·ΔS/S + 2^-21 (when log(1+S) is used, S ≥ 1/16) + 5u·loss (series / rounding);
 * - noise: (1−ε)·that + ε·(Δlse + δz + γ_N·max|z| + 2u·|lse − z̄|); a sampled wrong label: Δlse + δz;
 * - p_y = e^{−loss_y}: p_y·(Δloss_y + (3 + 2·loss_y)u);
 * - o_qk = Σ_j p_j ẽ_jk: (Σ_j p_j|ẽ_jk|)·(ρ_e + ρ_s + γ_{N+2·chunks} + 4u);
 * - residual w(o − ẽ*): w·(Δo + (4u + ε·γ_{N+1})·max_j|ẽ_jk|) + u·|residual|;
 * - G = Σ_q residual_q e_qᵀ: Σ_q Δresidual_qk |e_ql| + γ_{Q+9}·Σ_q |residual_qk||e_ql|;
 * - underflow: an exp below 2^-126 may flush to zero (SwiftShader flushes subnormals), an absolute
 *   N·2^-126 on S and p_y, N·2^-126·max|ẽ_k| on o.
 */
export function softmaxGradTolerances(r: SoftmaxGradCaseResult): SoftmaxGradTolerances {
  const { c, ref } = r;
  const { N, dIn, dOut } = c;
  const R = c.runs;
  const Q = ref.queries;
  const structural = c.embedding === 'identity' || c.embedding === 'coupled-rotation';
  const chunks = r.chunks;
  const logitGamma = c.embedding === 'identity' ? 0 : c.embedding === 'coupled-rotation' ? gamma(8) : gamma(dIn + dOut + 1);
  const sampled = Boolean(c.batch) && c.noiseTarget === 'sampled';
  const eps = c.noise;
  const t: SoftmaxGradTolerances = {
    lse: new Float64Array(R * Q),
    loss: new Float64Array(R * Q),
    zTrue: new Float64Array(R * Q),
    pTrue: new Float64Array(R * Q),
    o: new Float64Array(R * Q * dOut),
    G: new Float64Array(R * dOut * dIn),
    ambiguous: new Uint8Array(R * Q),
  };
  const residualTol = new Float64Array(R * Q * dOut);
  for (let rq = 0; rq < R * Q; rq++) {
    const dz = logitGamma * ref.logitMagnitude[rq];
    const X = ref.expArgument[rq];
    const rhoE = 2 * dz + (3 + 3 * X) * u;
    const rhoS = rhoE + gamma(N) + (structural ? 0 : chunks * (4 + 2 * X) * u) + u;
    const lse = ref.lse[rq];
    t.lse[rq] = dz + rhoS + 2 ** -21 + 3 * u * Math.log(N) + 2 * u * Math.abs(lse);
    t.zTrue[rq] = dz;
    const pTrue = ref.pTrue[rq];
    const S = (1 - pTrue) / pTrue;
    const gap = Math.max(0, -ref.margin[rq]);
    const nll = Math.log1p(S);
    const relS = rhoS + (3 + 2 * Math.min(gap, 60)) * u + 2 * dz;
    let tolNll = (S / (1 + S)) * relS + (S >= 0.0625 ? 2 ** -21 : 0) + 5 * u * nll;
    if (gap > 60 || !Number.isFinite(S)) tolNll = 2 * dz + relS + 2 ** -21 + 5 * u * gap;
    tolNll += N * 2 ** -126; // flushed-to-zero exp terms (see o below)
    t.pTrue[rq] = pTrue * (tolNll + (3 + 2 * nll) * u) + 2 ** -126;
    let tolLoss: number;
    if (sampled) {
      // The label differs from the item only for noisy draws: then loss = lse − z_label.
      tolLoss = Math.max(tolNll, t.lse[rq] + dz + u * (Math.abs(lse) + Math.abs(ref.loss[rq])));
    } else {
      tolLoss =
        (1 - eps) * tolNll +
        eps * (t.lse[rq] + dz + gamma(N) * ref.logitMagnitude[rq] + 2 * u * Math.abs(ref.loss[rq]) + 2 * u * Math.abs(lse));
    }
    t.loss[rq] = tolLoss;
    t.ambiguous[rq] = Math.abs(ref.margin[rq]) <= 2 * dz + 4 * u * Math.abs(ref.zTrue[rq]) ? 1 : 0;
    const w = ref.weight[rq];
    for (let k = 0; k < dOut; k++) {
      const i = rq * dOut + k;
      // Plus underflow: exp results below 2^-126 may flush to zero (SwiftShader does), ≤ N·2^-126·|ẽ|.
      const tolO = ref.oMagnitude[i] * (rhoE + rhoS + gamma(N + 2 * chunks) + 4 * u) + N * 2 ** -126 * r.absEtMax[k];
      t.o[i] = tolO;
      residualTol[i] = w * (tolO + (4 * u + eps * gamma(N + 1)) * r.absEtMax[k]) + u * Math.abs(ref.residual[i]);
    }
  }
  for (let run = 0; run < R; run++) {
    for (let q = 0; q < Q; q++) {
      const rq = run * Q + q;
      const item = ref.item[rq];
      for (let k = 0; k < dOut; k++) {
        const tol = residualTol[rq * dOut + k];
        const res = Math.abs(ref.residual[rq * dOut + k]);
        if (tol === 0 && res === 0) continue;
        const g0 = run * dOut * dIn + k * dIn;
        for (let l = 0; l < dIn; l++) {
          const e = r.absE[item * dIn + l];
          if (e !== 0) t.G[g0 + l] += tol * e + gamma(Q + 9) * res * e;
        }
      }
    }
  }
  return t;
}

export interface SoftmaxGradComparison {
  lse: Comparison;
  loss: Comparison;
  zTrue: Comparison;
  pTrue: Comparison;
  G: Comparison;
  o?: Comparison;
  /** Queries whose recovered flag differs (ambiguous margins excluded). */
  correctMismatches: number;
}

export function compareSoftmaxGrad(r: SoftmaxGradCaseResult, tol = softmaxGradTolerances(r)): SoftmaxGradComparison {
  const cmp = (got: ArrayLike<number>, want: ArrayLike<number>, atol: Float64Array) => compareToReference(got, want, { atol, rtol: 0 });
  let correctMismatches = 0;
  for (let i = 0; i < r.ref.correct.length; i++) {
    if (!tol.ambiguous[i] && r.got.correct[i] !== r.ref.correct[i]) correctMismatches++;
  }
  return {
    lse: cmp(r.got.lse, r.ref.lse, tol.lse),
    loss: cmp(r.got.loss, r.ref.loss, tol.loss),
    zTrue: cmp(r.got.zTrue, r.ref.zTrue, tol.zTrue),
    pTrue: cmp(r.got.pTrue, r.ref.pTrue, tol.pTrue),
    G: cmp(r.got.G, r.ref.G, tol.G),
    o: r.got.o ? cmp(r.got.o, r.ref.o, tol.o) : undefined,
    correctMismatches,
  };
}

/** `muonlab check softmax-grad`: one row per case. */
export async function checkSoftmaxGrad(gpu: Gpu, options: { scope?: 'full' | 'quick' } = {}): Promise<CheckRow[]> {
  const rows: CheckRow[] = [];
  for (const c of softmaxGradCases(options.scope ?? 'full')) {
    const caseId = softmaxGradCaseId(c);
    try {
      const r = await runSoftmaxGradCase(gpu, c);
      const cmp = compareSoftmaxGrad(r);
      const parts = [cmp.lse, cmp.loss, cmp.zTrue, cmp.pTrue, cmp.G, ...(cmp.o ? [cmp.o] : [])];
      const worst = Math.max(...parts.map((p) => p.worstRatio));
      const maxAbs = Math.max(...parts.map((p) => p.maxAbsError));
      const pass = parts.every((p) => p.pass) && cmp.correctMismatches === 0 && r.viewPaddingChanged === 0;
      rows.push({
        kernel: 'softmax-grad',
        variant: 'online-chunked',
        caseId,
        pass,
        maxAbsError: finiteOrNull(maxAbs),
        worstRatio: finiteOrNull(worst),
        ...(cmp.correctMismatches ? { error: `${cmp.correctMismatches} recovered flags differ` } : {}),
        ...(r.viewPaddingChanged ? { error: `${r.viewPaddingChanged} elements outside G's view changed` } : {}),
      });
    } catch (err) {
      rows.push({
        kernel: 'softmax-grad',
        variant: 'online-chunked',
        caseId,
        pass: false,
        maxAbsError: null,
        worstRatio: null,
        error: (err as Error).message,
      });
    }
  }
  return rows;
}
