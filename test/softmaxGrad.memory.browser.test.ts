// Memory of the softmax cross-entropy gradient (src/kernels/softmaxGrad/softmaxGrad.ts) at N = 5,000 and
// 20,000 (d = 32), both submitted and run: its own file because N = 20,000 takes about a minute on
// SwiftShader (2·20,000²·32 multiply-adds in each of the two block products plus 4e8 exps).
import { describe, expect, test } from 'vitest';
import { createTensor, readTensor, uploadTensor } from '../src/gpu/tensor';
import { computeSoftmaxGrad, createSoftmaxGradWorkspace } from '../src/kernels/softmaxGrad/softmaxGrad';
import { createGpuTask } from '../src/task/taskGpu';
import { gpuOrSkip, withErrorScopes } from './gpuFixture';

describe('memory', () => {
  // Peak allocated GPU bytes (operands + every buffer the call uses, counted as it takes them, + 256
  // bytes per dispatch for its uniform buffer) of a population gradient: linear in N (ratio ≤ 4.5
  // for 4× N) and under 2·(4N·d + 2d²)·4·R bytes — an N×N logits buffer alone would be 1.6 GB at
  // N = 20,000. Both sizes are submitted and run to completion (N = 20,000 is 2.6e10 multiply-adds
  // in the two block products: the longest test of this file on SwiftShader); the outputs are read
  // back and checked (finite lse, loss ≥ 0 up to rounding, probabilities in [0, 1], Σ_q p_q·loss_q
  // between 0 and lse's maximum), and the counted buffers are compared with what the workspace
  // really holds.
  test('population gradient at N = 5,000 and 20,000 (d = 32): linear, under the bound', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const d = 32;
    const R = 1;
    const peaks: number[] = [];
    for (const N of [5000, 20_000]) {
      const task = await createGpuTask(gpu, {
        N,
        dIn: d,
        dOut: d,
        embedding: 'gaussian',
        frequency: { kind: 'power', powerExponent: 1.5 },
        taskSeed: 3,
      });
      const W = uploadTensor(
        gpu,
        { batch: R, rows: d, cols: d, label: 'W' },
        Float32Array.from({ length: R * d * d }, (_, i) => Math.sin(i)),
      );
      const G = createTensor(gpu, { batch: R, rows: d, cols: d, label: 'G' });
      const workspace = createSoftmaxGradWorkspace(gpu);
      try {
        const args = {
          W,
          G,
          embeddings: task.embeddings,
          targets: { kind: 'population' as const, weights: task.weights },
          noise: 0,
          noiseTarget: 'expected' as const,
          workspace,
        };
        const r = await withErrorScopes(gpu, () => computeSoftmaxGrad(gpu, args));
        const out = await readTensor(gpu, r.outputs);
        const g = await readTensor(gpu, G);
        expect(g.every(Number.isFinite), 'G finite').toBe(true);
        let expectedLoss = 0;
        for (let q = 0; q < N; q++) {
          const [lse, loss, , pTrue] = out.subarray(q * 5, q * 5 + 4);
          expect(Number.isFinite(lse) && Number.isFinite(loss), `query ${q}`).toBe(true);
          expect(loss, `loss of query ${q}`).toBeGreaterThanOrEqual(-1e-6);
          expect(pTrue >= 0 && pTrue <= 1, `p_y of query ${q}`).toBe(true);
          expectedLoss += task.frequencies[q] * loss;
        }
        expect(expectedLoss).toBeGreaterThan(0);
        const memory = r.memory;
        // What was counted is what the workspace holds (nothing created outside the count).
        expect(Object.values(memory.buffers).reduce((a, b) => a + b, 0)).toBe(workspace.bytes);
        const bound = 2 * (4 * N * d + 2 * d * d) * 4 * R;
        expect(memory.peakBytes, `N = ${N}: ${JSON.stringify(memory.buffers)}`).toBeLessThan(bound);
        for (const [label, bytes] of Object.entries(memory.buffers))
          expect(bytes, `${label} is not N×N-sized`).toBeLessThan((N * N * 4) / 8);
        peaks.push(memory.peakBytes);
        console.info(
          `softmaxGrad memory N = ${N}, d = ${d}: peak ${memory.peakBytes} bytes (work ${memory.createdBytes}, operands ${memory.operandBytes}), bound ${bound}, ${r.chunks} chunks × ${r.blocks} blocks`,
        );
      } finally {
        workspace.dispose();
        W.buffer.destroy();
        G.buffer.destroy();
        task.destroy();
      }
    }
    expect(peaks[1] / peaks[0]).toBeLessThanOrEqual(4.5);
  }, 240_000);
});
