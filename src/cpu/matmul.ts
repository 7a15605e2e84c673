/**
 * Float64 reference for `C = α·op(A)·op(B) + β·C` (src/kernels/matmul/matmul.ts), written for clarity:
 * three loops per matrix of the batch. β = 0 does not read C, as on the GPU.
 */
import { hostIndex, type HostTensor } from './hostTensor';
import { matmulShape, type MatmulOperands } from '../layout/matmulShape';

/**
 * @example
 * matmulCpu({ a, b, c, transB: true, alpha: 2 }); // c ← 2·a·bᵀ
 */
export function matmulCpu(args: MatmulOperands<HostTensor>): void {
  // Strides from the shape rules, not the operands: a batch-1 operand is shared (stride 0) even
  // when it is a one-run view of a batched tensor, exactly as on the GPU.
  const { M, N, K, batch, batchStrideA, batchStrideB, batchStrideC } = matmulShape(args);
  const a = { ...args.a, batchStride: batchStrideA };
  const b = { ...args.b, batchStride: batchStrideB };
  const c = { ...args.c, batchStride: batchStrideC };
  const alpha = args.alpha ?? 1;
  const beta = args.beta ?? 0;
  const opA = (r: number, m: number, k: number) => a.data[args.transA ? hostIndex(a, r, k, m) : hostIndex(a, r, m, k)];
  const opB = (r: number, k: number, n: number) => b.data[args.transB ? hostIndex(b, r, n, k) : hostIndex(b, r, k, n)];
  for (let r = 0; r < batch; r++) {
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let dot = 0;
        for (let k = 0; k < K; k++) dot += opA(r, m, k) * opB(r, k, n);
        const i = hostIndex(c, r, m, n);
        c.data[i] = alpha * dot + (beta === 0 ? 0 : beta * c.data[i]);
      }
    }
  }
}
