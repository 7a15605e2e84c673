/**
 * Per-item recall of several weight matrices at once, on the GPU, over the k most frequent items
 * (docs/math.md §3: "or the first evalItems by frequency rank when N is huge"). The queries are the top-k
 * items by rank; the softmax still runs over all N outputs, so a query counts as recovered only
 * when its true output is the strict argmax among every output. The cost is R·k·N logits instead of
 * R·N², which is what lets batch sweeps evaluate dozens of matrices on a CPU-emulated adapter.
 */
import type { Gpu } from '../gpu/device';
import { createTensor, readTensor, uploadTensor, type Tensor } from '../gpu/tensor';
import { computeSoftmaxGrad, itemOutputs } from '../kernels/softmaxGrad/softmaxGrad';
import type { GpuTask } from '../task/taskGpu';
import { rankOrder } from '../train/rules';

export interface TopItemRecall {
  /** Items evaluated, in rank order (item of rank 0 first). */
  items: Uint32Array;
  /** Per evaluated item, in the order of `items`: 1 where recovered. */
  correct: Uint8Array;
  pCorrect: Float32Array;
  loss: Float32Array;
  /** Σ correct over the evaluated items. */
  capacity: number;
  /** Largest k with the top-k items all recovered (capped by the evaluated count). */
  capacityPrefix: number;
  /** 0-based rank of the least frequent recovered item (−1 when none): near `items.length` means the window may be too small. */
  maxRecoveredRank: number;
}

/** The top-k items of a task by frequency rank (ties by index). */
export function topItems(task: GpuTask, k: number): Uint32Array {
  const N = task.config.N;
  if (!Number.isInteger(k) || k < 1 || k > N) throw new RangeError(`topItems: evalItems must be an integer in [1, N = ${N}], got ${k}`);
  return rankOrder(task.frequencies).slice(0, k);
}

/**
 * Evaluates W_r (host matrices, dOut × dIn row-major each, concatenated over R runs) on the top
 * `evalItems` items by frequency rank. Label noise must be 0 (the label of a query is its item).
 *
 * @example
 * const [muon] = await recallTopItems(gpu, task, [Float32Array.from(w)], 512);
 */
export async function recallTopItems(
  gpu: Gpu,
  task: GpuTask,
  weights: readonly ArrayLike<number>[],
  evalItems: number,
): Promise<TopItemRecall[]> {
  const { dIn, dOut, noise } = task.config;
  if (noise !== 0) throw new RangeError(`recallTopItems: task.noise must be 0 (labels are the items themselves), got ${noise}`);
  const R = weights.length;
  if (R < 1) throw new RangeError('recallTopItems: no matrices to evaluate');
  weights.forEach((w, r) => {
    if (w.length !== dOut * dIn)
      throw new RangeError(`recallTopItems: matrix ${r} has ${w.length} values, expected dOut·dIn = ${dOut}·${dIn}`);
  });
  const items = topItems(task, evalItems);
  const K = items.length;
  const host = new Float32Array(R * dOut * dIn);
  weights.forEach((w, r) => host.set(Float32Array.from(w), r * dOut * dIn));
  const created: Tensor[] = [];
  try {
    const W = uploadTensor(gpu, { batch: R, rows: dOut, cols: dIn, label: 'top-item recall W' }, host);
    created.push(W);
    const G = createTensor(gpu, { batch: R, rows: dOut, cols: dIn, label: 'top-item recall G (unused)' });
    created.push(G);
    const queries = uploadTensor(gpu, { rows: K, cols: 1, dtype: 'u32', label: 'top items' }, items);
    created.push(queries);
    const result = await computeSoftmaxGrad(
      gpu,
      {
        W,
        G,
        embeddings: task.embeddings,
        targets: { kind: 'minibatch', items: queries, labels: queries },
        noise: 0,
        noiseTarget: 'sampled',
      },
      { checkFinite: false },
    );
    try {
      const out = await readTensor(gpu, result.outputs);
      return weights.map((_w, r) => {
        const { correct, pCorrect, loss } = itemOutputs(out, r, K);
        let capacity = 0;
        let prefix = -1;
        let maxRank = -1;
        for (let q = 0; q < K; q++) {
          if (correct[q]) {
            capacity++;
            maxRank = q;
          } else if (prefix < 0) prefix = q;
        }
        return { items, correct, pCorrect, loss, capacity, capacityPrefix: prefix < 0 ? K : prefix, maxRecoveredRank: maxRank };
      });
    } finally {
      result.destroy();
    }
  } finally {
    for (const t of created) t.buffer.destroy();
  }
}
